// Package webhookapi is the external webhook API of oss (docs/webhook-api.md):
// the endpoints the bank's systems call, each enabled and protected with
// HTTP Basic auth independently, with idempotent retries; and, in
// development, the read-only API of the development inbox.
package webhookapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"esign/internal/esign"
	"esign/internal/httpkit"
	"esign/internal/notify"
	"esign/internal/offers"
)

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI 3.1 document of the API.
func OpenAPI() []byte { return bytes.Clone(openAPI) }

// IdempotencyStore keeps the first result of a request made with an
// Idempotency-Key (offers.Service implements it).
type IdempotencyStore interface {
	BeginIdempotent(ctx context.Context, endpoint, key, requestHash string) (offers.Idempotent, bool, error)
	CompleteIdempotent(ctx context.Context, endpoint, key string, status int, response []byte) error
	ReleaseIdempotent(ctx context.Context, endpoint, key string) error
}

// Endpoint is one enabled endpoint and its Basic-auth credentials.
type Endpoint struct {
	Path     string // one of Paths()
	User     string
	Password string
}

// Paths lists the API's endpoints in the order of the spec.
func Paths() []string {
	return []string{"/offer/upload", "/offer/revoke", "/contract/upload", "/signature/verify", "/customer/bootstrap",
		"/customer/send-association-token", "/customer/approve", "/app/notification"}
}

// Config is what the handler needs from the configuration.
type Config struct {
	// Endpoints are the enabled endpoints; every other path answers 404.
	Endpoints    []Endpoint
	MaxBodyBytes int64
	// AuthFailures failed Basic-auth attempts from one client address per
	// AuthWindow; beyond it the address gets 429 until the window slides.
	AuthFailures int
	AuthWindow   time.Duration
	// Failures counts the failed authentications; share it between
	// replicas (notify.RedisLimiter) so that the limit is the system's,
	// not each process's. Default: an in-memory counter of this process.
	Failures FailureCounter
	// Audit, when set, records each failed authentication and the
	// refusal that starts when an address passes AuthFailures (security
	// events of the audit chain, docs/evidence.md).
	Audit AuditLog
	Now   func() time.Time // default time.Now
	// MaxConcurrentUploads caps the uploads (offer and contract uploads,
	// signature verification) received at once; one more gets 503 with
	// Retry-After. Default 8.
	MaxConcurrentUploads int
	// DevInbox, when set, serves GET /dev/inbox: the development inbox,
	// read only, behind its own Basic-auth credentials. Set it only
	// where notifications go to the inbox (development, CI).
	DevInbox *DevInbox
}

// FailureCounter records failures per key in a sliding window (Allow) and
// says whether a key is over its limit without recording (Check):
// notify.MemoryLimiter and notify.RedisLimiter.
type FailureCounter interface {
	Allow(ctx context.Context, key string, l notify.Limit) (notify.Decision, error)
	Check(ctx context.Context, key string, l notify.Limit) (notify.Decision, error)
}

var (
	_ FailureCounter = (*notify.MemoryLimiter)(nil)
	_ FailureCounter = (*notify.RedisLimiter)(nil)
)

type handler struct {
	svc     Service
	idem    IdempotencyStore
	log     *slog.Logger
	cfg     Config
	mux     *http.ServeMux
	uploads chan struct{} // a slot per upload being received
}

// maxSmallBody caps the body of the endpoints that take no file.
const maxSmallBody = 1 << 20

// uploadRetryAfter is what a refused upload is told to wait.
const uploadRetryAfter = 2 * time.Second

// New returns the handler. Endpoints that are disabled answer 404 like
// unknown paths.
func New(svc Service, idem IdempotencyStore, log *slog.Logger, cfg Config) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Failures == nil {
		cfg.Failures = notify.NewMemoryLimiter(cfg.Now)
	}
	if cfg.MaxConcurrentUploads <= 0 {
		cfg.MaxConcurrentUploads = 8
	}
	h := &handler{svc: svc, idem: idem, log: log, cfg: cfg, mux: http.NewServeMux(),
		uploads: make(chan struct{}, cfg.MaxConcurrentUploads)}
	routes := map[string]endpointFunc{
		"/offer/upload":                    h.offerUpload,
		"/offer/revoke":                    small(h.offerRevoke),
		"/contract/upload":                 h.contractUpload,
		"/signature/verify":                h.signatureVerify,
		"/customer/bootstrap":              small(h.customerBootstrap),
		"/customer/send-association-token": small(h.customerAssociation),
		"/customer/approve":                small(h.customerApprove),
		"/app/notification":                small(h.appNotification),
	}
	uploads := map[string]bool{"/offer/upload": true, "/contract/upload": true, "/signature/verify": true}
	for _, e := range cfg.Endpoints {
		if fn := routes[e.Path]; fn != nil && e.User != "" && e.Password != "" {
			h.mux.Handle("POST "+e.Path, h.endpoint(e.Path, e.User, e.Password, uploads[e.Path], fn))
		}
	}
	if in := cfg.DevInbox; in != nil && in.Store != nil && in.User != "" && in.Password != "" {
		h.mux.Handle("GET "+DevInboxPath, h.authorized(in.User, in.Password, devInbox(log, in.Store)))
	}
	h.mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI)
	})
	h.mux.Handle("/", httpkit.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		return esign.E("webhookapi", esign.NotFound, "no such endpoint")
	}))
	return h.mux
}

