package csc

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"esign/internal/esign"
)

// maxResponse bounds what the client reads of one answer.
const maxResponse = 1 << 20

// ClientConfig says how to reach a CSC service.
type ClientConfig struct {
	// URL is the service's base URI, ending in /csc/v2 (added when the
	// URL has no path). The OAuth 2.0 token endpoint is URL/oauth2/token.
	URL          string
	ClientID     string
	ClientSecret string
	// Authorization holds the values of the credential's authorisation
	// objects ("PIN" → "123456") for credentials/authorize, when the
	// credential's auth mode is explicit (and always for SCAL2).
	Authorization map[string]string
	HTTP          *http.Client     // default: a client with a 30 s timeout
	Now           func() time.Time // default time.Now
	InfoCache     time.Duration    // how long Check trusts an info answer; default 10 s
	CredCache     time.Duration    // how long credentials/info is trusted; default 5 min
}

// Client calls one CSC service with one OAuth 2.0 client. It is safe for
// concurrent use; the access token is cached until it expires and fetched
// again after a 401.
type Client struct {
	cfg  ClientConfig
	base string

	mu        sync.Mutex
	token     string
	tokenExp  time.Time
	infoAt    time.Time
	infoErr   error
	tokenMu   sync.Mutex // one token request at a time
	credMu    sync.Mutex
	credCache map[string]*Credential
}

// NewClient checks cfg and returns a client.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("csc: the service URL %q is not an http(s) URL", cfg.URL)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/csc/v2"
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, fmt.Errorf("csc: the OAuth2 client id and secret are required")
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.InfoCache <= 0 {
		cfg.InfoCache = 10 * time.Second
	}
	if cfg.CredCache <= 0 {
		cfg.CredCache = 5 * time.Minute
	}
	return &Client{cfg: cfg, base: strings.TrimSuffix(u.String(), "/"), credCache: map[string]*Credential{}}, nil
}

// URL is the service's base URI.
func (c *Client) URL() string { return c.base }

// Info calls info (no authentication).
func (c *Client) Info(ctx context.Context) (*InfoResponse, error) {
	var out InfoResponse
	body, err := c.post(ctx, "info", "", InfoRequest{})
	if err != nil {
		return nil, err
	}
	if err := parseInfo(body, &out); err != nil {
		return nil, unavailable("csc.Info", "the CSC service's info answer is malformed", err)
	}
	return &out, nil
}

// Check reports whether the service answers info, asking at most once per
// InfoCache: pdfservice's readiness.
func (c *Client) Check(ctx context.Context) error {
	c.mu.Lock()
	if !c.infoAt.IsZero() && c.cfg.Now().Sub(c.infoAt) < c.cfg.InfoCache {
		err := c.infoErr
		c.mu.Unlock()
		return err
	}
	c.mu.Unlock()
	_, err := c.Info(ctx)
	c.mu.Lock()
	c.infoAt, c.infoErr = c.cfg.Now(), err
	c.mu.Unlock()
	return err
}

// ListCredentials calls credentials/list.
func (c *Client) ListCredentials(ctx context.Context) ([]string, error) {
	body, err := c.call(ctx, "credentials/list", ListRequest{})
	if err != nil {
		return nil, err
	}
	var out ListResponse
	if err := decodeStrict(body, &out); err != nil {
		return nil, unavailable("csc.ListCredentials", "the CSC service's credentials/list answer is malformed", err)
	}
	return out.CredentialIDs, nil
}

// CredentialInfo calls credentials/info with the certificate chain, the
// certificate and the authorisation information.
func (c *Client) CredentialInfo(ctx context.Context, credentialID string) (*CredentialInfo, error) {
	body, err := c.call(ctx, "credentials/info", CredentialInfoRequest{CredentialID: credentialID, Certificates: "chain", CertInfo: true, AuthInfo: true})
	if err != nil {
		return nil, err
	}
	var out CredentialInfo
	if err := decodeStrict(body, &out); err != nil {
		return nil, unavailable("csc.CredentialInfo", "the CSC service's credentials/info answer is malformed", err)
	}
	return &out, nil
}

// Authorize calls credentials/authorize and returns the SAD.
func (c *Client) Authorize(ctx context.Context, req AuthorizeRequest) (*AuthorizeResponse, error) {
	body, err := c.call(ctx, "credentials/authorize", req)
	if err != nil {
		return nil, err
	}
	var out AuthorizeResponse
	if err := decodeStrict(body, &out); err != nil || out.SAD == "" {
		return nil, unavailable("csc.Authorize", "the CSC service's credentials/authorize answer is malformed", err)
	}
	return &out, nil
}

