// Package tsatest starts a real RFC 3161 time-stamping authority for tests:
// the development PKI's TSA certificate behind tsa.Server on a loopback
// httptest server, and a client that trusts it.
package tsatest

import (
	"crypto/x509"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"esign/internal/pki"
	"esign/internal/tsa"
)

// TSA is a running time-stamping authority.
type TSA struct {
	Dev    *pki.Dev       // the development PKI (CA, document signer, TSA)
	Roots  *x509.CertPool // the development CA, for verifying tokens and signatures
	Client *tsa.Client    // a client of the TSA that trusts Roots
	URL    string
}

// Start runs a TSA until the test ends. accuracy is what its tokens state
// (0: the server's default of 1 s); protocol tests use a few milliseconds so
// that TS1 < TS2 < TS3 holds without waiting.
func Start(tb testing.TB, accuracy time.Duration) *TSA {
	tb.Helper()
	dir := tb.TempDir()
	dev, _, err := pki.OpenDev(filepath.Join(dir, "pki"), pki.DevOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	serials, err := tsa.OpenFileSerialStore(filepath.Join(dir, "tsa.serial"), 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { serials.Close() })
	srv, err := tsa.NewServer(tsa.ServerConfig{Certificate: dev.TSA.Certificate, Chain: dev.TSA.Chain, Key: dev.TSA.Key,
		Policy: tsa.DefaultPolicy, Serials: serials, Accuracy: accuracy})
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	tb.Cleanup(hs.Close)
	roots := x509.NewCertPool()
	roots.AddCert(dev.CA.Certificate)
	return &TSA{Dev: dev, Roots: roots, Client: &tsa.Client{URL: hs.URL, Roots: roots}, URL: hs.URL}
}
