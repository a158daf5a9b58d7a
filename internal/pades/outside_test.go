package pades_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"esign/internal/pades"
	"esign/internal/pades/padestest"
	"esign/internal/pdf/pdftest"
	"esign/internal/pki"
	"esign/internal/tsa"
)

// outsideOptions signs at level with the outside PKI's signer, the test
// TSA (whose development certificates name their OCSP responder), and
// revocation data from set first, the network second.
func outsideOptions(e *testEnv, p *padestest.OutsidePKI, level pades.Level, set *pades.RevocationSet) pades.SignOptions {
	return pades.SignOptions{Level: level, CMS: &pades.LocalSigner{Signer: p.CMSSigner(), TSA: e.client}, TSA: e.client,
		Revocation: pades.RevocationSources{set, pades.HTTPRevocation{}}, ExtraCerts: []*x509.Certificate{e.dev.CA.Certificate}}
}

// TestSignOutsidePKISupplied: a signer whose certificates name no OCSP
// responder or CRL distribution point signs at B-LT and B-LTA with CRLs
// and OCSP responses supplied as data (DER and PEM), and the result
// verifies with the DSS covering its chain.
func TestSignOutsidePKISupplied(t *testing.T) {
	e := env(t)
	now := time.Now()
	p := padestest.NewOutsidePKI(t, now)
	rootCRL := p.CRL(t, true, now.Add(-time.Hour), now.Add(7*24*time.Hour))
	caCRL := p.CRL(t, false, now.Add(-time.Hour), now.Add(7*24*time.Hour))
	good := p.OCSP(t, ocsp.Good, now.Add(-time.Hour), now.Add(24*time.Hour))
	parseCRL := func(name string, b []byte) pades.SuppliedCRL {
		c, err := pades.ParseCRL(name, b)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	parseOCSP := func(name string, b []byte) pades.SuppliedOCSP {
		o, err := pades.ParseOCSPResponse(name, b)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	pemCRL := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: caCRL})
	if _, err := pades.ParseCRL("two.pem", append(append([]byte(nil), pemCRL...), pemCRL...)); err == nil || !strings.Contains(err.Error(), "more than one PEM block") {
		t.Errorf("two CRLs in one file: %v", err)
	}
	if _, err := pades.ParseCRL("cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Root.Raw})); err == nil {
		t.Error("a certificate taken for a CRL")
	}
	tests := []struct {
		name        string
		set         *pades.RevocationSet
		crls, ocsps int
	}{
		{"crls", &pades.RevocationSet{CRLs: []pades.SuppliedCRL{parseCRL("root.crl", rootCRL), parseCRL("ca.crl", caCRL)}}, 2, 1},
		{"pem_crl", &pades.RevocationSet{CRLs: []pades.SuppliedCRL{parseCRL("root.crl", rootCRL), parseCRL("ca.pem", pemCRL)}}, 2, 1},
		{"ocsp_and_crl", &pades.RevocationSet{CRLs: []pades.SuppliedCRL{parseCRL("root.crl", rootCRL)},
			OCSPs: []pades.SuppliedOCSP{parseOCSP("signer.ocsp", good)}}, 1, 2},
	}
	roots := x509.NewCertPool()
	roots.AddCert(e.dev.CA.Certificate)
	roots.AddCert(p.Root)
	in := filepath.Join(t.TempDir(), "in.pdf")
	os.WriteFile(in, pdftest.Minimal(1), 0o644)
	for _, tt := range tests {
		for _, level := range []pades.Level{pades.LevelBLT, pades.LevelBLTA} {
			t.Run(tt.name+"/"+string(level), func(t *testing.T) {
				out := signFile(t, in, outsideOptions(e, p, level, tt.set))
				rep, err := pades.VerifyFile(context.Background(), out, pades.VerifyOptions{Roots: roots})
				if err != nil || !rep.Valid() {
					t.Fatalf("%v\n%s", err, rep.Summary())
				}
				if s := rep.Signatures[0]; s.Level != string(level) || !s.DSS {
					t.Fatalf("level %q dss %v", s.Level, s.DSS)
				}
				// the TSA's OCSP response came from its responder
				if rep.DSS.CRLs != tt.crls || rep.DSS.OCSPs != tt.ocsps {
					t.Fatalf("DSS %+v, want %d CRLs and %d OCSP responses", rep.DSS, tt.crls, tt.ocsps)
				}
			})
		}
	}
}

