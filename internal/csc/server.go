package csc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ServerCredential is one credential the server signs with.
type ServerCredential struct {
	ID          string
	Key         crypto.Signer       // a .p12's key, a PKCS#11 key: anything that signs a digest
	Chain       []*x509.Certificate // leaf first
	SCAL        int                 // 1 (implicit authorisation, the default) or 2
	PIN         string              // SCAL 2: the value of its "PIN" Password object
	Disabled    bool
	Description string
}

// ServerClient is an OAuth 2.0 client (a service account) of the server.
type ServerClient struct {
	ID     string
	Secret string
}

// ServerConfig configures a Server.
type ServerConfig struct {
	Name        string // default "esign CSC server"
	Credentials []ServerCredential
	Clients     []ServerClient
	// RateLimit requests of one client (by client id) per RatePer are
	// answered; more get 429 with Retry-After. 0: no limit.
	RateLimit int
	RatePer   time.Duration    // default 1 s
	TokenTTL  time.Duration    // default 1 h
	SADTTL    time.Duration    // default 5 min
	Now       func() time.Time // default time.Now
	Log       *slog.Logger
	// WrongDigest makes signHash sign another digest than the one asked:
	// a test mode for the client's check of what comes back.
	WrongDigest bool
}

// Server is a CSC API v2 service (the subset of the package comment).
type Server struct {
	cfg ServerConfig

	mu      sync.Mutex
	creds   map[string]*ServerCredential
	clients map[string][32]byte // id → SHA-256 of the secret
	tokens  map[[32]byte]grant  // SHA-256 of the token → grant
	sads    map[[32]byte]*sad
	windows map[string]*window
	fails   map[string]*window // failed secret or PIN checks per client id or credential
}

// maxFailures failed client-secret or PIN checks per key and minute are
// allowed whatever RateLimit says; more are answered 429.
const maxFailures = 10

type grant struct {
	client  string
	expires time.Time
}

type sad struct {
	client, credential string
	hashes             map[string]bool // SCAL 2: the hashes it authorises
	left               int
	expires            time.Time
}

type window struct {
	start time.Time
	n     int
}

// NewServer checks cfg.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Name == "" {
		cfg.Name = "esign CSC server"
	}
	if cfg.RatePer <= 0 {
		cfg.RatePer = time.Second
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.SADTTL <= 0 {
		cfg.SADTTL = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, creds: map[string]*ServerCredential{}, clients: map[string][32]byte{},
		tokens: map[[32]byte]grant{}, sads: map[[32]byte]*sad{}, windows: map[string]*window{}, fails: map[string]*window{}}
	for _, c := range cfg.Credentials {
		if c.ID == "" || c.Key == nil || len(c.Chain) == 0 {
			return nil, fmt.Errorf("csc: credential %q needs an id, a key and a certificate", c.ID)
		}
		if c.SCAL == 0 {
			c.SCAL = 1
		}
		if c.SCAL != 1 && c.SCAL != 2 || (c.SCAL == 2 && c.PIN == "") {
			return nil, fmt.Errorf("csc: credential %q: SCAL must be 1, or 2 with a PIN", c.ID)
		}
		switch c.Key.Public().(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey:
		default:
			return nil, fmt.Errorf("csc: credential %q: the key is neither RSA nor ECDSA", c.ID)
		}
		c := c
		s.creds[c.ID] = &c
	}
	for _, c := range cfg.Clients {
		if c.ID == "" || len(c.Secret) < 16 {
			return nil, fmt.Errorf("csc: a client needs an id and a secret of at least 16 characters")
		}
		s.clients[c.ID] = sha256.Sum256([]byte(c.Secret))
	}
	if len(s.creds) == 0 || len(s.clients) == 0 {
		return nil, fmt.Errorf("csc: the server needs a credential and a client")
	}
	return s, nil
}

