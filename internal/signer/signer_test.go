package signer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"testing"

	"esign/internal/esign"
)

func TestParseSource(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Source
		ok   bool
	}{{"", P12, true}, {"p12", P12, true}, {"pkcs11", PKCS11, true}, {"csc", CSC, true}, {"hsm", "", false}, {"P12", "", false}} {
		got, err := ParseSource(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseSource(%q) = %q, %v", tc.in, got, err)
		}
	}
}

func TestOpenUnconfigured(t *testing.T) {
	_, err := Openers{}.Open(context.Background(), PKCS11, "token=a;key=b")
	if !esign.IsKind(err, esign.Unavailable) {
		t.Fatalf("%v, want Unavailable", err)
	}
}

type ctxKey struct{ crypto.Signer }

type seenCtx struct{}

func (k ctxKey) SignContext(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if ctx.Value(seenCtx{}) == nil {
		return nil, errors.New("the request's context was not passed")
	}
	return k.Signer.Sign(rand.Reader, digest, opts)
}

func (k ctxKey) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("Sign called instead of SignContext")
}

// TestWithContext: a ContextSigner signs with the request's context.
func TestWithContext(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ctx := context.WithValue(context.Background(), seenCtx{}, true)
	d := sha256.Sum256([]byte("x"))
	sig, err := WithContext(ctx, ctxKey{key}).Sign(nil, d[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(&key.PublicKey, d[:], sig) {
		t.Fatalf("%v", err)
	}
	if s := WithContext(ctx, key); s != crypto.Signer(key) {
		t.Fatal("a plain crypto.Signer is not returned as it is")
	}
}