// endpointFunc reads the request body as it arrives (files go to spools)
// and returns what runs the request once its idempotency is settled, or
// the refusal of the body.
type endpointFunc func(ctx context.Context, r *http.Request, body io.Reader, spool spoolFunc) (runFunc, error)

// runFunc performs a read request; it returns the status and the JSON
// body of the success.
type runFunc func(ctx context.Context) (int, any, error)

// small adapts an endpoint that takes a small body in memory.
func small(fn func(ctx context.Context, r *http.Request, body []byte) (int, any, error)) endpointFunc {
	return func(_ context.Context, r *http.Request, body io.Reader, _ spoolFunc) (runFunc, error) {
		b, err := io.ReadAll(body)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) (int, any, error) { return fn(ctx, r, b) }, nil
	}
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// digest hashes a credential so that the comparison takes the same time
// whatever its length.
func digest(s string) []byte {
	d := sha256.Sum256([]byte(s))
	return d[:]
}

func (h *handler) endpoint(path, user, pw string, upload bool, fn endpointFunc) http.Handler {
	limit := h.cfg.MaxBodyBytes
	if !upload {
		limit = min(limit, maxSmallBody)
	}
	return h.authorized(user, pw, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if upload {
			select {
			case h.uploads <- struct{}{}:
				defer func() { <-h.uploads }()
			default:
				httpkit.WriteError(w, r, h.log, &esign.Error{Op: "webhookapi.upload", Kind: esign.Unavailable, Code: "busy",
					Msg: "too many uploads at once; retry later", RetryAfter: uploadRetryAfter})
				return
			}
		}
		ctx := r.Context()
		spools := &spoolSet{start: func() (Spool, error) {
			p, err := h.svc.Spool(ctx)
			if err != nil {
				return nil, err
			}
			return p, nil
		}}
		defer spools.discard()
		hash := sha256.New()
		hash.Write([]byte(r.Header.Get("Content-Type") + "\n"))
		body := &readErr{r: http.MaxBytesReader(w, r.Body, limit)}
		run, perr := fn(ctx, r, io.TeeReader(body, hash), spools.new)
		// The rest of the body (after a refusal, an epilogue) counts to
		// the limit and to the request's hash.
		io.Copy(hash, body)
		if body.err != nil {
			httpkit.WriteError(w, r, h.log, bodyError(body.err, limit))
			return
		}
		if run == nil && perr == nil {
			perr = esign.E("webhookapi.endpoint", esign.Internal, "the endpoint returned nothing to run")
		}
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			h.run(r, run, perr).writeTo(w)
			return
		}
		h.idempotent(w, r, path, key, hex.EncodeToString(hash.Sum(nil)), run, perr)
	}))
}

// spoolSet starts spools and discards, at the end of the request, every
// one the service did not commit.
type spoolSet struct {
	start  spoolFunc
	spools []Spool
}

func (s *spoolSet) new() (Spool, error) {
	sp, err := s.start()
	if err != nil {
		return nil, err
	}
	s.spools = append(s.spools, sp)
	return sp, nil
}

func (s *spoolSet) discard() {
	for _, sp := range s.spools {
		sp.Discard()
	}
}

// readErr keeps the first error of reading the body other than io.EOF.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