// TestSignOutsidePKIRefused: B-LT is refused, naming the certificate,
// when no revocation data at all is available for one; supplied data that
// is expired (by the injected clock), about another issuer, or revoking
// the signer is not used, and the error says why.
func TestSignOutsidePKIRefused(t *testing.T) {
	e := env(t)
	now := time.Now()
	p := padestest.NewOutsidePKI(t, now)
	other := padestest.NewOutsidePKI(t, now)
	crl := func(name string, b []byte) pades.SuppliedCRL {
		c, err := pades.ParseCRL(name, b)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	rootCRL := crl("root.crl", p.CRL(t, true, now.Add(-time.Hour), now.Add(7*24*time.Hour)))
	fresh := crl("ca.crl", p.CRL(t, false, now.Add(-time.Hour), now.Add(7*24*time.Hour)))
	ocspDER := func(status int, next time.Time) pades.SuppliedOCSP {
		o, err := pades.ParseOCSPResponse("signer.ocsp", p.OCSP(t, status, now.Add(-2*time.Hour), next))
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	yearAhead := func() time.Time { return now.AddDate(1, 0, 0) }
	tests := []struct {
		name  string
		set   *pades.RevocationSet
		wants []string
	}{
		{"nothing", &pades.RevocationSet{}, []string{`for "CN=Example Bank Seal,O=Example Bank"`, "names no OCSP responder or CRL",
			`for "CN=Example Bank Issuing CA,O=Example Bank"`}}, // every certificate without data named
		{"signer_only", &pades.RevocationSet{CRLs: []pades.SuppliedCRL{fresh}}, []string{"CN=Example Bank Issuing CA", "none of the supplied"}},
		{"expired_crl", &pades.RevocationSet{CRLs: []pades.SuppliedCRL{rootCRL,
			crl("old.crl", p.CRL(t, false, now.Add(-48*time.Hour), now.Add(-time.Hour)))}},
			[]string{"CN=Example Bank Seal", "CRL old.crl expired at"}},
		{"clock_past_next_update", &pades.RevocationSet{CRLs: []pades.SuppliedCRL{rootCRL, fresh}, Now: yearAhead},
			[]string{"CN=Example Bank Seal", "CRL ca.crl expired at"}},
		{"expired_ocsp", &pades.RevocationSet{CRLs: []pades.SuppliedCRL{rootCRL}, OCSPs: []pades.SuppliedOCSP{ocspDER(ocsp.Good, now.Add(-time.Hour))}},
			[]string{"CN=Example Bank Seal", "OCSP response signer.ocsp expired at"}},
		{"other_issuer", &pades.RevocationSet{CRLs: []pades.SuppliedCRL{rootCRL, crl("other.crl", other.CRL(t, false, now.Add(-time.Hour), now.Add(time.Hour)))}},
			[]string{"CN=Example Bank Seal", "other.crl: not signed by the issuer"}},
		{"revoked_crl", &pades.RevocationSet{CRLs: []pades.SuppliedCRL{rootCRL, crl("rev.crl", p.CRL(t, false, now.Add(-time.Hour), now.Add(time.Hour), p.Signer.SerialNumber))}},
			[]string{"Example Bank Seal", "is revoked (CRL rev.crl)"}},
		{"revoked_ocsp", &pades.RevocationSet{CRLs: []pades.SuppliedCRL{rootCRL}, OCSPs: []pades.SuppliedOCSP{ocspDER(ocsp.Revoked, now.Add(time.Hour))}},
			[]string{"Example Bank Seal", "is revoked (OCSP response signer.ocsp)"}},
	}
	in := filepath.Join(t.TempDir(), "in.pdf")
	os.WriteFile(in, pdftest.Minimal(1), 0o644)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.pdf")
			err := pades.SignFile(context.Background(), in, out, outsideOptions(e, p, pades.LevelBLT, tt.set))
			if err == nil {
				t.Fatal("signed")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if revoked := strings.HasPrefix(tt.name, "revoked"); errors.Is(err, pades.ErrNoRevocation) == revoked {
				t.Errorf("errors.Is(ErrNoRevocation) = %v for %v", !revoked, err)
			}
			if _, serr := os.Stat(out); !os.IsNotExist(serr) {
				t.Errorf("output left behind: %v", serr)
			}
		})
	}
	if msgs := (&pades.RevocationSet{CRLs: []pades.SuppliedCRL{rootCRL, fresh}, Now: yearAhead}).Expired(); len(msgs) != 2 {
		t.Errorf("Expired: %q", msgs)
	}
}

