package pades_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/pades"
	"esign/internal/pades/padestest"
	"esign/internal/pdf/pdftest"
	"esign/internal/pki"
	"esign/internal/tsa"
)

// shortTSA serves a TSA whose certificate, from the test CA (naming its
// responder), expires after validity; key nil: a P-256 key.
func shortTSA(t *testing.T, e *testEnv, name string, validity time.Duration, key crypto.Signer) *tsa.Client {
	t.Helper()
	if key == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key = k
	}
	tc := e.dev.TSA.Certificate
	now := time.Now()
	cert, err := e.dev.CA.Issue(&x509.Certificate{Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validity), KeyUsage: tc.KeyUsage,
		OCSPServer: tc.OCSPServer, CRLDistributionPoints: tc.CRLDistributionPoints,
		ExtraExtensions: []pkix.Extension{pki.TimeStampingEKU()}}, key.Public())
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

func archiveStatus(t *testing.T, path string) pades.ArchiveState {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := pades.ArchiveStatus(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("ArchiveStatus: %v", err)
	}
	return st
}

// renewFile renews a copy of in with ts and returns the copy's path; in
// must be an exact prefix of it.
func renewFile(t *testing.T, e *testEnv, in string, ts tsa.Timestamper) string {
	t.Helper()
	orig, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "renewed.pdf")
	if err := os.WriteFile(out, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(out, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, err := pades.Renew(context.Background(), f, int64(len(orig)), pades.RenewOptions{TSA: ts,
		ExtraCerts: []*x509.Certificate{e.dev.CA.Certificate}})
	if err != nil {
		t.Fatalf("Renew: %v", err)
	}
	renewed, _ := os.ReadFile(out)
	if int64(len(renewed)) != size || !bytes.HasPrefix(renewed, orig) {
		t.Fatalf("the renewed file (%d bytes, Renew says %d) does not start with the original", len(renewed), size)
	}
	return out
}

// TestRenewArchive seals at B-LTA with a document time-stamp from a TSA
// whose certificate expires in 30 days, renews it with a TSA of 200 days,
// then with one of five years: each file passes qpdf --check, pdfsig,
// our verifier at B-LTA, and holds the validation data of each document
// time-stamp in the revision the next one covers.
func TestRenewArchive(t *testing.T) {
	e := env(t)
	nss := nssDB(t, e)
	in := filepath.Join(t.TempDir(), "in.pdf")
	os.WriteFile(in, pdftest.Minimal(1), 0o644)
	opt := e.signOptions(pades.LevelBLTA)
	opt.TSA = shortTSA(t, e, "Short TSA", 30*24*time.Hour, nil)
	sealed := signFile(t, in, opt)
	now := time.Now()
	const year = 365 * 24 * time.Hour

	st := archiveStatus(t, sealed)
	if st.Timestamps != 1 || !strings.Contains(st.TSA, "Short TSA") || st.Weak != "" {
		t.Fatalf("sealed: %+v", st)
	}
	if !st.Due(now, year) || st.Due(now, 7*24*time.Hour) {
		t.Fatalf("sealed, expiring %s: due within a year %v, within a week %v", st.Expires, st.Due(now, year), st.Due(now, 7*24*time.Hour))
	}

	check := func(t *testing.T, path string, renewals int) {
		qpdfCheck(t, path)
		pdfsigCheck(t, e, nss, path, pades.LevelBLTA)
		rep := verifyOK(t, e, path)
		if rep.Signatures[0].Level != string(pades.LevelBLTA) {
			t.Fatalf("level %s\n%s", rep.Signatures[0].Level, rep.Summary())
		}
		ts := 0
		for _, s := range rep.Signatures {
			if s.Type == "document_timestamp" {
				ts++
				if s.Modified {
					t.Fatalf("document time-stamp %s reported modified:\n%s", s.Field, rep.Summary())
				}
			}
		}
		if ts != renewals+1 {
			t.Fatalf("%d document time-stamps, want %d", ts, renewals+1)
		}
		b, _ := os.ReadFile(path)
		padestest.CheckLTA(t, b)
		padestest.CheckRenewed(t, b, renewals)
	}
	once := renewFile(t, e, sealed, shortTSA(t, e, "Second TSA", 200*24*time.Hour, nil))
	t.Run("renewed_once", func(t *testing.T) {
		check(t, once, 1)
		st := archiveStatus(t, once)
		if st.Timestamps != 2 || !strings.Contains(st.TSA, "Second TSA") || !st.Due(now, year) || st.Due(now, 30*24*time.Hour) {
			t.Fatalf("%+v", st)
		}
	})
	twice := renewFile(t, e, once, e.client)
	t.Run("renewed_twice", func(t *testing.T) {
		check(t, twice, 2)
		st := archiveStatus(t, twice)
		if st.Timestamps != 3 || st.Due(now, year) {
			t.Fatalf("%+v", st)
		}
	})
}

// TestArchiveStatusWeak: a document time-stamp by a TSA with a 1024-bit
// RSA key is due whatever its expiry; an unsealed or B-LT file is never
// due, and Renew refuses it.
func TestArchiveStatusWeak(t *testing.T) {
	e := env(t)
	in := filepath.Join(t.TempDir(), "in.pdf")
	os.WriteFile(in, pdftest.Minimal(1), 0o644)
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	opt := e.signOptions(pades.LevelBLTA)
	opt.TSA = shortTSA(t, e, "Weak TSA", 5*365*24*time.Hour, key)
	st := archiveStatus(t, signFile(t, in, opt))
	if !strings.Contains(st.Weak, "1024-bit RSA") || !st.Due(time.Now(), 0) {
		t.Fatalf("%+v", st)
	}

	lt := signFile(t, in, e.signOptions(pades.LevelBLT))
	if st := archiveStatus(t, lt); st.Timestamps != 0 || st.Due(time.Now(), 100*365*24*time.Hour) {
		t.Fatalf("B-LT: %+v", st)
	}
	f, err := os.OpenFile(lt, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	if _, err := pades.Renew(context.Background(), f, fi.Size(), pades.RenewOptions{TSA: e.client}); err == nil || !strings.Contains(err.Error(), "no document time-stamp") {
		t.Fatalf("Renew of a B-LT file: %v", err)
	}
}

// BenchmarkArchiveStatus: what the renewal job spends per document that
// is not due (a 1-page B-LTA file).
func BenchmarkArchiveStatus(b *testing.B) {
	e := env(b)
	in := filepath.Join(b.TempDir(), "in.pdf")
	os.WriteFile(in, pdftest.Minimal(1), 0o644)
	out := filepath.Join(b.TempDir(), "out.pdf")
	if err := pades.SignFile(context.Background(), in, out, e.signOptions(pades.LevelBLTA)); err != nil {
		b.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	for b.Loop() {
		if _, err := pades.ArchiveStatus(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzArchiveStatus reads arbitrary files as the renewal job reads stored
// contracts (uploaded ones come from outside): an error or a state, never
// a panic; a state with no document time-stamp is never due.
func FuzzArchiveStatus(f *testing.F) {
	e := env(f)
	in := filepath.Join(f.TempDir(), "in.pdf")
	os.WriteFile(in, pdftest.Minimal(1), 0o644)
	out := filepath.Join(f.TempDir(), "out.pdf")
	if err := pades.SignFile(context.Background(), in, out, e.signOptions(pades.LevelBLTA)); err != nil {
		f.Fatal(err)
	}
	sealed, _ := os.ReadFile(out)
	f.Add(sealed)
	f.Add(pdftest.Minimal(1))
	addInputs(f, "legacy-sha1.pdf", "certified-p2.pdf", "polyglot-zip-after.pdf")
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := pades.ArchiveStatus(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if st.Timestamps == 0 && st.Due(time.Now(), 100*365*24*time.Hour) {
			t.Fatal("a file without a document time-stamp is due")
		}
	})
}
