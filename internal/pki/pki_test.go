package pki

import (
	"bytes"
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
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
	"software.sslmate.com/src/go-pkcs12"

	"esign/internal/cms"
	"esign/internal/envelope"
	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/tsa"
)

// envelopeCodec seals dev keys with an envelope keyring, as the CLI does.
type envelopeCodec struct{ k *envelope.Keyring }

func (c envelopeCodec) Seal(b []byte) ([]byte, error) { return c.k.Encrypt(b, []byte("pki key")) }
func (c envelopeCodec) Open(b []byte) ([]byte, error) { return c.k.Decrypt(b, []byte("pki key")) }

var (
	devOnce sync.Once
	devPKI  *Dev
	devDir  string
	devErr  error
	codec   envelopeCodec
)

// sharedDev generates one dev PKI for the package's tests (RSA key
// generation is the slow part).
func sharedDev(t testing.TB) *Dev {
	t.Helper()
	devOnce.Do(func() {
		k, _ := envelope.NewKeyring("test", map[string][]byte{"test": bytes.Repeat([]byte{7}, 32)})
		codec = envelopeCodec{k}
		devDir, devErr = os.MkdirTemp("", "esign-pki-test-")
		if devErr == nil {
			devPKI, _, devErr = OpenDev(devDir, DevOptions{BaseURL: "http://127.0.0.1:10188/pki/", KeyCodec: codec})
		}
	})
	if devErr != nil {
		t.Fatal(devErr)
	}
	return devPKI
}

func TestMain(m *testing.M) {
	code := m.Run()
	if devDir != "" {
		os.RemoveAll(devDir)
	}
	os.Exit(code)
}

func TestOpenDev(t *testing.T) {
	d := sharedDev(t)
	if !d.CA.Certificate.IsCA || d.CA.Certificate.Subject.CommonName != "esign Development Root CA" {
		t.Fatalf("CA %v", d.CA.Certificate.Subject)
	}
	if err := CheckDocumentSigner(d.Signer.Certificate); err != nil {
		t.Fatal(err)
	}
	if err := tsa.CheckTSACertificate(d.TSA.Certificate); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*x509.Certificate{d.Signer.Certificate, d.TSA.Certificate} {
		if got := c.CRLDistributionPoints; len(got) != 1 || got[0] != "http://127.0.0.1:10188/pki/ca.crl" {
			t.Fatalf("CRL DP %v", got)
		}
		if got := c.OCSPServer; len(got) != 1 || got[0] != "http://127.0.0.1:10188/pki/ocsp" {
			t.Fatalf("OCSP %v", got)
		}
	}
	for name, mode := range map[string]os.FileMode{FileCAKey: 0o600, FileSignerKey: 0o600, FileTSAKey: 0o600, FileCABundle: 0o644} {
		st, err := os.Stat(filepath.Join(d.Dir, name))
		if err != nil || st.Mode().Perm() != mode {
			t.Fatalf("%s: %v %v", name, err, st)
		}
	}
	b, _ := os.ReadFile(filepath.Join(d.Dir, FileSignerKey))
	if !bytes.Contains(b, []byte(sealedKeyPEM)) {
		t.Fatal("signer key not sealed")
	}
	if !bytes.Equal(d.CABundle(), mustRead(t, filepath.Join(d.Dir, FileCABundle))) {
		t.Fatal("exported CA bundle differs")
	}
	if w := d.Warnings(time.Now()); len(w) != 0 {
		t.Fatalf("warnings %v", w)
	}
	if w := d.Warnings(time.Now().Add(devSignerValidity - 24*time.Hour)); len(w) != 1 {
		t.Fatalf("warnings %v", w)
	}

	t.Run("reopen", func(t *testing.T) {
		d2, created, err := OpenDev(d.Dir, DevOptions{KeyCodec: codec})
		if err != nil || created {
			t.Fatalf("created=%v err=%v", created, err)
		}
		if !d2.Signer.Certificate.Equal(d.Signer.Certificate) || !d2.TSA.Certificate.Equal(d.TSA.Certificate) {
			t.Fatal("reopened PKI differs")
		}
		if _, _, err := OpenDev(d.Dir, DevOptions{}); err == nil {
			t.Fatal("sealed keys opened without the codec")
		}
	})

	t.Run("sign-and-timestamp", func(t *testing.T) {
		// The dev identities work with cms and tsa, and validate with the CA bundle only.
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(d.CABundle())
		digest := sha256.Sum256([]byte("contract"))
		der, err := cms.SignDetached(cms.Signer(d.Signer), digest[:], cms.SignOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sd, _ := cms.Parse(der)
		if _, err := sd.Verify(digest[:], cms.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}); err != nil {
			t.Fatal(err)
		}
		store, _ := tsa.OpenFileSerialStore(filepath.Join(t.TempDir(), "serial"), 0)
		defer store.Close()
		srv, err := tsa.NewServer(tsa.ServerConfig{Certificate: d.TSA.Certificate, Chain: d.TSA.Chain, Key: d.TSA.Key, Serials: store})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv)
		defer hs.Close()
		if _, err := (&tsa.Client{URL: hs.URL, Roots: roots}).Timestamp(context.Background(), digest[:], crypto.SHA256); err != nil {
			t.Fatal(err)
		}
	})
}

func TestOpenDevPartialDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("generates RSA keys")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileCACert), []byte("junk from a crash"), 0o644)
	d, created, err := OpenDev(dir, DevOptions{})
	if err != nil || !created {
		t.Fatalf("created=%v err=%v", created, err)
	}
	if _, err := readCerts(filepath.Join(dir, FileCACert)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(mustRead(t, filepath.Join(dir, FileTSAKey)), []byte("BEGIN PRIVATE KEY")) {
		t.Fatal("unsealed key expected without codec")
	}
	_ = d
}

func mustRead(t testing.TB, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func issueLeaf(t testing.TB, ca *CA, key crypto.Signer, mod func(*x509.Certificate)) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "Bank Zrt. document signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}
	if mod != nil {
		mod(tmpl)
	}
	c, err := ca.Issue(tmpl, key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckDocumentSigner(t *testing.T) {
	d := sharedDev(t)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	weak, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	tests := []struct {
		name string
		key  crypto.Signer
		mod  func(*x509.Certificate)
		code string
	}{
		{"ok", ek, nil, ""},
		{"non-repudiation-only", ek, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageContentCommitment }, ""},
		{"document-signing-eku", ek, func(c *x509.Certificate) { c.UnknownExtKeyUsage = []asn1.ObjectIdentifier{oidKPDocumentSigning} }, ""},
		{"no-signing-usage", ek, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment }, "cert_key_usage"},
		{"server-auth-only", ek, func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} }, "cert_key_usage"},
		{"ca", ek, func(c *x509.Certificate) { c.IsCA, c.BasicConstraintsValid = true, true }, "cert_key_usage"},
		{"weak-curve", weak, nil, "cert_key_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckDocumentSigner(issueLeaf(t, d.CA, tt.key, tt.mod))
			if got := esign.ErrorCode(err); got != tt.code {
				t.Fatalf("code %q, want %q (%v)", got, tt.code, err)
			}
		})
	}
}

