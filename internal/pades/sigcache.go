package pades

import (
	"crypto/sha256"
	"crypto/x509"

	"esign/internal/memo"
)

// signedBy reports whether parent's key signed c (c.CheckSignatureFrom),
// remembering the pairs that did. Every seal collects the validation data
// of the same few certificates (the bank's seal chain, the TSA's), and
// finding each one's issuer checked the same signatures seal after seal.
// A signature over fixed bytes with a fixed key verifies or not for good:
// keyed by both certificates' hashes, a success stays true; failures are
// not kept (they are rare and checked anew).
func signedBy(c, parent *x509.Certificate) bool {
	k := sigPair{sha256.Sum256(c.Raw), sha256.Sum256(parent.Raw)}
	if _, ok := sigChecked.Get(k); ok {
		return true
	}
	if c.CheckSignatureFrom(parent) != nil {
		return false
	}
	sigChecked.Put(k, struct{}{})
	return true
}

type sigPair struct{ child, parent [sha256.Size]byte }

var sigChecked = memo.New[sigPair, struct{}](1024)
