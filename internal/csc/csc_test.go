package csc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"esign/internal/esign"
)

const testSecret = "a-test-client-secret-0123456789"

// testKey makes a key and a CA-issued certificate for it: chain leaf, CA.
func testKey(tb testing.TB, kind string) (crypto.Signer, []*x509.Certificate) {
	tb.Helper()
	var key crypto.Signer
	var err error
	switch kind {
	case "rsa":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "p256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	}
	if err != nil {
		tb.Fatal(err)
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CSC test CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(20 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		tb.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Test Bank seal " + kind, Organization: []string{"Test Bank"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(20 * 365 * 24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, key.Public(), caKey)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	return key, []*x509.Certificate{leaf, ca}
}

// testServer runs a Server with credentials "rsa", "p256", "p384" (SCAL1)
// and "rsa-scal2" (SCAL2, PIN 1234) on a loopback port.
func testServer(tb testing.TB, mod func(*ServerConfig)) (*Server, *httptest.Server) {
	tb.Helper()
	cfg := ServerConfig{Clients: []ServerClient{{ID: "esign-test", Secret: testSecret}}}
	for _, k := range []string{"rsa", "p256", "p384"} {
		key, chain := testKey(tb, k)
		cfg.Credentials = append(cfg.Credentials, ServerCredential{ID: k, Key: key, Chain: chain})
	}
	key, chain := testKey(tb, "rsa")
	cfg.Credentials = append(cfg.Credentials, ServerCredential{ID: "rsa-scal2", Key: key, Chain: chain, SCAL: 2, PIN: "1234"})
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewServer(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	tb.Cleanup(hs.Close)
	return s, hs
}

func testClient(tb testing.TB, url string, mod func(*ClientConfig)) *Client {
	tb.Helper()
	cfg := ClientConfig{URL: url, ClientID: "esign-test", ClientSecret: testSecret, Authorization: map[string]string{"PIN": "1234"}}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func digestOf(h crypto.Hash, s string) []byte {
	x := h.New()
	x.Write([]byte(s))
	return x.Sum(nil)
}

// TestSign: every key type and scheme, SCAL1 and SCAL2, signs through the
// server, and the signature verifies with the certificate the client
// fetched from credentials/info.
func TestSign(t *testing.T) {
	_, hs := testServer(t, nil)
	c := testClient(t, hs.URL, nil)
	ctx := context.Background()
	tests := []struct {
		name, cred string
		opts       crypto.SignerOpts
	}{
		{"rsa-pkcs1-sha256", "rsa", crypto.SHA256},
		{"rsa-pkcs1-sha512", "rsa", crypto.SHA512},
		{"rsa-pss-sha256", "rsa", &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}},
		{"rsa-pss-salt20", "rsa", &rsa.PSSOptions{SaltLength: 20, Hash: crypto.SHA384}},
		{"ecdsa-p256", "p256", crypto.SHA256},
		{"ecdsa-p384-sha384", "p384", crypto.SHA384},
		{"scal2-pkcs1", "rsa-scal2", crypto.SHA256},
		{"scal2-pss", "rsa-scal2", &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := c.Open(ctx, tt.cred)
			if err != nil {
				t.Fatal(err)
			}
			chain, _ := k.Certificates(ctx)
			if len(chain) != 2 || chain[0].CheckSignatureFrom(chain[1]) != nil {
				t.Fatalf("chain of %d certificates, not leaf and its CA", len(chain))
			}
			d := digestOf(tt.opts.HashFunc(), tt.name)
			sig, err := k.SignContext(ctx, d, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			switch pub := chain[0].PublicKey.(type) {
			case *rsa.PublicKey:
				if p, ok := tt.opts.(*rsa.PSSOptions); ok {
					err = rsa.VerifyPSS(pub, p.Hash, d, sig, p)
				} else {
					err = rsa.VerifyPKCS1v15(pub, tt.opts.HashFunc(), d, sig)
				}
			case *ecdsa.PublicKey:
				if !ecdsa.VerifyASN1(pub, d, sig) {
					err = errTest
				}
			}
			if err != nil {
				t.Fatalf("signature does not verify: %v", err)
			}
		})
	}
	ids, err := c.ListCredentials(ctx)
	if err != nil || len(ids) != 4 {
		t.Fatalf("credentials/list: %v %v", ids, err)
	}
}

var errTest = esign.E("test", esign.Internal, "does not verify")

// TestFailures: the failure matrix; each is a clear error of a retryable
// kind, and no signature comes back.
func TestFailures(t *testing.T) {
	ctx := context.Background()
	d := digestOf(crypto.SHA256, "contract")
	tests := []struct {
		name     string
		server   func(*ServerConfig)
		client   func(*ClientConfig)
		after    func(*Server)
		cred     string
		kind     esign.Kind
		code     string
		retryMin time.Duration
	}{
		{name: "credential-disabled", cred: "rsa", after: func(s *Server) { s.SetEnabled("rsa", false) }, kind: esign.Unavailable, code: "csc_credential_disabled"},
		{name: "rate-limited", cred: "rsa", server: func(c *ServerConfig) { c.RateLimit, c.RatePer = 2, time.Minute }, kind: esign.TooMany, code: "csc_rate_limited", retryMin: 50 * time.Second},
		{name: "wrong-digest", cred: "p256", after: func(s *Server) { s.SetWrongDigest(true) }, kind: esign.Unavailable, code: "csc_bad_signature"},
		{name: "wrong-digest-rsa", cred: "rsa", after: func(s *Server) { s.SetWrongDigest(true) }, kind: esign.Unavailable, code: "csc_bad_signature"},
		{name: "wrong-client-secret", cred: "rsa", client: func(c *ClientConfig) { c.ClientSecret = "not-the-secret-at-all" }, kind: esign.Unavailable, code: "csc_client_refused"},
		{name: "wrong-pin", cred: "rsa-scal2", client: func(c *ClientConfig) { c.Authorization = map[string]string{"PIN": "9999"} }, kind: esign.Unavailable, code: "csc_authorization_refused"},
		{name: "no-pin-configured", cred: "rsa-scal2", client: func(c *ClientConfig) { c.Authorization = nil }, kind: esign.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, hs := testServer(t, tt.server)
			c := testClient(t, hs.URL, tt.client)
			k, err := c.Open(ctx, tt.cred)
			if err == nil {
				if tt.after != nil {
					tt.after(s)
				}
				k.mu.Lock()
				k.infoAt = time.Time{} // as if the cache had expired
				k.mu.Unlock()
				var sig []byte
				sig, err = k.SignContext(ctx, d, crypto.SHA256)
				if sig != nil {
					t.Fatalf("a signature came back with error %v", err)
				}
			}
			if err == nil {
				t.Fatal("no error")
			}
			if esign.ErrorKind(err) != tt.kind {
				t.Errorf("kind %v, want %v: %v", esign.ErrorKind(err), tt.kind, err)
			}
			var e *esign.Error
			if tt.code != "" && (!asEsign(err, &e) || e.Code != tt.code) {
				t.Errorf("want code %s: %v", tt.code, err)
			}
			if ra := esign.ErrorRetryAfter(err); ra < tt.retryMin || (tt.retryMin == 0 && ra > 0 && tt.kind != esign.Unavailable) {
				t.Errorf("retry after %v, want at least %v", ra, tt.retryMin)
			}
			if m := esign.ErrorMessage(err); m == "" || containsSecret(m) {
				t.Errorf("message %q", m)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		_, hs := testServer(t, nil)
		c := testClient(t, hs.URL, nil)
		hs.Close()
		if err := c.Check(ctx); esign.ErrorKind(err) != esign.Unavailable {
			t.Fatalf("check: %v", err)
		}
		if _, err := c.Open(ctx, "rsa"); esign.ErrorKind(err) != esign.Unavailable {
			t.Fatalf("open: %v", err)
		}
	})
}

func asEsign(err error, e **esign.Error) bool {
	for err != nil {
		x, ok := err.(*esign.Error)
		if !ok {
			return false
		}
		if x.Code != "" {
			*e = x
			return true
		}
		err = x.Err
	}
	return false
}

func containsSecret(s string) bool {
	for _, x := range []string{testSecret, "1234", "9999"} {
		if len(s) > 0 && len(x) > 0 && strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// TestToken: one token for many calls until it expires; a 401 (the
// server forgot it) fetches a new one once.
func TestToken(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, _ := testServer(t, func(c *ServerConfig) { c.Now = clock; c.TokenTTL = 10 * time.Minute })
	var tokens, calls atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/csc/v2/oauth2/token" {
			tokens.Add(1)
		}
		calls.Add(1)
		s.Handler().ServeHTTP(w, r)
	}))
	defer hs.Close()
	c := testClient(t, hs.URL, func(c *ClientConfig) { c.Now = clock })
	ctx := context.Background()
	k, err := c.Open(ctx, "rsa")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := k.SignContext(ctx, digestOf(crypto.SHA256, "x"), crypto.SHA256); err != nil {
			t.Fatal(i, err)
		}
	}
	if n := tokens.Load(); n != 1 {
		t.Fatalf("%d token requests for 4 calls", n)
	}
	// The server's tokens expire; the client's clock still trusts its own: 401, one new token.
	s.mu.Lock()
	clear(s.tokens)
	s.mu.Unlock()
	if _, err := k.SignContext(ctx, digestOf(crypto.SHA256, "y"), crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	if n := tokens.Load(); n != 2 {
		t.Fatalf("%d token requests after a 401, want 2", n)
	}
	// Past its expiry the client asks for a new one without a 401.
	mu.Lock()
	now = now.Add(11 * time.Minute)
	mu.Unlock()
	before := calls.Load()
	if _, err := k.SignContext(ctx, digestOf(crypto.SHA256, "z"), crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	if n := tokens.Load(); n != 3 || calls.Load()-before != 3 { // token, credentials/info (cache expired), signHash
		t.Fatalf("%d tokens, %d calls", n, calls.Load()-before)
	}
}

// TestCheckCached: readiness asks info at most once per InfoCache.
func TestCheckCached(t *testing.T) {
	s, _ := testServer(t, nil)
	var infos atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/csc/v2/info" {
			infos.Add(1)
		}
		s.Handler().ServeHTTP(w, r)
	}))
	defer hs.Close()
	c := testClient(t, hs.URL, func(c *ClientConfig) { c.InfoCache = time.Hour })
	for range 5 {
		if err := c.Check(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if infos.Load() != 1 {
		t.Fatalf("%d info calls", infos.Load())
	}
}

// TestServerRefuses: requests a conforming server must refuse.
func TestServerRefuses(t *testing.T) {
	_, hs := testServer(t, nil)
	c := testClient(t, hs.URL, nil)
	ctx := context.Background()
	d := b64(digestOf(crypto.SHA256, "a"))
	other := b64(digestOf(crypto.SHA256, "b"))
	sad, err := c.Authorize(ctx, AuthorizeRequest{CredentialID: "rsa-scal2", NumSignatures: 1, Hashes: []string{d}, HashAlgorithmOID: oidSHA256, AuthData: []AuthData{{ID: "PIN", Value: "1234"}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  SignHashRequest
	}{
		{"scal2-without-sad", SignHashRequest{CredentialID: "rsa-scal2", Hashes: []string{d}, SignAlgo: oidRSASHA256}},
		{"scal2-other-hash", SignHashRequest{CredentialID: "rsa-scal2", SAD: sad.SAD, Hashes: []string{other}, SignAlgo: oidRSASHA256}},
		{"unknown-credential", SignHashRequest{CredentialID: "nope", Hashes: []string{d}, SignAlgo: oidRSASHA256}},
		{"ecdsa-on-rsa", SignHashRequest{CredentialID: "rsa", Hashes: []string{d}, SignAlgo: oidECDSASHA256}},
		{"hash-mismatch", SignHashRequest{CredentialID: "rsa", Hashes: []string{d}, SignAlgo: oidRSASHA384}},
		{"pss-without-params", SignHashRequest{CredentialID: "rsa", Hashes: []string{d}, SignAlgo: oidRSAPSS}},
		{"rsa-without-hash-oid", SignHashRequest{CredentialID: "rsa", Hashes: []string{d}, SignAlgo: oidRSA}},
		{"not-base64", SignHashRequest{CredentialID: "rsa", Hashes: []string{"%%%"}, SignAlgo: oidRSASHA256}},
		{"async", SignHashRequest{CredentialID: "rsa", Hashes: []string{d}, SignAlgo: oidRSASHA256, OperationMode: "A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.SignHash(ctx, tt.req)
			var se *statusError
			if !asStatus(err, &se) || se.status != http.StatusBadRequest || se.csc.Error != ErrInvalidRequest {
				t.Fatalf("want 400 invalid_request, got %v", err)
			}
		})
	}
	// The SAD is spent by one signature.
	if _, err := c.SignHash(ctx, SignHashRequest{CredentialID: "rsa-scal2", SAD: sad.SAD, Hashes: []string{d}, SignAlgo: oidRSASHA256}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SignHash(ctx, SignHashRequest{CredentialID: "rsa-scal2", SAD: sad.SAD, Hashes: []string{d}, SignAlgo: oidRSASHA256}); err == nil {
		t.Fatal("a spent SAD signed again")
	}
}

// TestRawECDSA: a service that returns r||s instead of ASN.1 is accepted
// once the converted signature verifies.
func TestRawECDSA(t *testing.T) {
	key, chain := testKey(t, "p256")
	k := &Credential{chain: chain}
	d := sha256.Sum256([]byte("raw"))
	der, _ := key.Sign(rand.Reader, d[:], crypto.SHA256)
	var sig struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &sig); err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 64)
	sig.R.FillBytes(raw[:32])
	sig.S.FillBytes(raw[32:])
	got, err := k.verify(scheme{hash: crypto.SHA256, ec: true}, d[:], raw)
	if err != nil || !ecdsa.VerifyASN1(key.Public().(*ecdsa.PublicKey), d[:], got) {
		t.Fatal(err)
	}
	raw[5] ^= 1
	if _, err := k.verify(scheme{hash: crypto.SHA256, ec: true}, d[:], raw); err == nil {
		t.Fatal("a damaged signature verified")
	}
}

// TestCredentialCheck: the credential's readiness follows its state at the
// service once the cached information is old.
func TestCredentialCheck(t *testing.T) {
	s, hs := testServer(t, nil)
	c := testClient(t, hs.URL, func(c *ClientConfig) { c.InfoCache, c.CredCache = time.Nanosecond, time.Nanosecond })
	k, err := c.Open(context.Background(), "p256")
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.SetEnabled("p256", false)
	time.Sleep(time.Millisecond)
	if err := k.Check(context.Background()); esign.ErrorKind(err) != esign.Unavailable || !strings.Contains(esign.ErrorMessage(err), "disabled") {
		t.Fatalf("check of a disabled credential: %v", err)
	}
}

// TestGuessing: failed client-secret and PIN checks are limited even
// without a rate limit.
func TestGuessing(t *testing.T) {
	_, hs := testServer(t, nil)
	ctx := context.Background()
	bad := testClient(t, hs.URL, func(c *ClientConfig) { c.ClientSecret = "wrong-wrong-wrong-wrong" })
	for i := range maxFailures {
		if _, err := bad.ListCredentials(ctx); esign.ErrorKind(err) != esign.Unavailable {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := bad.ListCredentials(ctx); esign.ErrorKind(err) != esign.TooMany || esign.ErrorRetryAfter(err) <= 0 {
		t.Fatalf("after %d failures: %v", maxFailures, err)
	}
	_, hs2 := testServer(t, nil)
	good := testClient(t, hs2.URL, nil)
	d := b64(digestOf(crypto.SHA256, "pin"))
	for i := range maxFailures + 1 {
		_, err := good.Authorize(ctx, AuthorizeRequest{CredentialID: "rsa-scal2", NumSignatures: 1, Hashes: []string{d}, AuthData: []AuthData{{ID: "PIN", Value: "0000"}}})
		want := esign.Unavailable
		if i == maxFailures {
			want = esign.TooMany
		}
		if esign.ErrorKind(err) != want {
			t.Fatalf("PIN attempt %d: %v", i, err)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
	tests := []struct {
		h    string
		want time.Duration
	}{
		{"7", 7 * time.Second},
		{" 0 ", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), time.Second},
		{"", time.Second},
		{"soon", time.Second},
		{"99999999", 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.h, now); got != tt.want {
			t.Errorf("Retry-After %q: %v, want %v", tt.h, got, tt.want)
		}
	}
}
