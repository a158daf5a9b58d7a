package mobileapi

import (
	"crypto"
	"testing"

	"esign/internal/tsa"
	"esign/internal/tsa/tsatest"
)

// newTSA starts a real RFC 3161 TSA (the development PKI's) on loopback
// and returns a client that trusts it.
func newTSA(t *testing.T) *tsa.Client {
	t.Helper()
	return tsatest.Start(t, 0).Client
}

func verifyToken(t *testing.T, c *tsa.Client, der, digest []byte) {
	t.Helper()
	if _, err := tsa.VerifyToken(der, digest, crypto.SHA256, tsa.VerifyOptions{Roots: c.Roots}); err != nil {
		t.Fatalf("the token does not verify: %v", err)
	}
}
