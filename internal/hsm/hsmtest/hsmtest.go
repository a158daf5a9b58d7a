//go:build cgo

// Package hsmtest makes SoftHSM2 tokens for tests: each test its own token
// in a temporary directory (SOFTHSM2_CONF), with keys generated inside the
// token. Tests skip, saying so, where SoftHSM2 is not installed (CI
// installs it: apt-get install softhsm2).
package hsmtest

import (
	"crypto"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ThalesGroup/crypto11"

	"esign/internal/esigntest"
	"esign/internal/hsm"
	"esign/internal/pki"
)

// Modules are where Debian installs SoftHSM2's PKCS#11 library.
var Modules = []string{"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"}

// Token is a SoftHSM2 token of one test.
type Token struct {
	Module string
	Dir    string // the token directory: removing it removes the token
	Label  string
	PIN    string
}

// New initialises a token labelled label with user PIN pin in a temporary
// directory and points SOFTHSM2_CONF at it for the rest of the test (so
// the test cannot be parallel).
func New(t testing.TB, label, pin string) *Token {
	t.Helper()
	module := ""
	for _, m := range Modules {
		if _, err := os.Stat(m); err == nil {
			module = m
			break
		}
	}
	if module == "" {
		if os.Getenv(esigntest.RequireEnv) == "1" {
			t.Fatalf("SoftHSM2 is not installed but %s=1: apt-get install softhsm2 (see .ci/run)", esigntest.RequireEnv)
		}
		t.Skip("SoftHSM2 is not installed (apt-get install softhsm2): no PKCS#11 token to test with")
	}
	util := esigntest.Tool(t, "softhsm2-util")
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	out, err := exec.Command(util, "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", pin+"-so").CombinedOutput()
	if err != nil {
		t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	return &Token{Module: module, Dir: tokens, Label: label, PIN: pin}
}

// Config is the hsm.Config that reaches the token.
func (tk *Token) Config() hsm.Config { return hsm.Config{Module: tk.Module, PIN: tk.PIN} }

// Ref names the key labelled key in the token.
func (tk *Token) Ref(key string) hsm.Ref { return hsm.Ref{Token: tk.Label, Key: key} }

func (tk *Token) with(t testing.TB, f func(c *crypto11.Context)) {
	t.Helper()
	c, err := crypto11.Configure(&crypto11.Config{Path: tk.Module, TokenLabel: tk.Label, Pin: tk.PIN})
	if err != nil {
		t.Fatalf("open the token: %v", err)
	}
	defer c.Close()
	f(c)
}

// GenerateRSA makes an RSA key pair labelled key inside the token
// (CKA_SENSITIVE, not extractable) and returns its public key.
func (tk *Token) GenerateRSA(t testing.TB, key string, bits int) crypto.PublicKey {
	t.Helper()
	var pub crypto.PublicKey
	tk.with(t, func(c *crypto11.Context) {
		s, err := c.GenerateRSAKeyPairWithLabel([]byte(key), []byte(key), bits)
		if err != nil {
			t.Fatalf("generate an RSA key in the token: %v", err)
		}
		pub = s.Public()
	})
	return pub
}

// GenerateECDSA makes an ECDSA key pair on curve labelled key inside the
// token and returns its public key.
func (tk *Token) GenerateECDSA(t testing.TB, key string, curve elliptic.Curve) crypto.PublicKey {
	t.Helper()
	var pub crypto.PublicKey
	tk.with(t, func(c *crypto11.Context) {
		s, err := c.GenerateECDSAKeyPairWithLabel([]byte(key), []byte(key), curve)
		if err != nil {
			t.Fatalf("generate an ECDSA key in the token: %v", err)
		}
		pub = s.Public()
	})
	return pub
}

// Signer returns a crypto.Signer for the key labelled key, for a test to
// issue the key's certificate with; close it before the code under test
// opens the token. It never exposes the private key either.
func (tk *Token) Signer(t testing.TB, key string) (crypto.Signer, func()) {
	t.Helper()
	c, err := crypto11.Configure(&crypto11.Config{Path: tk.Module, TokenLabel: tk.Label, Pin: tk.PIN})
	if err != nil {
		t.Fatalf("open the token: %v", err)
	}
	s, err := c.FindKeyPair(nil, []byte(key))
	if err != nil || s == nil {
		c.Close()
		t.Fatalf("find key %q: %v", key, err)
	}
	return s, func() { c.Close() }
}

// ImportCertificate stores cert in the token labelled like its key.
func (tk *Token) ImportCertificate(t testing.TB, key string, cert *x509.Certificate) {
	t.Helper()
	tk.with(t, func(c *crypto11.Context) {
		if err := c.ImportCertificateWithLabel([]byte(key), []byte(key), cert); err != nil {
			t.Fatalf("import the certificate into the token: %v", err)
		}
	})
}

// Issue has ca certify the key labelled key, with the validity and key
// usages of like (the development signer's certificate), and stores the
// certificate in the token next to the key.
func (tk *Token) Issue(t testing.TB, ca *pki.CA, key string, pub crypto.PublicKey, like *x509.Certificate) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "Bank seal in " + tk.Label + " " + key, Organization: like.Subject.Organization},
		NotBefore:             like.NotBefore,
		NotAfter:              like.NotAfter,
		KeyUsage:              like.KeyUsage,
		ExtKeyUsage:           like.ExtKeyUsage,
		UnknownExtKeyUsage:    like.UnknownExtKeyUsage,
		CRLDistributionPoints: like.CRLDistributionPoints,
		OCSPServer:            like.OCSPServer,
		IssuingCertificateURL: like.IssuingCertificateURL,
	}
	for _, e := range like.Extensions {
		if e.Critical && e.Id.Equal(pki.TimeStampingEKU().Id) {
			// RFC 3161's critical timeStamping key usage.
			tmpl.ExtKeyUsage, tmpl.ExtraExtensions = nil, append(tmpl.ExtraExtensions, e)
		}
	}
	cert, err := ca.Issue(tmpl, pub)
	if err != nil {
		t.Fatal(err)
	}
	tk.ImportCertificate(t, key, cert)
	return cert
}

// Remove takes the token's files away, as if the token were pulled out,
// and returns the function that puts them back.
func (tk *Token) Remove(t testing.TB) (putBack func()) {
	t.Helper()
	aside := tk.Dir + ".removed"
	if err := os.Rename(tk.Dir, aside); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if err := os.Rename(aside, tk.Dir); err != nil {
			t.Fatal(err)
		}
	}
}
