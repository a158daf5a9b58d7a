package pades

import (
	"crypto/sha256"
	"crypto/x509"
	"sync"
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
	sigChecked.Lock()
	ok := sigChecked.m[k]
	sigChecked.Unlock()
	if ok {
		return true
	}
	if c.CheckSignatureFrom(parent) != nil {
		return false
	}
	sigChecked.Lock()
	if len(sigChecked.m) >= maxSigChecked {
		clear(sigChecked.m) // many distinct certificates: the cache would not help
	}
	sigChecked.m[k] = true
	sigChecked.Unlock()
	return true
}

type sigPair struct{ child, parent [sha256.Size]byte }

const maxSigChecked = 1024

var sigChecked = struct {
	sync.Mutex
	m map[sigPair]bool
}{m: make(map[sigPair]bool)}