// SignHash calls signatures/signHash and returns the decoded signatures,
// one per hash.
func (c *Client) SignHash(ctx context.Context, req SignHashRequest) ([][]byte, error) {
	body, err := c.call(ctx, "signatures/signHash", req)
	if err != nil {
		return nil, err
	}
	sigs, err := parseSignHash(body, len(req.Hashes))
	if err != nil {
		return nil, unavailable("csc.SignHash", "the CSC service's signatures/signHash answer is malformed", err)
	}
	return sigs, nil
}

// call posts an authenticated request, fetching a token first and again
// once after a 401.
func (c *Client) call(ctx context.Context, method string, in any) ([]byte, error) {
	for try := 0; ; try++ {
		tok, err := c.accessToken(ctx)
		if err != nil {
			return nil, err
		}
		body, err := c.post(ctx, method, tok, in)
		var se *statusError
		if try == 0 && asStatus(err, &se) && se.status == http.StatusUnauthorized {
			c.mu.Lock()
			if c.token == tok {
				c.token = ""
			}
			c.mu.Unlock()
			continue
		}
		return body, err
	}
}

// accessToken returns the cached token or asks oauth2/token for one.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.tokenMu.Lock()
	defer c.tokenMu.Unlock()
	c.mu.Lock()
	tok, exp := c.token, c.tokenExp
	c.mu.Unlock()
	now := c.cfg.Now()
	if tok != "" && now.Before(exp) {
		return tok, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"service"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("csc: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(c.cfg.ClientID), url.QueryEscape(c.cfg.ClientSecret))
	body, err := c.do(req, "oauth2/token")
	if err != nil {
		var se *statusError
		if asStatus(err, &se) && (se.status == http.StatusUnauthorized || se.status == http.StatusBadRequest) {
			return "", &esign.Error{Op: "csc.Token", Kind: esign.Unavailable, Code: "csc_client_refused",
				Msg: "the CSC service refused the OAuth2 client credentials (check the client id and secret)", Err: err}
		}
		return "", err
	}
	var out TokenResponse
	if err := parseToken(body, &out); err != nil {
		return "", unavailable("csc.Token", "the CSC service's token answer is malformed", err)
	}
	// A token is used until shortly before it expires; a 401 earlier
	// fetches a new one.
	ttl := time.Duration(out.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = time.Hour
	}
	margin := min(ttl/10, 30*time.Second)
	c.mu.Lock()
	c.token, c.tokenExp = out.AccessToken, now.Add(ttl-margin)
	c.mu.Unlock()
	return out.AccessToken, nil
}

// post sends in as JSON to method, with the bearer token when tok is set.
func (c *Client) post(ctx context.Context, method, tok string, in any) ([]byte, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("csc: encode %s: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/"+method, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("csc: %s request: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return c.do(req, method)
}

// statusError is an answer other than 200.
type statusError struct {
	method string
	status int
	csc    ErrorResponse
}

func (e *statusError) Error() string {
	return fmt.Sprintf("csc %s: HTTP %d %s: %s", e.method, e.status, e.csc.Error, e.csc.Description)
}

func asStatus(err error, se **statusError) bool { return errors.As(err, se) }

// do sends req and classifies the answer: a transport failure or 5xx is
// Unavailable, 429 is TooMany with the Retry-After delay; other statuses
// return a *statusError inside an Unavailable error.
func (c *Client) do(req *http.Request, method string) ([]byte, error) {
	op := "csc." + method
	res, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return nil, unavailable(op, "the CSC signing service is unreachable", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxResponse+1))
	if err != nil {
		return nil, unavailable(op, "the CSC signing service's answer was cut off", err)
	}
	if len(body) > maxResponse {
		return nil, unavailable(op, "the CSC signing service's answer is too large", nil)
	}
	if res.StatusCode == http.StatusOK {
		return body, nil
	}
	se := &statusError{method: method, status: res.StatusCode}
	se.csc = parseError(body)
	switch {
	case res.StatusCode == http.StatusTooManyRequests:
		return nil, &esign.Error{Op: op, Kind: esign.TooMany, Code: "csc_rate_limited",
			Msg: "the CSC signing service is rate-limiting this client", RetryAfter: retryAfter(res.Header.Get("Retry-After"), c.cfg.Now()), Err: se}
	case res.StatusCode >= 500:
		return nil, &esign.Error{Op: op, Kind: esign.Unavailable, Msg: "the CSC signing service failed",
			RetryAfter: retryAfter(res.Header.Get("Retry-After"), c.cfg.Now()), Err: se}
	}
	return nil, &esign.Error{Op: op, Kind: esign.Unavailable, Code: "csc_refused", Msg: "the CSC signing service refused the request", Err: se}
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (RFC 9110 10.2.3). Absent or unreadable: one second.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if n, err := strconv.ParseInt(h, 10, 64); err == nil && n >= 0 {
		return time.Duration(min(n, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return min(max(t.Sub(now), time.Second), 24*time.Hour)
	}
	return time.Second
}

func unavailable(op, msg string, err error) error {
	return &esign.Error{Op: op, Kind: esign.Unavailable, Msg: msg, Err: err}
}

// Parsers of the answers: outside input, fuzzed (FuzzParse).

func decodeStrict(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data after the JSON object")
	}
	return nil
}

func parseInfo(body []byte, out *InfoResponse) error {
	if err := decodeStrict(body, out); err != nil {
		return err
	}
	if !strings.HasPrefix(out.Specs, "2.") {
		return fmt.Errorf("specs %q is not version 2", out.Specs)
	}
	return nil
}

func parseToken(body []byte, out *TokenResponse) error {
	if err := decodeStrict(body, out); err != nil {
		return err
	}
	if out.AccessToken == "" || !strings.EqualFold(out.TokenType, "bearer") {
		return fmt.Errorf("no bearer access token")
	}
	if strings.ContainsAny(out.AccessToken, "\r\n") || len(out.AccessToken) > 4096 {
		return fmt.Errorf("the access token is not a header value")
	}
	return nil
}

func parseSignHash(body []byte, n int) ([][]byte, error) {
	var out SignHashResponse
	if err := decodeStrict(body, &out); err != nil {
		return nil, err
	}
	if len(out.Signatures) != n {
		return nil, fmt.Errorf("%d signatures for %d hashes", len(out.Signatures), n)
	}
	sigs := make([][]byte, n)
	for i, s := range out.Signatures {
		b, err := unb64(s)
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("signature %d is not base64", i)
		}
		sigs[i] = b
	}
	return sigs, nil
}

// parseError reads an error body; the description is cut to a sane
// length, as it ends up in logs.
func parseError(body []byte) ErrorResponse {
	var e ErrorResponse
	if json.Unmarshal(body, &e) != nil {
		return ErrorResponse{Error: "unreadable"}
	}
	cut := func(s string) string {
		s = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return ' '
			}
			return r
		}, s)
		if len(s) > 200 {
			s = s[:200]
		}
		return s
	}
	return ErrorResponse{Error: cut(e.Error), Description: cut(e.Description)}
}

