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
	Now      func() time.Time // default time.Now
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
	svc  Service
	idem IdempotencyStore
	log  *slog.Logger
	cfg  Config
	mux  *http.ServeMux
}

// New returns the handler. Endpoints that are disabled answer 404 like
// unknown paths.
func New(svc Service, idem IdempotencyStore, log *slog.Logger, cfg Config) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Failures == nil {
		cfg.Failures = notify.NewMemoryLimiter(cfg.Now)
	}
	h := &handler{svc: svc, idem: idem, log: log, cfg: cfg, mux: http.NewServeMux()}
	routes := map[string]endpointFunc{
		"/offer/upload":                    h.offerUpload,
		"/offer/revoke":                    h.offerRevoke,
		"/contract/upload":                 h.contractUpload,
		"/signature/verify":                h.signatureVerify,
		"/customer/bootstrap":              h.customerBootstrap,
		"/customer/send-association-token": h.customerAssociation,
		"/customer/approve":                h.customerApprove,
		"/app/notification":                h.appNotification,
	}
	for _, e := range cfg.Endpoints {
		if fn := routes[e.Path]; fn != nil && e.User != "" && e.Password != "" {
			h.mux.Handle("POST "+e.Path, h.endpoint(e.Path, e.User, e.Password, fn))
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

// endpointFunc handles one request whose body is read; it returns the
// status and the JSON body of the success.
type endpointFunc func(ctx context.Context, r *http.Request, body []byte) (int, any, error)

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

func (h *handler) endpoint(path, user, pw string, fn endpointFunc) http.Handler {
	return h.authorized(user, pw, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(w, r, h.cfg.MaxBodyBytes)
		if err != nil {
			httpkit.WriteError(w, r, h.log, err)
			return
		}
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			rec := h.run(r, body, fn)
			rec.writeTo(w)
			return
		}
		h.idempotent(w, r, path, key, body, fn)
	}))
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
			w.Header().Set("Retry-After", strconv.Itoa(int(d.RetryAfter.Seconds())+1))
			httpkit.WriteError(w, r, h.log, esign.WithCode("webhookapi.auth", esign.TooMany, "too_many_failures",
				"too many failed authentications from this address; try again later"))
			return
		}
		u, p, ok := r.BasicAuth()
		okUser := subtle.ConstantTimeCompare(digest(u), wantUser)
		okPW := subtle.ConstantTimeCompare(digest(p), wantPW)
		if !ok || okUser&okPW != 1 {
			if _, err := h.cfg.Failures.Allow(r.Context(), failKey, limit); err != nil {
				h.log.Warn("webhook: record an authentication failure", "err", err)
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="esign webhook", charset="UTF-8"`)
			httpkit.WriteError(w, r, h.log, esign.WithCode("webhookapi.auth", esign.Unauthorized, "unauthorized",
				"missing or wrong credentials"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	const op = "webhookapi.readBody"
	var buf bytes.Buffer
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, esign.WithCode(op, esign.Invalid, "body_too_large", "the request body is larger than "+strconv.FormatInt(limit, 10)+" bytes")
	}
	if err != nil {
		return nil, esign.E(op, esign.Invalid, "cannot read the request body", err)
	}
	return buf.Bytes(), nil
}

// idempotent runs fn once per (endpoint, key): a retry with the same body
// gets the first response again, a retry with another body 422, and a
// retry while the first still runs 409.
func (h *handler) idempotent(w http.ResponseWriter, r *http.Request, path, key string, body []byte, fn endpointFunc) {
	const op = "webhookapi.idempotent"
	sum := sha256.Sum256(append([]byte(r.Header.Get("Content-Type")+"\n"), body...))
	hash := hex.EncodeToString(sum[:])
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
	rec := h.run(r, body, fn)
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

// run calls fn and records its response.
func (h *handler) run(r *http.Request, body []byte, fn endpointFunc) *recorder {
	rec := &recorder{header: http.Header{}}
	status, v, err := fn(r.Context(), r, body)
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
