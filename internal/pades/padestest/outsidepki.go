package padestest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"esign/internal/cms"
)

// OutsidePKI is a bank's internal PKI as the signer meets it: a root, an
// issuing CA and a signer certificate, none of which names an OCSP
// responder (AIA) or a CRL distribution point, so their revocation data
// must be supplied from outside.
type OutsidePKI struct {
	Root, CA, Signer          *x509.Certificate
	RootKey, CAKey, SignerKey crypto.Signer
}

// NewOutsidePKI makes one with certificates valid from an hour before now
// for ten years.
func NewOutsidePKI(tb testing.TB, now time.Time) *OutsidePKI {
	tb.Helper()
	p := &OutsidePKI{}
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		return k
	}
	issue := func(serial int64, tmpl *x509.Certificate, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) *x509.Certificate {
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.Add(10*365*24*time.Hour)
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
		if err != nil {
			tb.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}
	rk, ck, sk := key(), key(), key()
	p.RootKey, p.CAKey, p.SignerKey = rk, ck, sk
	p.Root = issue(1, &x509.Certificate{Subject: pkix.Name{CommonName: "Example Bank Internal Root", Organization: []string{"Example Bank"}},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, nil, &rk.PublicKey, rk)
	p.CA = issue(2, &x509.Certificate{Subject: pkix.Name{CommonName: "Example Bank Issuing CA", Organization: []string{"Example Bank"}},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, p.Root, &ck.PublicKey, rk)
	p.Signer = issue(3, &x509.Certificate{Subject: pkix.Name{CommonName: "Example Bank Seal", Organization: []string{"Example Bank"}},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}, p.CA, &sk.PublicKey, ck)
	return p
}

// CMSSigner is the signer with its chain.
func (p *OutsidePKI) CMSSigner() cms.Signer {
	return cms.Signer{Certificate: p.Signer, Chain: []*x509.Certificate{p.CA, p.Root}, Key: p.SignerKey}
}

// P12 is the signer's key and chain as a .p12 file's bytes.
func (p *OutsidePKI) P12(tb testing.TB, password string) []byte {
	tb.Helper()
	b, err := pkcs12.Modern.Encode(p.SignerKey, p.Signer, []*x509.Certificate{p.CA, p.Root}, password)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// RootPEM is the root certificate in PEM.
func (p *OutsidePKI) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Root.Raw})
}

// CRL is a DER CRL of the issuing CA (root false) or of the root, valid
// from thisUpdate to nextUpdate, listing the serial numbers revoked.
func (p *OutsidePKI) CRL(tb testing.TB, root bool, thisUpdate, nextUpdate time.Time, revoked ...*big.Int) []byte {
	tb.Helper()
	issuer, key := p.CA, p.CAKey
	if root {
		issuer, key = p.Root, p.RootKey
	}
	var entries []x509.RevocationListEntry
	for _, s := range revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: thisUpdate})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(thisUpdate.Unix()),
		ThisUpdate: thisUpdate, NextUpdate: nextUpdate, RevokedCertificateEntries: entries}, issuer, key)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

// OCSP is a DER OCSP response of the issuing CA about the signer
// certificate, signed by the CA itself, good from thisUpdate to nextUpdate.
func (p *OutsidePKI) OCSP(tb testing.TB, status int, thisUpdate, nextUpdate time.Time) []byte {
	tb.Helper()
	der, err := ocsp.CreateResponse(p.CA, p.CA, ocsp.Response{Status: status, SerialNumber: p.Signer.SerialNumber,
		ThisUpdate: thisUpdate, NextUpdate: nextUpdate, RevokedAt: thisUpdate}, p.CAKey)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}