// parseChain decodes credentials/info's certificates, leaf first.
func parseChain(ci *CredentialInfo) ([]*x509.Certificate, error) {
	if len(ci.Cert.Certificates) == 0 {
		return nil, fmt.Errorf("no certificates (asked for the chain)")
	}
	var chain []*x509.Certificate
	for i, s := range ci.Cert.Certificates {
		der, err := unb64(s)
		if err != nil {
			return nil, fmt.Errorf("certificate %d is not base64", i)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", i, err)
		}
		chain = append(chain, cert)
	}
	return chain, nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// unb64 reads standard base64, padded or not.
func unb64(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.TrimRight(s, "=") + strings.Repeat("=", (4-len(strings.TrimRight(s, "="))%4)%4))
}

// Credential is one credential of the service as a crypto.Signer: Sign
// sends only the digest to signatures/signHash (after
// credentials/authorize when the credential wants it) and returns the
// signature only once it verifies against the credential's certificate
// for that digest.
type Credential struct {
	c     *Client
	id    string
	chain []*x509.Certificate

	mu     sync.Mutex
	info   *CredentialInfo
	infoAt time.Time
}

// Open reads the credential's information and certificate chain.
func (c *Client) Open(ctx context.Context, credentialID string) (*Credential, error) {
	const op = "csc.Open"
	if credentialID == "" {
		return nil, esign.E(op, esign.Invalid, "a CSC credential id is required")
	}
	ci, err := c.CredentialInfo(ctx, credentialID)
	if err != nil {
		return nil, err
	}
	chain, err := parseChain(ci)
	if err != nil {
		return nil, unavailable(op, "the CSC credential's certificates are unreadable", err)
	}
	switch chain[0].PublicKey.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
	default:
		return nil, esign.E(op, esign.Invalid, "the CSC credential's key is neither RSA nor ECDSA")
	}
	return &Credential{c: c, id: credentialID, chain: chain, info: ci, infoAt: c.cfg.Now()}, nil
}

