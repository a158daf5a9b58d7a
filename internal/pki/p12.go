package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"esign/internal/esign"
)

// MaxP12Size bounds an uploaded .p12 file.
const MaxP12Size = 1 << 20

// ImportOptions tunes ImportP12.
type ImportOptions struct {
	Now        time.Time     // default time.Now()
	WarnBefore time.Duration // expiry warning window, default DefaultWarnBefore
	// Roots, when set, requires the certificate to chain to them (through
	// the chain in the file).
	Roots *x509.CertPool
}

// Imported is the result of ImportP12.
type Imported struct {
	Identity
	Warnings []string // e.g. the certificate expires soon
}

// ImportP12 decodes a PKCS #12 file (legacy 3DES/RC2 or modern PBES2/AES
// with PBMAC1 or HMAC), checks that its key matches its certificate and
// that the certificate can sign documents now, and orders the chain from
// the issuer up. Storing the file and its password (encrypted with
// envelope) is the caller's business.
func ImportP12(data []byte, password string, opt ImportOptions) (*Imported, error) {
	const op = "pki.ImportP12"
	if len(data) > MaxP12Size {
		return nil, esign.WithCode(op, esign.Invalid, "p12_format", "the .p12 file is too large")
	}
	key, cert, cas, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) {
			return nil, &esign.Error{Op: op, Kind: esign.Invalid, Code: "p12_password", Msg: "the .p12 password is wrong", Err: err}
		}
		return nil, &esign.Error{Op: op, Kind: esign.Invalid, Code: "p12_format", Msg: "the file is not a readable .p12", Err: err}
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, esign.WithCode(op, esign.Invalid, "cert_key_type", "the .p12 key type is not supported")
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, esign.WithCode(op, esign.Invalid, "key_mismatch", "the private key does not belong to the certificate")
	}
	if err := CheckDocumentSigner(cert); err != nil {
		return nil, err
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	if err := CheckValidity(cert, now); err != nil {
		return nil, err
	}
	im := &Imported{Identity: Identity{Certificate: cert, Chain: orderChain(cert, cas), Key: signer}}
	if opt.Roots != nil {
		inter := x509.NewCertPool()
		for _, c := range cas {
			inter.AddCert(c)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: opt.Roots, Intermediates: inter, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			return nil, &esign.Error{Op: op, Kind: esign.Invalid, Code: "cert_untrusted", Msg: "the certificate does not chain to a trusted root", Err: err}
		}
	}
	if w, soon := ExpiryWarning(cert, now, opt.WarnBefore); soon {
		im.Warnings = append(im.Warnings, w)
	}
	for _, c := range im.Chain {
		if w, soon := ExpiryWarning(c, now, opt.WarnBefore); soon {
			im.Warnings = append(im.Warnings, w)
		}
	}
	return im, nil
}

// orderChain returns the issuers of leaf from the bag, nearest first,
// followed by any unrelated certificates.
func orderChain(leaf *x509.Certificate, bag []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	used := make([]bool, len(bag))
	cur := leaf
	for range bag {
		next := -1
		for i, c := range bag {
			if !used[i] && bytes.Equal(cur.RawIssuer, c.RawSubject) && cur.CheckSignatureFrom(c) == nil {
				next = i
				break
			}
		}
		if next < 0 || bytes.Equal(cur.RawIssuer, cur.RawSubject) {
			break
		}
		used[next] = true
		out = append(out, bag[next])
		cur = bag[next]
	}
	for i, c := range bag {
		if !used[i] {
			out = append(out, c)
		}
	}
	return out
}