// SetEnabled enables or disables a credential (key/status).
func (s *Server) SetEnabled(credentialID string, enabled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.creds[credentialID]
	if !ok {
		return fmt.Errorf("csc: no credential %q", credentialID)
	}
	c.Disabled = !enabled
	return nil
}

// SetWrongDigest switches the wrong-digest test mode.
func (s *Server) SetWrongDigest(on bool) {
	s.mu.Lock()
	s.cfg.WrongDigest = on
	s.mu.Unlock()
}

// Handler serves the API under /csc/v2/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /csc/v2/info", s.handle(s.info, false))
	mux.HandleFunc("POST /csc/v2/oauth2/token", s.token)
	mux.HandleFunc("POST /csc/v2/credentials/list", s.handle(s.list, true))
	mux.HandleFunc("POST /csc/v2/credentials/info", s.handle(s.credInfo, true))
	mux.HandleFunc("POST /csc/v2/credentials/authorize", s.handle(s.authorize, true))
	mux.HandleFunc("POST /csc/v2/signatures/signHash", s.handle(s.signHash, true))
	return mux
}

// apiError is an error answer.
type apiError struct {
	status int
	code   string
	desc   string
	retry  time.Duration
}

func (e *apiError) Error() string { return e.code + ": " + e.desc }

func badRequest(desc string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: ErrInvalidRequest, desc: desc}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, e *apiError) {
	if e.retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.retry+time.Second-1)/time.Second)))
	}
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	writeJSON(w, e.status, ErrorResponse{Error: e.code, Description: e.desc})
}

// handle decodes the JSON body and, when auth, checks the bearer token
// and the client's rate.
func (s *Server) handle(fn func(client string, body []byte) (any, *apiError), auth bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeErr(w, badRequest("the request body is too large or unreadable"))
			return
		}
		if len(body) == 0 {
			body = []byte("{}")
		}
		client := ""
		if auth {
			var e *apiError
			if client, e = s.bearer(r); e != nil {
				writeErr(w, e)
				return
			}
			if e := s.rate(client); e != nil {
				writeErr(w, e)
				return
			}
		}
		out, e := fn(client, body)
		if e != nil {
			writeErr(w, e)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

func (s *Server) bearer(r *http.Request) (string, *apiError) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return "", &apiError{status: http.StatusUnauthorized, code: ErrInvalidToken, desc: "a bearer access token is required"}
	}
	sum := sha256.Sum256([]byte(tok))
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.tokens[sum]
	if !ok || !s.cfg.Now().Before(g.expires) {
		delete(s.tokens, sum)
		return "", &apiError{status: http.StatusUnauthorized, code: ErrInvalidToken, desc: "the access token is invalid or expired"}
	}
	return g.client, nil
}

// rate counts one request of client in its window.
func (s *Server) rate(client string) *apiError {
	if s.cfg.RateLimit <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	w := s.windows[client]
	if w == nil || now.Sub(w.start) >= s.cfg.RatePer {
		w = &window{start: now}
		s.windows[client] = w
	}
	if w.n >= s.cfg.RateLimit {
		return &apiError{status: http.StatusTooManyRequests, code: ErrRateLimited, desc: "too many requests; retry later", retry: w.start.Add(s.cfg.RatePer).Sub(now)}
	}
	w.n++
	return nil
}

// guessing answers 429 while key has had maxFailures failed checks this
// minute; failed counts one. Called with s.mu held.
func (s *Server) guessing(key string, failed bool) *apiError {
	now := s.cfg.Now()
	w := s.fails[key]
	if w == nil || now.Sub(w.start) >= time.Minute {
		if len(s.fails) > 10000 {
			clear(s.fails)
		}
		w = &window{start: now}
		s.fails[key] = w
	}
	if failed {
		w.n++
		return nil
	}
	if w.n >= maxFailures {
		return &apiError{status: http.StatusTooManyRequests, code: ErrRateLimited, desc: "too many failed attempts; retry later", retry: w.start.Add(time.Minute).Sub(now)}
	}
	return nil
}