func TestImportP12(t *testing.T) {
	d := sharedDev(t)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	leaf := issueLeaf(t, d.CA, key, nil)
	roots := x509.NewCertPool()
	roots.AddCert(d.CA.Certificate)
	encoders := map[string]*pkcs12.Encoder{
		"legacy-rc2": pkcs12.LegacyRC2, "legacy-3des": pkcs12.LegacyDES, "modern-2023": pkcs12.Modern2023, "modern-2026": pkcs12.Modern2026,
	}
	for name, enc := range encoders {
		t.Run(name, func(t *testing.T) {
			p12, err := enc.Encode(key, leaf, []*x509.Certificate{d.CA.Certificate}, "jelszó")
			if err != nil {
				t.Fatal(err)
			}
			im, err := ImportP12(p12, "jelszó", ImportOptions{Roots: roots})
			if err != nil {
				t.Fatal(err)
			}
			if !im.Certificate.Equal(leaf) || len(im.Chain) != 1 || !im.Chain[0].Equal(d.CA.Certificate) || len(im.Warnings) != 0 {
				t.Fatalf("imported %+v", im)
			}
			if _, err := ImportP12(p12, "wrong", ImportOptions{}); esign.ErrorCode(err) != "p12_password" {
				t.Fatalf("wrong password: %v", err)
			}
		})
	}
	p12, _ := pkcs12.Modern.Encode(key, leaf, []*x509.Certificate{d.CA.Certificate}, "pw")
	t.Run("expired", func(t *testing.T) {
		_, err := ImportP12(p12, "pw", ImportOptions{Now: time.Now().Add(400 * 24 * time.Hour)})
		if esign.ErrorCode(err) != "cert_expired" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("expires-soon", func(t *testing.T) {
		im, err := ImportP12(p12, "pw", ImportOptions{Now: time.Now().Add(350 * 24 * time.Hour)})
		if err != nil || len(im.Warnings) != 1 || !strings.Contains(im.Warnings[0], "expires on") {
			t.Fatalf("err %v warnings %v", err, im)
		}
	})
	t.Run("untrusted", func(t *testing.T) {
		if _, err := ImportP12(p12, "pw", ImportOptions{Roots: x509.NewCertPool()}); esign.ErrorCode(err) != "cert_untrusted" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("key-mismatch", func(t *testing.T) {
		other, _ := rsa.GenerateKey(rand.Reader, 2048)
		bad, err := pkcs12.Modern.Encode(other, leaf, nil, "pw")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ImportP12(bad, "pw", ImportOptions{}); esign.ErrorCode(err) != "key_mismatch" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("tls-certificate", func(t *testing.T) {
		tls := issueLeaf(t, d.CA, key, func(c *x509.Certificate) {
			c.KeyUsage = x509.KeyUsageKeyEncipherment
			c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		})
		b, _ := pkcs12.Modern.Encode(key, tls, nil, "pw")
		if _, err := ImportP12(b, "pw", ImportOptions{}); esign.ErrorCode(err) != "cert_key_usage" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		if _, err := ImportP12([]byte("not a p12"), "pw", ImportOptions{}); esign.ErrorCode(err) != "p12_format" {
			t.Fatalf("err %v", err)
		}
	})
}

// TestImportP12FromOpenSSL imports files written by openssl pkcs12, in the
// legacy (RC2/3DES, SHA-1 MAC) and the modern (PBES2 AES-256, SHA-256 MAC)
// encodings.
func TestImportP12FromOpenSSL(t *testing.T) {
	openssl := esigntest.Tool(t, "openssl")
	d := sharedDev(t)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	leaf := issueLeaf(t, d.CA, key, nil)
	dir := t.TempDir()
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600)
	os.WriteFile(filepath.Join(dir, "cert.pem"), certsPEM(leaf), 0o600)
	os.WriteFile(filepath.Join(dir, "ca.pem"), certsPEM(d.CA.Certificate), 0o600)
	tests := []struct {
		name string
		args []string
	}{
		{"legacy", []string{"-legacy"}},
		{"legacy-3des", []string{"-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1"}},
		{"modern", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, tt.name+".p12")
			args := append([]string{"pkcs12", "-export", "-inkey", filepath.Join(dir, "key.pem"), "-in", filepath.Join(dir, "cert.pem"),
				"-certfile", filepath.Join(dir, "ca.pem"), "-passout", "pass:Titok-123", "-out", out}, tt.args...)
			if b, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
				if tt.name == "legacy" && bytes.Contains(b, []byte("legacy")) {
					t.Skip("openssl without the legacy provider")
				}
				t.Fatalf("openssl: %v\n%s", err, b)
			}
			im, err := ImportP12(mustRead(t, out), "Titok-123", ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !im.Certificate.Equal(leaf) || len(im.Chain) != 1 {
				t.Fatalf("imported %v chain %d", im.Certificate.Subject, len(im.Chain))
			}
		})
	}
}

func TestRevocation(t *testing.T) {
	d := sharedDev(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	revokedLeaf := issueLeaf(t, d.CA, key, nil)
	rev := NewMemoryRevocations(d.Signer.Certificate, d.TSA.Certificate)
	rev.Revoke(revokedLeaf.SerialNumber, time.Now().Add(-time.Minute), 1)
	hs := httptest.NewServer(http.StripPrefix("/pki", d.CA.Handler(rev, HandlerOptions{})))
	defer hs.Close()
	get := func(t *testing.T, path string) []byte {
		resp, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: HTTP %d", path, resp.StatusCode)
		}
		return b
	}
	t.Run("crl", func(t *testing.T) {
		crl, err := x509.ParseRevocationList(get(t, "/pki/ca.crl"))
		if err != nil {
			t.Fatal(err)
		}
		if err := crl.CheckSignatureFrom(d.CA.Certificate); err != nil {
			t.Fatal(err)
		}
		if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(revokedLeaf.SerialNumber) != 0 {
			t.Fatalf("entries %v", crl.RevokedCertificateEntries)
		}
	})
	t.Run("ca-cert", func(t *testing.T) {
		if !bytes.Equal(get(t, "/pki/ca.crt"), d.CA.Certificate.Raw) {
			t.Fatal("CA certificate differs")
		}
	})
	ocspQuery := func(t *testing.T, cert *x509.Certificate, issuer *x509.Certificate, h crypto.Hash, viaGET bool) []byte {
		req, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: h})
		if err != nil {
			t.Fatal(err)
		}
		var resp *http.Response
		if viaGET {
			resp, err = http.Get(hs.URL + "/pki/ocsp/" + strings.ReplaceAll(base64Std(req), "/", "%2F"))
		} else {
			resp, err = http.Post(hs.URL+"/pki/ocsp", "application/ocsp-request", bytes.NewReader(req))
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	tests := []struct {
		name   string
		cert   *x509.Certificate
		h      crypto.Hash
		get    bool
		status int
	}{
		{"good-sha1", d.Signer.Certificate, crypto.SHA1, false, ocsp.Good},
		{"good-sha256-get", d.TSA.Certificate, crypto.SHA256, true, ocsp.Good},
		{"revoked", revokedLeaf, crypto.SHA256, false, ocsp.Revoked},
		{"unknown", issueLeaf(t, d.CA, key, nil), crypto.SHA1, false, ocsp.Unknown},
	}
	for _, tt := range tests {
		t.Run("ocsp-"+tt.name, func(t *testing.T) {
			r, err := ocsp.ParseResponseForCert(ocspQuery(t, tt.cert, d.CA.Certificate, tt.h, tt.get), tt.cert, d.CA.Certificate)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d", r.Status, tt.status)
			}
			if r.ProducedAt.Before(r.ThisUpdate) || !r.NextUpdate.After(r.ThisUpdate) {
				t.Fatalf("producedAt %v, thisUpdate %v, nextUpdate %v", r.ProducedAt, r.ThisUpdate, r.NextUpdate)
			}
		})
	}
	t.Run("ocsp-other-issuer", func(t *testing.T) {
		other, _ := NewRootCA(pkix.Name{CommonName: "other"}, key, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		c := issueLeaf(t, other, key, nil)
		_, err := ocsp.ParseResponse(ocspQuery(t, c, other.Certificate, crypto.SHA1, false), nil)
		var re ocsp.ResponseError
		if !errors.As(err, &re) || re.Status != ocsp.Unauthorized {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("ocsp-garbage", func(t *testing.T) {
		resp, err := http.Post(hs.URL+"/pki/ocsp", "application/ocsp-request", strings.NewReader("junk"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		_, err = ocsp.ParseResponse(b, nil)
		var re ocsp.ResponseError
		if !errors.As(err, &re) || re.Status != ocsp.Malformed {
			t.Fatalf("err %v", err)
		}
	})
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// TestRevocationOpenSSL checks our OCSP responder and CRL with openssl.
func TestRevocationOpenSSL(t *testing.T) {
	openssl := esigntest.Tool(t, "openssl")
	d := sharedDev(t)
	hs := httptest.NewServer(http.StripPrefix("/pki", d.CA.Handler(d.Revocations, HandlerOptions{})))
	defer hs.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, d.CABundle(), 0o600)
	cert := filepath.Join(dir, "signer.pem")
	os.WriteFile(cert, certsPEM(d.Signer.Certificate), 0o600)
	out, err := exec.Command(openssl, "ocsp", "-issuer", ca, "-cert", cert, "-url", hs.URL+"/pki/ocsp", "-CAfile", ca).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte(": good")) || !bytes.Contains(out, []byte("Response verify OK")) {
		t.Fatalf("openssl ocsp: %v\n%s", err, out)
	}
	resp, err := http.Get(hs.URL + "/pki/ca.crl")
	if err != nil {
		t.Fatal(err)
	}
	crl, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	crlPath := filepath.Join(dir, "ca.crl")
	os.WriteFile(crlPath, crl, 0o600)
	out, err = exec.Command(openssl, "crl", "-inform", "DER", "-in", crlPath, "-CAfile", ca, "-noout").CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("verify OK")) {
		t.Fatalf("openssl crl: %v\n%s", err, out)
	}
	out, err = exec.Command(openssl, "verify", "-CAfile", ca, "-crl_check", "-CRLfile", crlPath, "-purpose", "smimesign", cert).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl verify: %v\n%s", err, out)
	}
}

func FuzzImportP12(f *testing.F) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca, _ := NewRootCA(pkix.Name{CommonName: "fuzz"}, k, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	leaf := issueLeaf(f, ca, k, nil)
	p12, _ := pkcs12.Modern2023.WithIterations(1).Encode(k, leaf, nil, "pw")
	f.Add(p12)
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		ImportP12(b, "pw", ImportOptions{})
	})
}

// TestFetchRevocation follows the URLs of a certificate issued with a
// BaseURL that points at the test server, as the PAdES B-LT code does.
func TestFetchRevocation(t *testing.T) {
	d := sharedDev(t)
	rev := NewMemoryRevocations()
	hs := httptest.NewServer(http.StripPrefix("/pki", d.CA.Handler(rev, HandlerOptions{})))
	defer hs.Close()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mk := func() *x509.Certificate {
		c := issueLeaf(t, d.CA, key, func(c *x509.Certificate) {
			c.OCSPServer = []string{hs.URL + "/pki/ocsp"}
			c.CRLDistributionPoints = []string{hs.URL + "/pki/ca.crl"}
		})
		rev.Add(c)
		return c
	}
	good, revoked := mk(), mk()
	rev.Revoke(revoked.SerialNumber, time.Now().Add(-time.Hour), 4)
	ctx := context.Background()
	now := time.Now()
	r, der, err := FetchOCSP(ctx, nil, good, d.CA.Certificate, now)
	if err != nil || r.Status != ocsp.Good || len(der) == 0 {
		t.Fatalf("good: %v %v", r, err)
	}
	if r, _, err = FetchOCSP(ctx, nil, revoked, d.CA.Certificate, now); err != nil || r.Status != ocsp.Revoked {
		t.Fatalf("revoked: %v %v", r, err)
	}
	if _, _, err := FetchOCSP(ctx, nil, good, d.CA.Certificate, now.Add(48*time.Hour)); err == nil {
		t.Fatal("stale OCSP response accepted")
	}
	crl, _, err := FetchCRL(ctx, nil, good, d.CA.Certificate, now)
	if err != nil || len(crl.RevokedCertificateEntries) != 1 {
		t.Fatalf("crl: %v %v", crl, err)
	}
	other, _ := NewRootCA(pkix.Name{CommonName: "other"}, key, now.Add(-time.Hour), now.Add(time.Hour))
	if _, _, err := FetchCRL(ctx, nil, good, other.Certificate, now); err == nil {
		t.Fatal("CRL from another issuer accepted")
	}
	if _, _, err := FetchOCSP(ctx, nil, d.CA.Certificate, d.CA.Certificate, now); err == nil {
		t.Fatal("certificate without OCSP URL accepted")
	}
}

// TestOCSPTimes checks that a response's thisUpdate never follows its
// producedAt, whatever the handler's clock says: NSS (pdfsig) rejects such
// responses as SEC_ERROR_OCSP_FUTURE_RESPONSE.
func TestOCSPTimes(t *testing.T) {
	d := sharedDev(t)
	req, err := ocsp.CreateRequest(d.Signer.Certificate, d.CA.Certificate, nil)
	if err != nil {
		t.Fatal(err)
	}
	minute := time.Now().UTC().Truncate(time.Minute)
	tests := []struct {
		name string
		now  time.Time
	}{
		{"end-of-minute", minute.Add(59 * time.Second)},
		{"start-of-minute", minute},
		{"clock-behind", minute.Add(-2*time.Hour + 30*time.Second)},
		{"clock-ahead", minute.Add(3 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der, err := d.CA.ocspResponse(context.Background(), d.Revocations, req, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			r, err := ocsp.ParseResponseForCert(der, d.Signer.Certificate, d.CA.Certificate)
			if err != nil {
				t.Fatal(err)
			}
			if r.ProducedAt.Before(r.ThisUpdate) {
				t.Fatalf("producedAt %v before thisUpdate %v", r.ProducedAt, r.ThisUpdate)
			}
			want := tt.now.Truncate(time.Minute)
			if want.After(r.ProducedAt) {
				want = r.ProducedAt
			}
			if !r.ThisUpdate.Equal(want) || !r.NextUpdate.Equal(want.Add(CRLValidity)) {
				t.Fatalf("thisUpdate %v nextUpdate %v, want %v", r.ThisUpdate, r.NextUpdate, want)
			}
		})
	}
}

// TestFetchOCSPProducedBeforeThisUpdate: FetchOCSP refuses a response that
// NSS-based validators would reject, so that it never goes into a DSS.
func TestFetchOCSPProducedBeforeThisUpdate(t *testing.T) {
	d := sharedDev(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var leaf *x509.Certificate
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// thisUpdate two minutes after the minute x/crypto/ocsp puts in producedAt
		this := time.Now().UTC().Truncate(time.Minute).Add(2 * time.Minute)
		der, err := ocsp.CreateResponse(d.CA.Certificate, d.CA.Certificate, ocsp.Response{
			Status: ocsp.Good, SerialNumber: leaf.SerialNumber, ThisUpdate: this, NextUpdate: this.Add(time.Hour),
		}, d.CA.Key)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write(der)
	}))
	defer hs.Close()
	leaf = issueLeaf(t, d.CA, key, func(c *x509.Certificate) { c.OCSPServer = []string{hs.URL} })
	_, _, err := FetchOCSP(context.Background(), nil, leaf, d.CA.Certificate, time.Now())
	if err == nil || !strings.Contains(err.Error(), "produced before its thisUpdate") {
		t.Fatalf("err %v", err)
	}
}

func TestCertificatesPEM(t *testing.T) {
	d := sharedDev(t)
	b := CertificatesPEM(d.Signer.Certificate, d.CA.Certificate)
	got, err := ParseCertificatesPEM(append([]byte("junk\n"), b...))
	if err != nil || len(got) != 2 || !got[0].Equal(d.Signer.Certificate) || !got[1].Equal(d.CA.Certificate) {
		t.Fatalf("%d %v", len(got), err)
	}
	bad := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")})
	if _, err := ParseCertificatesPEM(bad); err == nil {
		t.Fatal("bad certificate accepted")
	}
}
