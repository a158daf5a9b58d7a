package tsa

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"math/big"
	"testing"
	"time"
)

// TestChainCacheKeepsChecks verifies a token once (the chain is cached)
// and then asks what the cache must not answer by itself: another time
// outside the certificates' validity, other roots, a pool without the
// root, other embedded certificates.
func TestChainCacheKeepsChecks(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := newTestPKI(t, k, true)
	srv, _ := newTestServer(t, p, nil)
	digest := sha256.Sum256([]byte("cache"))
	der, err := srv.Issue(context.Background(), &Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], CertReq: true})
	if err != nil {
		t.Fatal(err)
	}
	roots := p.pool()
	cache := NewChainCache()
	for i := range 2 { // the second one from the cache
		if _, err := VerifyToken(der, digest[:], crypto.SHA256, VerifyOptions{Roots: roots, Chains: cache}); err != nil {
			t.Fatal(err)
		}
		if i == 0 && cache.m.Len() != 1 {
			t.Fatalf("the verified chain was not remembered: %d entries", cache.m.Len())
		}
	}
	if _, err := VerifyToken(der, digest[:], crypto.SHA256, VerifyOptions{Roots: roots, CurrentTime: p.tsa.NotAfter.Add(time.Second), Chains: cache}); !errors.Is(err, ErrVerify) {
		t.Fatalf("expired TSA certificate accepted: %v", err)
	}
	if _, err := VerifyToken(der, digest[:], crypto.SHA256, VerifyOptions{Roots: roots, CurrentTime: p.tsa.NotBefore.Add(-time.Second), Chains: cache}); !errors.Is(err, ErrVerify) {
		t.Fatalf("TSA certificate before its validity accepted: %v", err)
	}
	other := newTestPKI(t, k, true)
	if _, err := VerifyToken(der, digest[:], crypto.SHA256, VerifyOptions{Roots: other.pool(), Chains: cache}); !errors.Is(err, ErrVerify) {
		t.Fatalf("token verified under other roots: %v", err)
	}
	if _, err := VerifyToken(der, digest[:], crypto.SHA256, VerifyOptions{Roots: x509.NewCertPool(), Chains: cache}); !errors.Is(err, ErrVerify) {
		t.Fatalf("token verified under empty roots: %v", err)
	}
	// The same TSA certificate given instead of embedded is another key.
	der2, err := srv.Issue(context.Background(), &Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], Nonce: big.NewInt(7)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyToken(der2, digest[:], crypto.SHA256, VerifyOptions{Roots: x509.NewCertPool(), Certificates: []*x509.Certificate{p.tsa}, Chains: cache}); !errors.Is(err, ErrVerify) {
		t.Fatalf("token without certificates verified under empty roots: %v", err)
	}
	if _, err := VerifyToken(der2, digest[:], crypto.SHA256, VerifyOptions{Roots: roots, Certificates: []*x509.Certificate{p.tsa}, Chains: cache}); err != nil {
		t.Fatal(err)
	}
}
