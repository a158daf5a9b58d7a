package tsa

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"time"

	"esign/internal/memo"
)

// ChainCache remembers TSA certificate chains that verified, so that the
// tokens of one TSA (a handful of certificates, thousands of tokens) do not
// each pay for building and checking the chain again: x509.Verify was a
// twentieth of oss's CPU in the signing flow (docs/performance.md, "oss
// CPU"), spent proving the same certificates over and over.
//
// What Verify decides depends only on the certificates, the pools and the
// time: an entry is keyed by the pools (pointers: a CertPool can only gain
// certificates, which never turns a valid chain invalid, and the key keeps
// the pool alive so that its address is not reused) and a hash of the
// leaf and the certificates the token carries, and it holds the window in
// which every certificate of the chain found is valid. A time inside that
// window verifies as before; any other time, or anything not cached, goes
// through x509.Verify. Only successes are kept: a failure is checked anew
// every time. Revocation is not Verify's business and not cached here.
//
// A service that verifies many tokens against the same pools holds one
// (VerifyOptions.Chains; signing.Service does); nil checks every chain.
// A deployment trusts a few TSAs: 256 entries are plenty.
type ChainCache struct {
	m *memo.Map[chainKey, chainWindow]
}

// NewChainCache returns an empty cache.
func NewChainCache() *ChainCache { return &ChainCache{m: memo.New[chainKey, chainWindow](256)} }

type chainKey struct {
	roots, intermediates *x509.CertPool
	certs                [sha256.Size]byte // leaf, then the token's certificates
}

type chainWindow struct{ notBefore, notAfter time.Time }

func newChainKey(roots, intermediates *x509.CertPool, leaf *x509.Certificate, extra []*x509.Certificate) chainKey {
	h := sha256.New()
	var n [4]byte
	for _, c := range append([]*x509.Certificate{leaf}, extra...) {
		binary.BigEndian.PutUint32(n[:], uint32(len(c.Raw)))
		h.Write(n[:])
		h.Write(c.Raw)
	}
	k := chainKey{roots: roots, intermediates: intermediates}
	h.Sum(k.certs[:0])
	return k
}

// verifiedAt reports whether the chain of k was verified before and every
// certificate of it is valid at t.
func (c *ChainCache) verifiedAt(k chainKey, t time.Time) bool {
	if c == nil {
		return false
	}
	w, ok := c.m.Get(k)
	return ok && !t.Before(w.notBefore) && !t.After(w.notAfter)
}

// remember records the first of the chains Verify returned.
func (c *ChainCache) remember(k chainKey, chains [][]*x509.Certificate) {
	if c == nil || len(chains) == 0 || len(chains[0]) == 0 {
		return
	}
	w := chainWindow{notBefore: chains[0][0].NotBefore, notAfter: chains[0][0].NotAfter}
	for _, c := range chains[0][1:] {
		if c.NotBefore.After(w.notBefore) {
			w.notBefore = c.NotBefore
		}
		if c.NotAfter.Before(w.notAfter) {
			w.notAfter = c.NotAfter
		}
	}
	c.m.Put(k, w)
}
