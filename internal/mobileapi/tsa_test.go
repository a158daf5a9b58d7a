package mobileapi

import (
	"crypto"
	"crypto/x509"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"esign/internal/pki"
	"esign/internal/tsa"
)

// newTSA starts a real RFC 3161 TSA (the development PKI's) on loopback
// and returns a client that trusts it.
func newTSA(t *testing.T) *tsa.Client {
	t.Helper()
	dir := t.TempDir()
	dev, _, err := pki.OpenDev(filepath.Join(dir, "pki"), pki.DevOptions{})
	if err != nil {
		t.Fatal(err)
	}
	serials, err := tsa.OpenFileSerialStore(filepath.Join(dir, "tsa.serial"), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serials.Close() })
	srv, err := tsa.NewServer(tsa.ServerConfig{Certificate: dev.TSA.Certificate, Chain: dev.TSA.Chain, Key: dev.TSA.Key,
		Policy: tsa.DefaultPolicy, Serials: serials})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	roots := x509.NewCertPool()
	roots.AddCert(dev.CA.Certificate)
	return &tsa.Client{URL: hs.URL, Roots: roots}
}

func verifyToken(t *testing.T, c *tsa.Client, der, digest []byte) {
	t.Helper()
	if _, err := tsa.VerifyToken(der, digest, crypto.SHA256, tsa.VerifyOptions{Roots: c.Roots}); err != nil {
		t.Fatalf("the token does not verify: %v", err)
	}
}
