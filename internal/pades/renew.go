package pades

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"esign/internal/cms"
	"esign/internal/esign"
	"esign/internal/pdf"
	"esign/internal/tsa"
)

// ArchiveState describes the newest document time-stamp of a PDF: what
// keeps a B-LTA file's evidence verifiable, until its TSA's certificates
// expire or its algorithms stop being trusted (docs/pades.md, "Archive
// renewal").
type ArchiveState struct {
	Timestamps int       // document time-stamps in the file; 0: none (the rest is zero)
	Time       time.Time // the newest one's genTime
	TSA        string    // the subject of its TSA certificate
	// Expires is the earliest NotAfter of the TSA certificate and of the
	// chain above it (from the token and the DSS).
	Expires time.Time
	// Weak says why its algorithms no longer count as strong (a SHA-1
	// digest, an RSA key under 2048 bits, …); empty when they do.
	Weak string
}

// Due reports whether the newest document time-stamp needs renewing at
// now: a weak algorithm, or a certificate that expires within margin.
// A file without a document time-stamp is never due (there is nothing to
// renew: it is not B-LTA).
func (s ArchiveState) Due(now time.Time, margin time.Duration) bool {
	if s.Timestamps == 0 {
		return false
	}
	return s.Weak != "" || !now.Add(margin).Before(s.Expires)
}

// docTimestamps returns the document time-stamps of doc in file order
// (the newest last) with their tokens.
func docTimestamps(doc *pdf.Document) ([][]byte, error) {
	sigs, err := findSignatures(doc)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, s := range sigs {
		sf, _ := pdf.AsName(s.dict["SubFilter"])
		if s.dict["Type"] != pdf.Name("DocTimeStamp") && sf != "ETSI.RFC3161" {
			continue
		}
		c, ok := pdf.AsString(s.dict["Contents"])
		if !ok {
			continue
		}
		out = append(out, trimDER(c))
	}
	return out, nil
}

// ArchiveStatus reads the PDF in r (size bytes) and describes its newest
// document time-stamp. Errors: the file is not a readable PDF, or its
// newest document time-stamp cannot be parsed or names no certificate.
func ArchiveStatus(r io.ReaderAt, size int64) (ArchiveState, error) {
	const op = "pades.ArchiveStatus"
	doc, err := pdf.Open(r, size)
	if err != nil {
		return ArchiveState{}, err
	}
	toks, err := docTimestamps(doc)
	if err != nil {
		return ArchiveState{}, pdf.Unreadable(op, err)
	}
	if len(toks) == 0 {
		return ArchiveState{}, nil
	}
	tok, err := tsa.ParseToken(toks[len(toks)-1])
	if err != nil {
		return ArchiveState{}, esign.E(op, esign.Invalid, "the newest document time-stamp cannot be read", err)
	}
	if tok.Signer == nil {
		return ArchiveState{}, esign.E(op, esign.Invalid, "the newest document time-stamp does not carry its TSA's certificate")
	}
	v := &verifier{doc: doc}
	v.readDSS()
	st := ArchiveState{Timestamps: len(toks), Time: tok.Info.GenTime, TSA: tok.Signer.Subject.String()}
	chain := certChain(tok.Signer, append(append([]*x509.Certificate(nil), tok.SignedData.Certificates...), v.dssCerts...))
	st.Expires = chain[0].NotAfter
	for _, c := range chain {
		if c.NotAfter.Before(st.Expires) {
			st.Expires = c.NotAfter
		}
	}
	st.Weak = weakToken(tok, chain)
	return st, nil
}

// certChain is c followed by its issuers found in pool, up to a
// self-signed certificate or the first one whose issuer is not there.
func certChain(c *x509.Certificate, pool []*x509.Certificate) []*x509.Certificate {
	chain := []*x509.Certificate{c}
	for len(chain) < 8 && !isSelfSigned(c) {
		issuer := findIssuer(c, pool)
		if issuer == nil {
			break
		}
		chain = append(chain, issuer)
		c = issuer
	}
	return chain
}

// weakToken says why a time-stamp's algorithms are weak: its message
// imprint or signature digest is not SHA-256 or stronger, or a certificate
// of its chain has a small key or a SHA-1 (or MD5) signature.
func weakToken(tok *tsa.Token, chain []*x509.Certificate) string {
	var why []string
	if h := tok.Info.HashAlgorithm; h != crypto.SHA256 && h != crypto.SHA384 && h != crypto.SHA512 {
		why = append(why, fmt.Sprintf("the message imprint uses %v", hashName(h)))
	}
	if si := tok.SignedData.SignerInfos; len(si) > 0 {
		if h, ok := hashFromOID(si[0].DigestAlgorithm.Algorithm); !ok || h == crypto.SHA1 {
			why = append(why, "the time-stamp's signature digest is SHA-1 or unknown")
		}
	}
	for _, c := range chain {
		switch k := c.PublicKey.(type) {
		case *rsa.PublicKey:
			if k.N.BitLen() < 2048 {
				why = append(why, fmt.Sprintf("%q has a %d-bit RSA key", c.Subject.CommonName, k.N.BitLen()))
			}
		case *ecdsa.PublicKey:
			if k.Curve.Params().BitSize < 256 {
				why = append(why, fmt.Sprintf("%q has a %d-bit EC key", c.Subject.CommonName, k.Curve.Params().BitSize))
			}
		}
		if isSelfSigned(c) {
			continue // a trust anchor's own signature is not relied on
		}
		switch c.SignatureAlgorithm {
		case x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1, x509.MD5WithRSA, x509.MD2WithRSA:
			why = append(why, fmt.Sprintf("%q is signed with %v", c.Subject.CommonName, c.SignatureAlgorithm))
		}
	}
	return strings.Join(why, "; ")
}