// ID is the credential's id at the service.
func (k *Credential) ID() string { return k.id }

// Public implements crypto.Signer: the certificate's public key.
func (k *Credential) Public() crypto.PublicKey { return k.chain[0].PublicKey }

// Certificates returns the credential's chain, leaf first.
func (k *Credential) Certificates(context.Context) ([]*x509.Certificate, error) {
	return k.chain, nil
}

// Check reports whether the service answers (info, cached briefly) and
// the credential is enabled (credentials/info, cached for CredCache).
func (k *Credential) Check(ctx context.Context) error {
	if err := k.c.Check(ctx); err != nil {
		return err
	}
	ci, err := k.credInfo(ctx, false) // asked again after CredCache
	if err != nil {
		return err
	}
	if ci.Key.Status != "enabled" {
		return k.disabledErr()
	}
	return nil
}

// Close implements the signer's Close; there is no session to end.
func (k *Credential) Close() error { return nil }

// Sign implements crypto.Signer with a 30 s deadline; SignContext is the
// same bounded by ctx.
func (k *Credential) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return k.SignContext(ctx, digest, opts)
}

func (k *Credential) disabledErr() error {
	return &esign.Error{Op: "csc.Sign", Kind: esign.Unavailable, Code: "csc_credential_disabled",
		Msg: fmt.Sprintf("the CSC credential %q is disabled at the signing service; enable it there (or import another)", k.id)}
}

// credInfo returns the credential's information, asked again after
// CredCache or when fresh is set.
func (k *Credential) credInfo(ctx context.Context, fresh bool) (*CredentialInfo, error) {
	k.mu.Lock()
	ci, at := k.info, k.infoAt
	k.mu.Unlock()
	if !fresh && k.c.cfg.Now().Sub(at) < k.c.cfg.CredCache {
		return ci, nil
	}
	ci, err := k.c.CredentialInfo(ctx, k.id)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.info, k.infoAt = ci, k.c.cfg.Now()
	k.mu.Unlock()
	return ci, nil
}

// SignContext signs digest (RSA PKCS #1 v1.5 with opts a crypto.Hash, RSA
// PSS with *rsa.PSSOptions, ECDSA; SHA-256, -384 or -512).
func (k *Credential) SignContext(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	const op = "csc.Sign"
	if opts == nil {
		return nil, esign.E(op, esign.Invalid, "the CSC signer needs the digest's hash in the signer options")
	}
	sch := scheme{hash: opts.HashFunc()}
	if sch.hash == 0 || hashOIDs[sch.hash] == "" || len(digest) != sch.hash.Size() {
		return nil, esign.E(op, esign.Invalid, "the CSC signer signs SHA-256, SHA-384 or SHA-512 digests")
	}
	switch pub := k.Public().(type) {
	case *ecdsa.PublicKey:
		sch.ec = true
	case *rsa.PublicKey:
		if p, ok := opts.(*rsa.PSSOptions); ok {
			sch.pss = true
			switch p.SaltLength {
			case rsa.PSSSaltLengthEqualsHash, rsa.PSSSaltLengthAuto:
				sch.salt = sch.hash.Size()
			default:
				sch.salt = p.SaltLength
			}
			if sch.salt < 0 || sch.salt > pub.Size()-sch.hash.Size()-2 {
				return nil, esign.E(op, esign.Invalid, "bad PSS salt length")
			}
		}
	}
	algo, hashOID, params, err := sch.signAlgo()
	if err != nil {
		return nil, esign.E(op, esign.Invalid, err.Error())
	}
	ci, err := k.credInfo(ctx, false)
	if err != nil {
		return nil, err
	}
	if ci.Key.Status != "enabled" {
		// It may have been enabled again since.
		if ci, err = k.credInfo(ctx, true); err != nil {
			return nil, err
		}
		if ci.Key.Status != "enabled" {
			return nil, k.disabledErr()
		}
	}
	hashes := []string{b64(digest)}
	req := SignHashRequest{CredentialID: k.id, Hashes: hashes, HashAlgorithmOID: hashOID, SignAlgo: algo, SignAlgoParams: params, OperationMode: "S"}
	if req.SAD, err = k.authorize(ctx, ci, hashes, hashOID); err != nil {
		return nil, err
	}
	sigs, err := k.c.SignHash(ctx, req)
	if err != nil {
		var se *statusError
		if asStatus(err, &se) && se.status == http.StatusBadRequest {
			if ci, ierr := k.credInfo(ctx, true); ierr == nil && ci.Key.Status != "enabled" {
				return nil, k.disabledErr()
			}
		}
		return nil, err
	}
	sig, err := k.verify(sch, digest, sigs[0])
	if err != nil {
		return nil, &esign.Error{Op: op, Kind: esign.Unavailable, Code: "csc_bad_signature",
			Msg: "the CSC signing service returned a signature that does not verify for the digest sent; it was refused", Err: err}
	}
	return sig, nil
}

