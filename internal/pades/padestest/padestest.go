// Package padestest makes signed PDFs for the tests of other packages.
package padestest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"esign/internal/cms"
	"esign/internal/pades"
	"esign/internal/pdf/pdftest"
)

// SelfSigned signs a minimal one-page PDF (PAdES B-B) with a fresh
// self-signed key of the common name: intact, but chaining to no trust
// anchor.
func SelfSigned(tb testing.TB, commonName string) []byte {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: commonName},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	in := pdftest.Minimal(1)
	out, err := os.Create(filepath.Join(tb.TempDir(), "signed.pdf"))
	if err != nil {
		tb.Fatal(err)
	}
	defer out.Close()
	if err := pades.Sign(tb.Context(), bytes.NewReader(in), int64(len(in)), out,
		pades.SignOptions{CMS: &pades.LocalSigner{Signer: cms.Signer{Certificate: cert, Key: key}}}); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Issued signs a minimal one-page PDF (PAdES B-B) with a fresh key whose
// certificate a fresh root CA issued, and returns the PDF and the root:
// valid for a verifier that trusts the root, untrusted for any other.
func Issued(tb testing.TB, commonName string) ([]byte, *x509.Certificate) {
	tb.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: commonName + " CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	root, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: commonName},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, root, &key.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	in := pdftest.Minimal(1)
	out, err := os.Create(filepath.Join(tb.TempDir(), "issued.pdf"))
	if err != nil {
		tb.Fatal(err)
	}
	defer out.Close()
	if err := pades.Sign(tb.Context(), bytes.NewReader(in), int64(len(in)), out,
		pades.SignOptions{CMS: &pades.LocalSigner{Signer: cms.Signer{Certificate: cert, Chain: []*x509.Certificate{root}, Key: key}}}); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		tb.Fatal(err)
	}
	return b, root
}

// Tamper returns a copy of a signed PDF with one byte of its first
// stream changed: still a PDF that parses, no longer the bytes signed.
func Tamper(tb testing.TB, pdf []byte) []byte {
	tb.Helper()
	i := bytes.Index(pdf, []byte("stream\n"))
	if i < 0 || i+len("stream\n")+8 >= len(pdf) {
		tb.Fatal("no stream to tamper with")
	}
	out := bytes.Clone(pdf)
	out[i+len("stream\n")+8] ^= 0x01
	return out
}