func hashName(h crypto.Hash) string {
	if h == 0 {
		return "an unknown digest"
	}
	return h.String()
}

// hashFromOID is cms.HashFromOID that also knows SHA-1.
func hashFromOID(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	if oidSHA1.Equal(oid) {
		return crypto.SHA1, true
	}
	return cms.HashFromOID(oid)
}

// RenewOptions configure Renew.
type RenewOptions struct {
	// TSA issues the new document time-stamp.
	TSA tsa.Timestamper
	// Revocation fetches the OCSP responses or CRLs of the previous
	// document time-stamp's TSA chain; default HTTPRevocation{}.
	Revocation RevocationFetcher
	// ExtraCerts are added to the DSS besides those of the time-stamps
	// (e.g. the root certificate).
	ExtraCerts   []*x509.Certificate
	ContentsSize int // of the new document time-stamp; 0: DefaultContentsSize
}

// Renew extends the archive of the B-LTA PDF f (size bytes) in place, as
// PAdES B-LTA (ETSI EN 319 142-1) prescribes, and returns the new size:
// one incremental update with a DSS holding the certificates and fresh
// revocation data of the newest document time-stamp's TSA chain and of
// any earlier document time-stamp the DSS has no VRI entry for, then a
// new document time-stamp (ETSI.RFC3161) from opt.TSA over the whole
// file, then — when that TSA's certificates are not in the DSS yet — a
// DSS update with its validation data. Every earlier byte stays as it was,
// so every earlier signature and time-stamp keeps validating. Errors:
// Invalid (no document time-stamp to renew), what the revocation sources
// and the TSA return (ErrNoRevocation wrapped; Unavailable).
func Renew(ctx context.Context, f ReadWriterAt, size int64, opt RenewOptions) (int64, error) {
	const op = "pades.Renew"
	if opt.TSA == nil {
		return 0, esign.E(op, esign.Invalid, "renewal needs a time-stamping authority")
	}
	doc, err := pdf.Open(f, size)
	if err != nil {
		return 0, err
	}
	toks, err := docTimestamps(doc)
	if err != nil {
		return 0, pdf.Unreadable(op, err)
	}
	if len(toks) == 0 {
		return 0, esign.E(op, esign.Invalid, "the PDF has no document time-stamp to renew (it is not B-LTA)")
	}
	v := &verifier{doc: doc}
	v.readDSS()
	vri := dssVRIKeys(doc)
	var sigs [][]byte
	extra := append([]*x509.Certificate(nil), opt.ExtraCerts...)
	for i, t := range toks {
		sum := sha1.Sum(t)
		if i < len(toks)-1 && vri[strings.ToUpper(hex.EncodeToString(sum[:]))] {
			continue // covered by an earlier renewal
		}
		sigs = append(sigs, t)
		// issuers the token does not carry come from the DSS
		if tok, err := tsa.ParseToken(t); err == nil && tok.Signer != nil {
			extra = append(extra, certChain(tok.Signer, append(slices.Clone(tok.SignedData.Certificates), v.dssCerts...))[1:]...)
		}
	}
	so := SignOptions{Revocation: opt.Revocation, ExtraCerts: extra}
	end, err := addDSS(ctx, f, size, sigs, so, nil)
	if err != nil {
		return 0, esign.E(op, err)
	}
	end, tok, err := addDocumentTimestamp(ctx, f, end, opt.TSA, opt.ContentsSize, nil)
	if err != nil {
		return 0, esign.E(op, err)
	}
	if !certsCovered(tok, sigs, extra) {
		if end, err = addDSS(ctx, f, end, [][]byte{tok}, so, nil); err != nil {
			return 0, esign.E(op, err)
		}
	}
	return end, nil
}

// dssVRIKeys returns the keys of the DSS's /VRI dictionary.
func dssVRIKeys(doc *pdf.Document) map[string]bool {
	out := map[string]bool{}
	cat, _, err := doc.Catalog()
	if err != nil {
		return out
	}
	dss, err := doc.ResolveDict(cat["DSS"])
	if err != nil || dss == nil {
		return out
	}
	vri, err := doc.ResolveDict(dss["VRI"])
	if err != nil {
		return out
	}
	for k := range vri {
		out[string(k)] = true
	}
	return out
}