// authorize returns the SAD for hashes when the credential wants explicit
// authorisation, "" for implicit. Each Password object the expression
// names is answered from ClientConfig.Authorization.
func (k *Credential) authorize(ctx context.Context, ci *CredentialInfo, hashes []string, hashOID string) (string, error) {
	const op = "csc.Authorize"
	mode := ci.Auth.Mode
	if mode == "" {
		mode = "implicit"
	}
	if mode == "implicit" && ci.SCAL != "2" {
		return "", nil
	}
	if mode == "oauth2code" || mode == "implicit" {
		return "", esign.E(op, esign.Unavailable, fmt.Sprintf("the CSC credential %q wants %s authorisation with SCAL %s; only implicit (SCAL1) and explicit Password objects are supported", k.id, mode, ci.SCAL))
	}
	var data []AuthData
	for _, o := range ci.Auth.Objects {
		if !strings.EqualFold(o.Type, "Password") {
			return "", esign.E(op, esign.Unavailable, fmt.Sprintf("the CSC credential %q wants a %s object %q, which needs a person; only Password objects are supported", k.id, o.Type, o.ID))
		}
		v, ok := k.c.cfg.Authorization[o.ID]
		if !ok {
			return "", esign.E(op, esign.Unavailable, fmt.Sprintf("the CSC credential %q wants the authorisation object %q, which is not configured", k.id, o.ID))
		}
		data = append(data, AuthData{ID: o.ID, Value: v})
	}
	res, err := k.c.Authorize(ctx, AuthorizeRequest{CredentialID: k.id, NumSignatures: len(hashes), Hashes: hashes, HashAlgorithmOID: hashOID, AuthData: data})
	if err != nil {
		var se *statusError
		if asStatus(err, &se) && se.status == http.StatusBadRequest {
			return "", &esign.Error{Op: op, Kind: esign.Unavailable, Code: "csc_authorization_refused",
				Msg: fmt.Sprintf("the CSC service refused the authorisation of credential %q (check its configured authorisation values)", k.id), Err: err}
		}
		return "", err
	}
	return res.SAD, nil
}

// verify checks sig over digest with the credential's public key. An
// ECDSA signature as the raw r||s some services return is turned into
// ASN.1, the form crypto.Signer promises.
func (k *Credential) verify(sch scheme, digest, sig []byte) ([]byte, error) {
	switch pub := k.Public().(type) {
	case *rsa.PublicKey:
		if sch.pss {
			return sig, rsa.VerifyPSS(pub, sch.hash, digest, sig, &rsa.PSSOptions{SaltLength: sch.salt, Hash: sch.hash})
		}
		return sig, rsa.VerifyPKCS1v15(pub, sch.hash, digest, sig)
	case *ecdsa.PublicKey:
		if ecdsa.VerifyASN1(pub, digest, sig) {
			return sig, nil
		}
		n := (pub.Curve.Params().BitSize + 7) / 8
		if len(sig) == 2*n {
			der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])})
			if err == nil && ecdsa.VerifyASN1(pub, digest, der) {
				return der, nil
			}
		}
		return nil, fmt.Errorf("ECDSA signature does not verify")
	}
	return nil, fmt.Errorf("unsupported key")
}