// token is oauth2/token with grant_type=client_credentials; the client
// authenticates with HTTP Basic or client_id and client_secret in the
// form (RFC 6749 2.3.1). A JSON body is accepted too (CSC v1 style).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	var grantType, id, secret string
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var in struct {
			GrantType    string `json:"grant_type"`
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		}
		if json.NewDecoder(r.Body).Decode(&in) != nil {
			writeErr(w, badRequest("the request body is not JSON"))
			return
		}
		grantType, id, secret = in.GrantType, in.ClientID, in.ClientSecret
	} else {
		if err := r.ParseForm(); err != nil {
			writeErr(w, badRequest("the request body is not a form"))
			return
		}
		grantType, id, secret = r.PostForm.Get("grant_type"), r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if u, p, ok := r.BasicAuth(); ok {
		var err1, err2 error
		id, err1 = url.QueryUnescape(u)
		secret, err2 = url.QueryUnescape(p)
		if err1 != nil || err2 != nil {
			writeErr(w, &apiError{status: http.StatusUnauthorized, code: ErrInvalidClient, desc: "client authentication failed"})
			return
		}
	}
	if grantType != "client_credentials" {
		writeErr(w, &apiError{status: http.StatusBadRequest, code: ErrUnsupported, desc: "only grant_type=client_credentials is supported"})
		return
	}
	// Credential checks are rate-limited per client id; unknown ids share
	// one budget so that guessing them costs the same.
	s.mu.Lock()
	want, known := s.clients[id]
	s.mu.Unlock()
	key := id
	if !known {
		key = "\x00unknown"
	}
	if e := s.rate(key); e != nil {
		writeErr(w, e)
		return
	}
	s.mu.Lock()
	e := s.guessing("client:"+key, false)
	s.mu.Unlock()
	if e != nil {
		writeErr(w, e)
		return
	}
	got := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !known {
		s.mu.Lock()
		s.guessing("client:"+key, true)
		s.mu.Unlock()
		s.cfg.Log.Warn("csc: client authentication failed", "client_id", id)
		writeErr(w, &apiError{status: http.StatusUnauthorized, code: ErrInvalidClient, desc: "client authentication failed"})
		return
	}
	tok := rand.Text() + rand.Text()
	now := s.cfg.Now()
	s.mu.Lock()
	for k, g := range s.tokens {
		if !now.Before(g.expires) {
			delete(s.tokens, k)
		}
	}
	s.tokens[sha256.Sum256([]byte(tok))] = grant{client: id, expires: now.Add(s.cfg.TokenTTL)}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, TokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int64(s.cfg.TokenTTL / time.Second)})
}

func (s *Server) info(string, []byte) (any, *apiError) {
	return InfoResponse{
		Specs: Spec, Name: s.cfg.Name, Logo: "", Region: "HU", Lang: "en-US",
		Description: "A CSC API v2 service for development and tests",
		AuthType:    []string{"oauth2client"},
		Methods:     []string{"info", "oauth2/token", "credentials/list", "credentials/info", "credentials/authorize", "signatures/signHash"},
		SignAlgorithms: SignAlgorithms{Algos: []string{oidRSA, oidRSASHA256, oidRSASHA384, oidRSASHA512, oidRSAPSS,
			oidEC, oidECDSASHA256, oidECDSASHA384, oidECDSASHA512}},
	}, nil
}

func decodeReq(body []byte, v any) *apiError {
	if err := json.Unmarshal(body, v); err != nil {
		return badRequest("the request body is not the method's JSON object")
	}
	return nil
}