// authorized passes requests with the Basic-auth credentials user:pw to
// next; failed attempts count per client address, and an address over the
// limit gets 429 even with the right credentials.
func (h *handler) authorized(user, pw string, next http.Handler) http.Handler {
	wantUser, wantPW := digest(user), digest(pw)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		failKey, limit := "auth:"+clientIP(r), notify.Limit{N: h.cfg.AuthFailures, Per: h.cfg.AuthWindow}
		// Unavailable counter: refuse (a credential check is never
		// unlimited).
		d, err := h.cfg.Failures.Check(r.Context(), failKey, limit)
		if err != nil {
			httpkit.WriteError(w, r, h.log, esign.E("webhookapi.auth", esign.Unavailable, "the failure counter is unavailable", err))
			return
		}
		if !d.Allowed {
			httpkit.WriteError(w, r, h.log, &esign.Error{Op: "webhookapi.auth", Kind: esign.TooMany, Code: "too_many_failures",
				Msg: "too many failed authentications from this address; try again later", RetryAfter: d.RetryAfter})
			return
		}
		u, p, ok := r.BasicAuth()
		okUser := subtle.ConstantTimeCompare(digest(u), wantUser)
		okPW := subtle.ConstantTimeCompare(digest(p), wantPW)
		if !ok || okUser&okPW != 1 {
			if _, err := h.cfg.Failures.Allow(r.Context(), failKey, limit); err != nil {
				h.log.Warn("webhook: record an authentication failure", "err", err)
			}
			h.audit(r, "api.auth_failed", "")
			if h.cfg.Audit != nil {
				// This failure used up the address's allowance: it is
				// refused from now on (a lockout, for the audit chain).
				if d, err := h.cfg.Failures.Check(r.Context(), failKey, limit); err == nil && !d.Allowed {
					h.audit(r, "api.auth_locked", "")
				}
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="esign webhook", charset="UTF-8"`)
			httpkit.WriteError(w, r, h.log, esign.WithCode("webhookapi.auth", esign.Unauthorized, "unauthorized",
				"missing or wrong credentials"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// AuditLog appends to the audit trail (sqlstore.DB).
type AuditLog interface {
	CreateAuditLog(ctx context.Context, a *esign.AuditLog) error
}

// audit records a security event of the address; a failure to record is
// logged, and the request is answered as it would be anyway.
func (h *handler) audit(r *http.Request, action, detail string) {
	if h.cfg.Audit == nil {
		return
	}
	ip := clientIP(r)
	if len(ip) > 64 {
		ip = ip[:64]
	}
	if err := h.cfg.Audit.CreateAuditLog(r.Context(), &esign.AuditLog{ActorType: "api", Action: action,
		ObjectType: "endpoint", ObjectID: clip(r.URL.Path, 64), Detail: detail, IP: ip}); err != nil {
		h.log.Warn("webhook: audit a failed authentication", "err", err)
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// bodyError is the answer to a body that could not be read.
func bodyError(err error, limit int64) error {
	const op = "webhookapi.readBody"
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return esign.WithCode(op, esign.Invalid, "body_too_large", "the request body is larger than "+strconv.FormatInt(limit, 10)+" bytes")
	}
	return esign.E(op, esign.Invalid, "cannot read the request body", err)
}

// idempotent runs fn once per (endpoint, key): a retry with the same body
// gets the first response again, a retry with another body 422, and a
// retry while the first still runs 409.
func (h *handler) idempotent(w http.ResponseWriter, r *http.Request, path, key, hash string, run runFunc, perr error) {
	const op = "webhookapi.idempotent"
	ctx := r.Context()
	prev, first, err := h.idem.BeginIdempotent(ctx, path, key, hash)
	if err != nil {
		httpkit.WriteError(w, r, h.log, err)
		return
	}
	if !first {
		switch {
		case prev.RequestHash != hash:
			httpkit.WriteError(w, r, h.log, esign.WithCode(op, esign.Conflict, "idempotency_key_reused",
				"the Idempotency-Key was used for a different request"))
		case prev.Status == 0:
			httpkit.WriteError(w, r, h.log, esign.WithCode(op, esign.Conflict, "request_in_progress",
				"the first request with this Idempotency-Key is still running; retry later"))
		default:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(prev.Status)
			w.Write(prev.Response)
		}
		return
	}
	rec := h.run(r, run, perr)
	// A server-side failure may go away: the retry runs again. Everything
	// else (success, a refused request) is the answer to every retry.
	sctx := context.WithoutCancel(ctx)
	if rec.status >= 500 {
		if err := h.idem.ReleaseIdempotent(sctx, path, key); err != nil {
			h.log.Error("release idempotency key", "endpoint", path, "err", err)
		}
	} else if err := h.idem.CompleteIdempotent(sctx, path, key, rec.status, rec.body.Bytes()); err != nil {
		h.log.Error("store idempotent response", "endpoint", path, "err", err)
	}
	rec.writeTo(w)
}

// run calls run, unless the body was refused (perr), and records the
// response.
func (h *handler) run(r *http.Request, run runFunc, perr error) *recorder {
	rec := &recorder{header: http.Header{}}
	if perr != nil {
		httpkit.WriteError(rec, r, h.log, perr)
		return rec
	}
	status, v, err := run(r.Context())
	if err != nil {
		httpkit.WriteError(rec, r, h.log, err)
		return rec
	}
	httpkit.WriteJSON(rec, status, v)
	return rec
}

// recorder buffers a response.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *recorder) Header() http.Header { return c.header }
func (c *recorder) WriteHeader(s int) {
	if c.status == 0 {
		c.status = s
	}
}
func (c *recorder) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(p)
}

func (c *recorder) writeTo(w http.ResponseWriter) {
	for k, v := range c.header {
		w.Header()[k] = v
	}
	w.WriteHeader(c.status)
	w.Write(c.body.Bytes())
}
