// Package pki holds the certificates of esign: the development PKI generated
// on first start (root CA, bank document-signing certificate, TSA
// certificate), .p12 import with the checks a document signer needs, expiry
// warnings, and the revocation data (CRL, OCSP responder) the PAdES B-LT
// profile embeds.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"
)

// Identity is a certificate with its private key and the chain above it
// (issuers up to and including the root). Its fields match cms.Signer, so
// cms.Signer(id) converts it.
type Identity struct {
	Certificate *x509.Certificate
	Chain       []*x509.Certificate
	Key         crypto.Signer
}

// CA is a certificate authority that can issue certificates, CRLs and OCSP
// responses.
type CA struct {
	Certificate *x509.Certificate
	Key         crypto.Signer
}

// Extended key usages.
var (
	oidExtKeyUsage        = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidKPTimeStamping     = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
	oidKPDocumentSigning  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}       // RFC 9336
	oidKPAdobeAuthentic   = asn1.ObjectIdentifier{1, 2, 840, 113583, 1, 1, 5}       // Adobe Authentic Documents Trust
	oidKPMSDocumentSigner = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 10, 3, 12} // Microsoft document signing
)

func randomSerial() (*big.Int, error) {
	// 128 bits, positive, never zero (CA/B Forum asks for at least 64 random bits).
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	b[0] = b[0]&0x7f | 0x40
	return new(big.Int).SetBytes(b), nil
}

func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, err
	}
	sum := sha1.Sum(spki.PublicKey.Bytes) // RFC 5280 §4.2.1.2 method (1)
	return sum[:], nil
}

// Issue signs tmpl for pub with the CA. It fills in a random serial number
// and the subject key identifier when they are missing.
func (ca *CA) Issue(tmpl *x509.Certificate, pub crypto.PublicKey) (*x509.Certificate, error) {
	t := *tmpl
	if t.SerialNumber == nil {
		s, err := randomSerial()
		if err != nil {
			return nil, fmt.Errorf("pki: issue: %w", err)
		}
		t.SerialNumber = s
	}
	if t.SubjectKeyId == nil {
		ski, err := subjectKeyID(pub)
		if err != nil {
			return nil, fmt.Errorf("pki: issue: %w", err)
		}
		t.SubjectKeyId = ski
	}
	der, err := x509.CreateCertificate(rand.Reader, &t, ca.Certificate, pub, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: issue %q: %w", t.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// NewRootCA creates a self-signed root CA.
func NewRootCA(subject pkix.Name, key crypto.Signer, notBefore, notAfter time.Time) (*CA, error) {
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, fmt.Errorf("pki: new root: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, fmt.Errorf("pki: new root: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: subject, NotBefore: notBefore, NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true, MaxPathLen: 0, MaxPathLenZero: true,
		KeyUsage:     x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		SubjectKeyId: ski,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("pki: new root: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Certificate: c, Key: key}, nil
}

// TimeStampingEKU is the extension RFC 3161 §2.3 requires of a TSA
// certificate: extended key usage timeStamping only, critical. (Go's
// x509 package writes ExtKeyUsage as non-critical, so it is added as an
// extra extension.)
func TimeStampingEKU() pkix.Extension {
	v, _ := asn1.Marshal([]asn1.ObjectIdentifier{oidKPTimeStamping}) // cannot fail
	return pkix.Extension{Id: oidExtKeyUsage, Critical: true, Value: v}
}

func keyAlgorithmOK(pub crypto.PublicKey) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return k.N.BitLen() >= 2048
	case *ecdsa.PublicKey:
		return k.Curve.Params().BitSize >= 256
	case ed25519.PublicKey:
		return false // not supported by our CMS signer
	}
	return false
}