func (s *Server) list(_ string, body []byte) (any, *apiError) {
	var in ListRequest
	if e := decodeReq(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := ListResponse{CredentialIDs: []string{}, OnlyValid: in.OnlyValid}
	for _, c := range s.cfg.Credentials {
		if in.OnlyValid && s.creds[c.ID].Disabled {
			continue
		}
		out.CredentialIDs = append(out.CredentialIDs, c.ID)
	}
	return out, nil
}

func (s *Server) cred(id string) (*ServerCredential, *apiError) {
	if id == "" {
		return nil, badRequest("Missing (or invalid type) string parameter credentialID")
	}
	c, ok := s.creds[id]
	if !ok {
		return nil, badRequest("Invalid parameter credentialID")
	}
	return c, nil
}

func (s *Server) credInfo(_ string, body []byte) (any, *apiError) {
	var in CredentialInfoRequest
	if e := decodeReq(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.cred(in.CredentialID)
	if e != nil {
		return nil, e
	}
	leaf := c.Chain[0]
	out := CredentialInfo{Description: c.Description, SCAL: strconv.Itoa(c.SCAL), Multisign: signHashMaxHash, Lang: "en-US"}
	out.Key.Status = "enabled"
	if c.Disabled {
		out.Key.Status = "disabled"
	}
	switch pub := c.Key.Public().(type) {
	case *rsa.PublicKey:
		out.Key.Algo = []string{oidRSA, oidRSAPSS}
		out.Key.Len = pub.N.BitLen()
	case *ecdsa.PublicKey:
		out.Key.Algo = []string{oidEC}
		out.Key.Len = pub.Curve.Params().BitSize
		out.Key.Curve = curveOID(pub.Curve)
	}
	switch in.Certificates {
	case "", "single":
		out.Cert.Certificates = []string{b64(leaf.Raw)}
	case "chain":
		for _, cert := range c.Chain {
			out.Cert.Certificates = append(out.Cert.Certificates, b64(cert.Raw))
		}
	case "none":
	default:
		return nil, badRequest("Invalid parameter certificates")
	}
	out.Cert.Status = "valid"
	if now := s.cfg.Now(); now.After(leaf.NotAfter) {
		out.Cert.Status = "expired"
	}
	if in.CertInfo {
		out.Cert.IssuerDN = leaf.Issuer.String()
		out.Cert.SubjectDN = leaf.Subject.String()
		out.Cert.SerialNumber = leaf.SerialNumber.Text(16)
		out.Cert.ValidFrom = leaf.NotBefore.UTC().Format("20060102150405Z")
		out.Cert.ValidTo = leaf.NotAfter.UTC().Format("20060102150405Z")
	}
	out.Auth.Mode = "implicit"
	if c.SCAL == 2 {
		out.Auth.Mode = "explicit"
		if in.AuthInfo {
			out.Auth.Expression = "PIN"
			out.Auth.Objects = []AuthObject{{Type: "Password", ID: "PIN", Format: "N", Label: "PIN", Description: "The credential's PIN"}}
		}
	}
	return out, nil
}

func (s *Server) authorize(client string, body []byte) (any, *apiError) {
	var in AuthorizeRequest
	if e := decodeReq(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.cred(in.CredentialID)
	if e != nil {
		return nil, e
	}
	if c.Disabled {
		return nil, badRequest("The credential is disabled")
	}
	if in.NumSignatures < 1 || in.NumSignatures > signHashMaxHash {
		return nil, badRequest("Invalid parameter numSignatures")
	}
	grant := &sad{client: client, credential: c.ID, left: in.NumSignatures, expires: s.cfg.Now().Add(s.cfg.SADTTL)}
	if c.SCAL == 2 {
		if len(in.Hashes) != in.NumSignatures {
			return nil, badRequest("SCAL2 credentials need the hashes to authorise, numSignatures of them")
		}
		grant.hashes = map[string]bool{}
		for _, h := range in.Hashes {
			grant.hashes[h] = true
		}
	}
	pin := ""
	for _, d := range in.AuthData {
		if d.ID == "PIN" {
			pin = d.Value
		}
	}
	if c.SCAL == 2 {
		if e := s.guessing("pin:"+c.ID, false); e != nil {
			return nil, e
		}
		want := sha256.Sum256([]byte(c.PIN))
		got := sha256.Sum256([]byte(pin))
		if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
			s.guessing("pin:"+c.ID, true)
			return nil, &apiError{status: http.StatusBadRequest, code: ErrInvalidRequest, desc: "Invalid PIN"}
		}
	}
	token := rand.Text() + rand.Text()
	s.sads[sha256.Sum256([]byte(token))] = grant
	return AuthorizeResponse{SAD: token, ExpiresIn: int64(s.cfg.SADTTL / time.Second)}, nil
}

func (s *Server) signHash(client string, body []byte) (any, *apiError) {
	var in SignHashRequest
	if e := decodeReq(body, &in); e != nil {
		return nil, e
	}
	if in.OperationMode != "" && in.OperationMode != "S" {
		return nil, badRequest("only the synchronous operationMode S is supported")
	}
	if len(in.Hashes) == 0 || len(in.Hashes) > signHashMaxHash {
		return nil, badRequest("Missing (or invalid type) array parameter hashes")
	}
	s.mu.Lock()
	c, e := s.cred(in.CredentialID)
	if e == nil {
		e = s.useSAD(client, c, in)
	}
	key, wrong := c, s.cfg.WrongDigest
	s.mu.Unlock()
	if e != nil {
		return nil, e
	}
	sch, err := parseScheme(key.Key.Public(), in.SignAlgo, in.HashAlgorithmOID, in.SignAlgoParams)
	if err != nil {
		return nil, badRequest(err.Error())
	}
	out := SignHashResponse{}
	for _, h := range in.Hashes {
		d, err := unb64(h)
		if err != nil || len(d) != sch.hash.Size() {
			return nil, badRequest("Invalid Base64 hash string parameter")
		}
		if wrong {
			x := sch.hash.New()
			x.Write(d)
			d = x.Sum(nil)
		}
		var opts crypto.SignerOpts = sch.hash
		if sch.pss {
			opts = &rsa.PSSOptions{SaltLength: sch.salt, Hash: sch.hash}
		}
		sig, err := key.Key.Sign(rand.Reader, d, opts)
		if err != nil {
			s.cfg.Log.Error("csc: signing failed", "credential", key.ID, "err", err)
			return nil, &apiError{status: http.StatusInternalServerError, code: "server_error", desc: "the key failed to sign"}
		}
		out.Signatures = append(out.Signatures, b64(sig))
	}
	sum := sha256.Sum256(body)
	s.cfg.Log.Info("csc: signed", "client", client, "credential", key.ID, "hashes", len(in.Hashes), "request", hex.EncodeToString(sum[:8]))
	return out, nil
}

// useSAD checks and spends the request's SAD (needed for explicit
// authorisation, optional for implicit). Called with s.mu held.
func (s *Server) useSAD(client string, c *ServerCredential, in SignHashRequest) *apiError {
	if c.Disabled {
		return badRequest("The credential is disabled")
	}
	if in.SAD == "" {
		if c.SCAL == 2 {
			return badRequest("Missing (or invalid type) string parameter SAD")
		}
		return nil
	}
	sum := sha256.Sum256([]byte(in.SAD))
	g, ok := s.sads[sum]
	if !ok || g.client != client || g.credential != c.ID || !s.cfg.Now().Before(g.expires) || g.left < len(in.Hashes) {
		delete(s.sads, sum)
		return badRequest("Invalid SAD")
	}
	if g.hashes != nil {
		for _, h := range in.Hashes {
			if !g.hashes[h] {
				return badRequest("the hashes were not authorised by the SAD")
			}
		}
	}
	g.left -= len(in.Hashes)
	if g.left == 0 {
		delete(s.sads, sum)
	}
	return nil
}