// TestRevocationFilesRefresh: files an operator refreshes are read again
// when they change: an expired CRL is not used (and the error says so), the
// refreshed one is; an unreadable file is reported.
func TestRevocationFilesRefresh(t *testing.T) {
	now := time.Now()
	p := padestest.NewOutsidePKI(t, now)
	dir := t.TempDir()
	path := filepath.Join(dir, "ca.crl")
	write := func(b []byte, mod time.Time) {
		t.Helper()
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(path, mod, mod)
	}
	var logs bytes.Buffer
	files := &pades.RevocationFiles{CRLFiles: []string{path}, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	fetch := func() ([]byte, error) {
		_, crl, err := files.Fetch(context.Background(), p.Signer, p.CA)
		return crl, err
	}
	write(p.CRL(t, false, now.Add(-48*time.Hour), now.Add(-time.Hour)), now.Add(-2*time.Hour))
	if _, err := fetch(); !errors.Is(err, pades.ErrNoRevocation) || !strings.Contains(err.Error(), "ca.crl expired at") {
		t.Fatalf("expired: %v", err)
	}
	freshCRL := p.CRL(t, false, now.Add(-time.Minute), now.Add(24*time.Hour))
	write(freshCRL, now.Add(-time.Hour))
	if crl, err := fetch(); err != nil || string(crl) != string(freshCRL) {
		t.Fatalf("refreshed: %v", err)
	}
	write([]byte("not a CRL"), now)
	for range 2 {
		if _, err := fetch(); !errors.Is(err, pades.ErrNoRevocation) || !strings.Contains(err.Error(), "not a CRL in DER or PEM") {
			t.Fatalf("unreadable: %v", err)
		}
	}
	// logged once per version: read twice, expired once, refused once
	for msg, n := range map[string]int{"read revocation data file": 2, "revocation data expired": 1, "revocation data file not used": 1} {
		if got := strings.Count(logs.String(), msg); got != n {
			t.Errorf("%q logged %d times, want %d:\n%s", msg, got, n, logs.String())
		}
	}
	os.Remove(path)
	if _, err := fetch(); !errors.Is(err, pades.ErrNoRevocation) || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("removed: %v", err)
	}
}

// TestSignBLTAOfflineData: a B-LTA signature's DSS, which the document
// time-stamp covers, holds the certificates and revocation data of the
// signer and of the signature time-stamp's TSA; a document time-stamp from
// another TSA gets its own validation data in one more DSS update, and the
// file still verifies at B-LTA.
func TestSignBLTAOfflineData(t *testing.T) {
	e := env(t)
	in := filepath.Join(t.TempDir(), "in.pdf")
	os.WriteFile(in, pdftest.Minimal(1), 0o644)
	t.Run("one_tsa", func(t *testing.T) {
		out := signFile(t, in, e.signOptions(pades.LevelBLTA))
		b, _ := os.ReadFile(out)
		padestest.CheckLTA(t, b)
		if n := strings.Count(string(b), "/Type /DSS"); n != 1 {
			t.Errorf("%d DSS dictionaries, want 1", n)
		}
	})
	t.Run("other_tsa", func(t *testing.T) {
		opt := e.signOptions(pades.LevelBLTA)
		opt.TSA = otherTSA(t, e)
		out := signFile(t, in, opt)
		b, _ := os.ReadFile(out)
		padestest.CheckLTA(t, b)
		if n := strings.Count(string(b), "/Type /DSS"); n != 2 {
			t.Errorf("%d DSS dictionaries, want 2 (the second for the other TSA)", n)
		}
		rep := verifyOK(t, e, out)
		if rep.Signatures[0].Level != "B-LTA" {
			t.Fatalf("level %s\n%s", rep.Signatures[0].Level, rep.Summary())
		}
	})
}

// otherTSA serves a second TSA with a certificate of its own from the test
// CA (naming the CA's responder), over HTTP on 127.0.0.1.
func otherTSA(t *testing.T, e *testEnv) *tsa.Client {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tc := e.dev.TSA.Certificate
	cert, err := e.dev.CA.Issue(&x509.Certificate{Subject: pkix.Name{CommonName: "Another TSA"},
		NotBefore: tc.NotBefore, NotAfter: tc.NotAfter, KeyUsage: tc.KeyUsage,
		OCSPServer: tc.OCSPServer, CRLDistributionPoints: tc.CRLDistributionPoints,
		ExtraExtensions: []pkix.Extension{pki.TimeStampingEKU()}}, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	e.dev.Revocations.Add(cert)
	store, err := tsa.OpenFileSerialStore(filepath.Join(t.TempDir(), "serial"), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv, err := tsa.NewServer(tsa.ServerConfig{Certificate: cert, Chain: []*x509.Certificate{e.dev.CA.Certificate}, Key: key, Serials: store})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &tsa.Client{URL: hs.URL, Roots: e.roots}
}
