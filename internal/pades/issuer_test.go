package pades

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

func sigCacheChain(t testing.TB) (root, leaf, other *x509.Certificate) {
	t.Helper()
	mk := func(tmpl, parent *x509.Certificate, pub, priv any) *x509.Certificate {
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	now := time.Now()
	ca := func(cn string) (*x509.Certificate, *ecdsa.PrivateKey) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: now.Add(-time.Hour),
			NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
		return mk(tmpl, tmpl, k.Public(), k), k
	}
	root, rk := ca("sigcache root")
	other, _ = ca("sigcache root") // same name, another key
	lk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf = mk(&x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "sigcache leaf"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}, root, lk.Public(), rk)
	return root, leaf, other
}

// TestSignedByCache: a remembered success does not make another issuer of
// the same name pass, and the answers stay those of CheckSignatureFrom.
func TestSignedByCache(t *testing.T) {
	root, leaf, other := sigCacheChain(t)
	for range 2 {
		if !signedBy(leaf, root) || !isSelfSigned(root) {
			t.Fatal("a valid signature refused")
		}
		if signedBy(leaf, other) || signedBy(root, other) || findIssuer(leaf, []*x509.Certificate{other}) != nil {
			t.Fatal("a signature accepted from a key that did not make it")
		}
		if isSelfSigned(leaf) {
			t.Fatal("leaf taken for self-signed")
		}
		if findIssuer(leaf, []*x509.Certificate{other, root}) != root {
			t.Fatal("issuer not found")
		}
	}
}

// BenchmarkFindIssuer is what collecting a seal's validation data paid per
// certificate of its chains: the issuer's signature and, for a root, its
// own.
func BenchmarkFindIssuer(b *testing.B) {
	root, leaf, _ := sigCacheChain(b)
	pool := []*x509.Certificate{leaf, root}
	b.ReportAllocs()
	for b.Loop() {
		if isSelfSigned(leaf) || !isSelfSigned(root) || findIssuer(leaf, pool) != root {
			b.Fatal("wrong answer")
		}
	}
}
