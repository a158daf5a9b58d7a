package pades_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/cms"
	"esign/internal/pades"
	"esign/internal/pdf/pdftest"
)

// crlOnly fetches revocation data from the CRL distribution point only.
type crlOnly struct{}

func (crlOnly) Fetch(ctx context.Context, cert, issuer *x509.Certificate) ([]byte, []byte, error) {
	c := *cert
	c.OCSPServer = nil
	return pades.HTTPRevocation{}.Fetch(ctx, &c, issuer)
}

func TestSignBLTWithCRL(t *testing.T) {
	e := env(t)
	in := filepath.Join(t.TempDir(), "in.pdf")
	os.WriteFile(in, pdftest.Minimal(1), 0o644)
	opt := e.signOptions(pades.LevelBLT)
	opt.Revocation = crlOnly{}
	out := signFile(t, in, opt)
	rep := verifyOK(t, e, out)
	if s := rep.Signatures[0]; s.Level != "B-LT" || !s.DSS {
		t.Fatalf("level %q dss %v", s.Level, s.DSS)
	}
	if rep.DSS == nil || rep.DSS.CRLs == 0 || rep.DSS.OCSPs != 0 || rep.DSS.Certs < 3 {
		t.Fatalf("DSS %+v", rep.DSS)
	}
}

func TestSignRevokedSignerRefused(t *testing.T) {
	e := env(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sc := e.dev.Signer.Certificate
	cert, err := e.dev.CA.Issue(&x509.Certificate{Subject: pkix.Name{CommonName: "Revoked Signer"},
		NotBefore: sc.NotBefore, NotAfter: sc.NotAfter, KeyUsage: sc.KeyUsage, ExtKeyUsage: sc.ExtKeyUsage,
		OCSPServer: sc.OCSPServer, CRLDistributionPoints: sc.CRLDistributionPoints}, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	e.dev.Revocations.Add(cert)
	e.dev.Revocations.Revoke(cert.SerialNumber, time.Now().Add(-time.Minute), 1)
	in := filepath.Join(t.TempDir(), "in.pdf")
	os.WriteFile(in, pdftest.Minimal(1), 0o644)
	for _, fetch := range []pades.RevocationFetcher{pades.HTTPRevocation{}, crlOnly{}} {
		opt := e.signOptions(pades.LevelBLT)
		opt.CMS = &pades.LocalSigner{Signer: cms.Signer{Certificate: cert, Chain: []*x509.Certificate{e.dev.CA.Certificate}, Key: key}, TSA: e.client}
		opt.Revocation = fetch
		err := pades.SignFile(context.Background(), in, filepath.Join(t.TempDir(), "out.pdf"), opt)
		if err == nil || !strings.Contains(err.Error(), "revoked") && !strings.Contains(err.Error(), "status") {
			t.Fatalf("revoked signer: %v", err)
		}
	}
}
