package pades_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"esign/internal/cms"
	"esign/internal/pades"
	"esign/internal/pki"
	"esign/internal/tsa"
)

// testEnv is a development PKI with its CA (CRL, OCSP) and a TSA served
// over real HTTP on 127.0.0.1.
type testEnv struct {
	dev    *pki.Dev
	url    string
	roots  *x509.CertPool
	caPEM  string // path of the CA certificate in PEM
	client *tsa.Client
	other  cms.Signer // a second signer certificate from the same CA
	// ocspRequests counts the requests the OCSP responder answered (to
	// check that pdfsig really asked it)
	ocspRequests *atomic.Int64
}

var (
	envOnce sync.Once
	envVal  *testEnv
	envErr  error
	envDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if envDir != "" {
		os.RemoveAll(envDir)
	}
	os.Exit(code)
}

func env(tb testing.TB) *testEnv {
	tb.Helper()
	envOnce.Do(func() { envVal, envErr = newEnv() })
	if envErr != nil {
		tb.Fatalf("test PKI: %v", envErr)
	}
	return envVal
}

func newEnv() (*testEnv, error) {
	dir, err := os.MkdirTemp("", "pades-env")
	if err != nil {
		return nil, err
	}
	envDir = dir
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	url := "http://" + ln.Addr().String()
	dev, _, err := pki.OpenDev(filepath.Join(dir, "pki"), pki.DevOptions{BaseURL: url + "/pki"})
	if err != nil {
		return nil, err
	}
	store, err := tsa.OpenFileSerialStore(filepath.Join(dir, "serial"), 0)
	if err != nil {
		return nil, err
	}
	srv, err := tsa.NewServer(tsa.ServerConfig{Certificate: dev.TSA.Certificate, Chain: dev.TSA.Chain, Key: dev.TSA.Key, Serials: store})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	ocspRequests := new(atomic.Int64)
	pkiHandler := http.StripPrefix("/pki", dev.CA.Handler(dev.Revocations, pki.HandlerOptions{}))
	mux.Handle("/pki/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/pki/ocsp") {
			ocspRequests.Add(1)
		}
		pkiHandler.ServeHTTP(w, r)
	}))
	mux.Handle("/tsa", srv)
	hs := httptest.NewUnstartedServer(mux)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start() // lives for the whole test binary
	roots := x509.NewCertPool()
	roots.AddCert(dev.CA.Certificate)
	caPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: dev.CA.Certificate.Raw}), 0o644); err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	sc := dev.Signer.Certificate
	cert, err := dev.CA.Issue(&x509.Certificate{
		Subject:   pkix.Name{CommonName: "Another Test Signer", Organization: []string{"elsewhere"}},
		NotBefore: sc.NotBefore, NotAfter: sc.NotAfter,
		KeyUsage: sc.KeyUsage, ExtKeyUsage: sc.ExtKeyUsage,
		OCSPServer: sc.OCSPServer, CRLDistributionPoints: sc.CRLDistributionPoints,
	}, &key.PublicKey)
	if err != nil {
		return nil, err
	}
	dev.Revocations.Add(cert)
	return &testEnv{dev: dev, url: url, roots: roots, caPEM: caPEM,
		client: &tsa.Client{URL: url + "/tsa", Roots: roots}, ocspRequests: ocspRequests,
		other: cms.Signer{Certificate: cert, Chain: []*x509.Certificate{dev.CA.Certificate}, Key: key}}, nil
}

func (e *testEnv) signOptions(level pades.Level) pades.SignOptions {
	ls := &pades.LocalSigner{Signer: cms.Signer(e.dev.Signer)}
	if level != pades.LevelBB {
		ls.TSA = e.client
	}
	return pades.SignOptions{Level: level, CMS: ls, TSA: e.client,
		ExtraCerts: []*x509.Certificate{e.dev.CA.Certificate}}
}
