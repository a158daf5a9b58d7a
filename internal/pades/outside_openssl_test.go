package pades_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"esign/internal/esigntest"
	"esign/internal/pades"
	"esign/internal/pades/padestest"
	"esign/internal/pdf/pdftest"
)

// TestSignOutsidePKIOpenSSLData: the revocation data of a PKI without
// AIA/CDP as a bank's operators would publish it with openssl — CRLs from
// `openssl ca -gencrl` (PEM) and an OCSP response from `openssl ocsp
// -respout` (DER) — is accepted, embedded, and the result is B-LT/B-LTA.
func TestSignOutsidePKIOpenSSLData(t *testing.T) {
	openssl := esigntest.Tool(t, "openssl")
	e := env(t)
	now := time.Now()
	p := padestest.NewOutsidePKI(t, now)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	certPEM := func(c *x509.Certificate) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	keyPEM := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	rootPEM, rootKey := write("root.pem", certPEM(p.Root)), write("root.key", keyPEM(p.RootKey))
	caPEM, caKey := write("ca.pem", certPEM(p.CA)), write("ca.key", keyPEM(p.CAKey))
	signerPEM := write("signer.pem", certPEM(p.Signer))
	// openssl ca's database: the issuing CA issued the signer, the root the CA
	entry := func(c *x509.Certificate) string {
		serial := fmt.Sprintf("%X", c.SerialNumber)
		if len(serial)%2 == 1 {
			serial = "0" + serial
		}
		return fmt.Sprintf("V\t%s\t\t%s\tunknown\t/CN=%s\n", c.NotAfter.UTC().Format("20060102150405Z"), serial, c.Subject.CommonName)
	}
	gencrl := func(name, cert, key, index string) string {
		t.Helper()
		idx := write(name+".index", []byte(index))
		num := write(name+".crlnumber", []byte("01\n"))
		cnf := write(name+".cnf", []byte(fmt.Sprintf("[ca]\ndefault_ca = d\n[d]\ndatabase = %s\ncrlnumber = %s\ndefault_md = sha256\ndefault_crl_days = 7\n", idx, num)))
		out := filepath.Join(dir, name+".crl.pem")
		run(t, openssl, "ca", "-gencrl", "-config", cnf, "-cert", cert, "-keyfile", key, "-out", out)
		return out
	}
	rootCRL := gencrl("root", rootPEM, rootKey, entry(p.CA))
	caCRL := gencrl("ca", caPEM, caKey, entry(p.Signer))
	req, resp := filepath.Join(dir, "req.der"), filepath.Join(dir, "resp.der")
	run(t, openssl, "ocsp", "-issuer", caPEM, "-cert", signerPEM, "-no_nonce", "-reqout", req)
	run(t, openssl, "ocsp", "-index", filepath.Join(dir, "ca.index"), "-CA", caPEM, "-rsigner", caPEM, "-rkey", caKey,
		"-reqin", req, "-respout", resp, "-ndays", "1")

	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	root, err := pades.ParseCRL(rootCRL, read(rootCRL))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pades.ParseCRL(caCRL, read(caCRL))
	if err != nil {
		t.Fatal(err)
	}
	o, err := pades.ParseOCSPResponse(resp, read(resp))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(e.dev.CA.Certificate)
	roots.AddCert(p.Root)
	in := filepath.Join(dir, "in.pdf")
	os.WriteFile(in, pdftest.Minimal(1), 0o644)
	for _, tt := range []struct {
		name  string
		set   *pades.RevocationSet
		level pades.Level
	}{
		{"crls", &pades.RevocationSet{CRLs: []pades.SuppliedCRL{root, ca}}, pades.LevelBLT},
		{"ocsp", &pades.RevocationSet{CRLs: []pades.SuppliedCRL{root}, OCSPs: []pades.SuppliedOCSP{o}}, pades.LevelBLTA},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := signFile(t, in, outsideOptions(e, p, tt.level, tt.set))
			rep, err := pades.VerifyFile(context.Background(), out, pades.VerifyOptions{Roots: roots})
			if err != nil || !rep.Valid() || rep.Signatures[0].Level != string(tt.level) {
				t.Fatalf("%v\n%s", err, rep.Summary())
			}
			qpdfCheck(t, out)
		})
	}
}
