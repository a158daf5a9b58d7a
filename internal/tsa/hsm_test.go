//go:build cgo

package tsa_test

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"esign/internal/hsm"
	"esign/internal/hsm/hsmtest"
	"esign/internal/pki"
	"esign/internal/tsa"
)

// TestServerWithPKCS11Key: the TSA signs its tokens with a key in a
// SoftHSM2 token, and the client verifies them to the CA.
func TestServerWithPKCS11Key(t *testing.T) {
	dev, _, err := pki.OpenDev(filepath.Join(t.TempDir(), "pki"), pki.DevOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tk := hsmtest.New(t, "tsa", "1234")
	pub := tk.GenerateECDSA(t, "tsa", elliptic.P384())
	cert := tk.Issue(t, dev.CA, "tsa", pub, dev.TSA.Certificate)
	key, err := (&hsm.Opener{Config: tk.Config()}).Open(t.Context(), tk.Ref("tsa").String())
	if err != nil {
		t.Fatal(err)
	}
	defer key.Close()
	serials, err := tsa.OpenFileSerialStore(filepath.Join(t.TempDir(), "tsa.serial"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer serials.Close()
	srv, err := tsa.NewServer(tsa.ServerConfig{Certificate: cert, Chain: dev.TSA.Chain, Key: key, Policy: tsa.DefaultPolicy, Serials: serials})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	roots := x509.NewCertPool()
	roots.AddCert(dev.CA.Certificate)
	c := &tsa.Client{URL: hs.URL, Roots: roots}
	d := sha256.Sum256([]byte("document"))
	tok, err := c.Timestamp(context.Background(), d[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Signer == nil || !tok.Signer.Equal(cert) {
		t.Fatalf("token signed by %v, want the HSM's TSA certificate", tok.Signer)
	}
}
