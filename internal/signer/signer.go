// Package signer is where the bank's signing keys live and how pdfservice
// and the TSA sign with them without caring where that is
// (docs/key-custody.md).
//
// A key lives in one of three places, its Source: an encrypted .p12 in the
// cert table (decrypted into pdfservice's memory), a PKCS#11 token (a
// hardware security module; the key never leaves it) or a Cloud Signature
// Consortium API v2 service (remote signing; only the digest leaves
// pdfservice). Which one a certificate's key is in is recorded with the
// certificate when it is imported (`esign cert import`; the cert table's
// key_source and key_ref columns): activating a certificate chooses its
// source. The deployment's configuration says how each source is reached
// (pkcs11.module and pkcs11.pin for PKCS#11; the CSC service's URL and
// OAuth2 client for CSC), and internal/cli wires one Opener per source
// into pdfservice.
package signer

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"io"
	"strings"

	"esign/internal/esign"
)

// Source is where a key lives; stored in the cert table's key_source.
type Source string

// The key sources.
const (
	P12    Source = "p12"    // an encrypted .p12 in the database (the default)
	PKCS11 Source = "pkcs11" // a PKCS#11 token; key_ref "token=LABEL;key=LABEL" or "slot=N;key=LABEL"
	CSC    Source = "csc"    // a CSC API v2 credential; key_ref is its credentialID
)

// ParseSource checks a stored or configured source; empty is P12.
func ParseSource(s string) (Source, error) {
	switch Source(strings.TrimSpace(s)) {
	case "", P12:
		return P12, nil
	case PKCS11:
		return PKCS11, nil
	case CSC:
		return CSC, nil
	}
	return "", fmt.Errorf("unknown key source %q: want p12, pkcs11 or csc", s)
}

// Signer is a private key held by its key store. Sign is given the digest
// (crypto.Signer's contract: RSA PKCS #1 v1.5 with opts a crypto.Hash, RSA
// PSS with *rsa.PSSOptions, ECDSA with an ASN.1 signature back) and the
// store signs; for PKCS11 and CSC the private key is never in this
// process's memory. A Sign that fails because the store is out of reach
// returns an error of kind esign.Unavailable, so that the seal job waits
// and retries; a refusal that retrying cannot cure (wrong PIN, a disabled
// credential) has kind esign.Unavailable too, as the operator fixes it
// without a new job, but its message says what to fix.
type Signer interface {
	crypto.Signer
	// Check reports cheaply whether the key can sign now (a session ping
	// and key lookup, a credentials/info call): pdfservice's /readyz.
	Check(ctx context.Context) error
	// Close ends the session with the key store.
	Close() error
}

// ContextSigner is implemented by a Signer whose Sign talks over the
// network (CSC): pdfservice calls SignContext when it can, so that the
// request's deadline bounds the remote call.
type ContextSigner interface {
	SignContext(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error)
}

// Certified is implemented by a Signer whose store holds the key's
// certificate chain (a token's certificate objects, CSC credentials/info):
// `esign cert import` registers the key with it. Leaf first.
type Certified interface {
	Certificates(ctx context.Context) ([]*x509.Certificate, error)
}

// Opener opens the key a certificate's key_ref names in one source.
type Opener interface {
	Open(ctx context.Context, ref string) (Signer, error)
}

// Openers holds one Opener per source other than P12 (which pdfservice
// opens from the database); a source without one is not configured.
type Openers map[Source]Opener

// Open opens ref in src, failing with esign.Unavailable when src is not
// configured in this process.
func (o Openers) Open(ctx context.Context, src Source, ref string) (Signer, error) {
	const op = "signer.Open"
	opener, ok := o[src]
	if !ok || opener == nil {
		return nil, esign.E(op, esign.Unavailable, fmt.Sprintf("the signing key is in %s, which this process is not configured for (docs/key-custody.md)", src))
	}
	s, err := opener.Open(ctx, ref)
	if err != nil {
		return nil, esign.E(op, err)
	}
	return s, nil
}

// WithContext binds ctx to s: the crypto.Signer it returns signs through
// SignContext(ctx, …) when s is a ContextSigner, and is s otherwise.
// pdfservice signs each request through it.
func WithContext(ctx context.Context, s crypto.Signer) crypto.Signer {
	cs, ok := s.(ContextSigner)
	if !ok {
		return s
	}
	return ctxSigner{ctx: ctx, s: s, cs: cs}
}

type ctxSigner struct {
	ctx context.Context
	s   crypto.Signer
	cs  ContextSigner
}

func (c ctxSigner) Public() crypto.PublicKey { return c.s.Public() }

func (c ctxSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return c.cs.SignContext(c.ctx, digest, opts)
}
