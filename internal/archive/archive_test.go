package archive_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/archive"
	"esign/internal/cli"
	"esign/internal/cms"
	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/jobs"
	"esign/internal/pades"
	"esign/internal/pades/padestest"
	"esign/internal/pdf/pdftest"
	"esign/internal/pki"
	"esign/internal/sqlstore"
	"esign/internal/tsa"
)

const year = 365 * 24 * time.Hour

// pkiEnv is a development PKI whose CA answers OCSP and serves its CRL
// over HTTP on 127.0.0.1, with TSAs of chosen lifetimes.
type pkiEnv struct {
	dev   *pki.Dev
	roots *x509.CertPool
	caPEM string
	mux   *http.ServeMux
	url   string
	long  *tsa.Client // the development TSA (five years)
}

func newPKI(t *testing.T) *pkiEnv {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	dir := t.TempDir()
	dev, _, err := pki.OpenDev(filepath.Join(dir, "pki"), pki.DevOptions{BaseURL: url + "/pki"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/pki/", http.StripPrefix("/pki", dev.CA.Handler(dev.Revocations, pki.HandlerOptions{})))
	hs := httptest.NewUnstartedServer(mux)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
	roots := x509.NewCertPool()
	roots.AddCert(dev.CA.Certificate)
	caPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: dev.CA.Certificate.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	e := &pkiEnv{dev: dev, roots: roots, caPEM: caPEM, mux: mux, url: url}
	e.long = e.serveTSA(t, "long", dev.TSA.Certificate, dev.TSA.Key)
	return e
}

// tsaUntil serves a TSA whose certificate expires at notAfter.
func (e *pkiEnv) tsaUntil(t *testing.T, name string, notAfter time.Time) *tsa.Client {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tc := e.dev.TSA.Certificate
	cert, err := e.dev.CA.Issue(&x509.Certificate{Subject: pkix.Name{CommonName: name + " TSA"},
		NotBefore: time.Now().Add(-24 * time.Hour), NotAfter: notAfter, KeyUsage: tc.KeyUsage,
		OCSPServer: tc.OCSPServer, CRLDistributionPoints: tc.CRLDistributionPoints,
		ExtraExtensions: []pkix.Extension{pki.TimeStampingEKU()}}, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	e.dev.Revocations.Add(cert)
	return e.serveTSA(t, name, cert, key)
}

func (e *pkiEnv) serveTSA(t *testing.T, name string, cert *x509.Certificate, key crypto.Signer) *tsa.Client {
	t.Helper()
	store, err := tsa.OpenFileSerialStore(filepath.Join(t.TempDir(), "serial"), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv, err := tsa.NewServer(tsa.ServerConfig{Certificate: cert, Chain: []*x509.Certificate{e.dev.CA.Certificate}, Key: key, Serials: store})
	if err != nil {
		t.Fatal(err)
	}
	e.mux.Handle("/tsa/"+name, srv)
	return &tsa.Client{URL: e.url + "/tsa/" + name, Roots: e.roots}
}

// world is a store with a document store, a customer and the PKI.
type world struct {
	pki   *pkiEnv
	ce    *customerstest.Env
	db    *sqlstore.DB
	clock *esigntest.Clock
	cust  *esign.Customer
}

func newWorld(t *testing.T, driver string) *world {
	t.Helper()
	db := customerstest.OpenDB(t, driver)
	ce := customerstest.New(t, db, nil, customers.Config{}, nil)
	// The development PKI, the TSAs (their genTime) and pdfsig work on the
	// real clock: the test's clock starts there, not at ESIGN_TEST_EPOCH,
	// and moves on from it (the renewal months later).
	ce.Clock.Set(time.Now().Truncate(time.Second))
	return &world{pki: newPKI(t), ce: ce, db: db, clock: ce.Clock, cust: ce.Customer(t, "Kovács Anna")}
}

// sealed stores a contract of one document sealed at B-LTA, its document
// time-stamp from docTSA.
func (w *world) sealed(t *testing.T, docTSA *tsa.Client) (*esign.Contract, *esign.Document) {
	t.Helper()
	ctx := context.Background()
	in := pdftest.Minimal(1)
	out, err := os.CreateTemp(t.TempDir(), "sealed-*.pdf")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	dev := w.pki.dev
	err = pades.Sign(ctx, bytes.NewReader(in), int64(len(in)), out, pades.SignOptions{Level: pades.LevelBLTA,
		CMS: &pades.LocalSigner{Signer: cms.Signer(dev.Signer), TSA: w.pki.long}, TSA: docTSA,
		ExtraCerts: []*x509.Certificate{dev.CA.Certificate}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	c := &esign.Contract{CustomerID: w.cust.ID, Title: "Lakáshitel", SignedAt: w.clock.Now(), SealLevel: "B-LTA"}
	if err := w.db.CreateContract(ctx, c); err != nil {
		t.Fatal(err)
	}
	key := "contracts/" + c.ID + "/" + esign.NewID() + ".pdf"
	if _, err := w.ce.Docs.Put(ctx, key, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	// sealed long ago: outside the window of the orphan sweeps to come
	old := time.Now().Add(-400 * 24 * time.Hour)
	if err := os.Chtimes(filepath.Join(w.ce.Docs.Dir(), filepath.FromSlash(key)), old, old); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	d := &esign.Document{CustomerID: w.cust.ID, ContractID: c.ID, Kind: esign.DocumentContract, Name: "hitel.pdf",
		ContentType: "application/pdf", Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:]), StorageKey: key, Encrypted: true}
	if err := w.db.CreateDocument(ctx, d); err != nil {
		t.Fatal(err)
	}
	return c, d
}

func (w *world) renewer(t *testing.T, ts *tsa.Client, db archive.DB, docs archive.Documents) *archive.Renewer {
	t.Helper()
	if db == nil {
		db = w.db
	}
	if docs == nil {
		docs = w.ce.Docs
	}
	r, err := archive.New(archive.Config{DB: db, Docs: docs, Now: w.clock.Now,
		Renew: pades.RenewOptions{TSA: ts, ExtraCerts: []*x509.Certificate{w.pki.dev.CA.Certificate}}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (w *world) run(t *testing.T, r *archive.Renewer) (jobs.RenewalResult, error) {
	t.Helper()
	return r.RenewArchives(context.Background(), func(level slog.Level, format string, args ...any) {
		t.Logf("%s: %s", level, fmt.Sprintf(format, args...))
	})
}

// file returns the stored bytes of the document now and its row.
func (w *world) file(t *testing.T, id string) ([]byte, *esign.Document) {
	t.Helper()
	d, err := w.db.GetDocument(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := w.ce.Docs.Open(context.Background(), d.StorageKey)
	if err != nil {
		t.Fatalf("the document's file %s: %v", d.StorageKey, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != d.SHA256 || int64(len(b)) != d.Size {
		t.Fatalf("the row's size and SHA-256 (%d, %s) are not its file's (%d)", d.Size, d.SHA256, len(b))
	}
	return b, d
}

// keys lists the files of the contract in the document store.
func (w *world) keys(t *testing.T, contractID string) []string {
	t.Helper()
	var out []string
	if err := w.ce.Docs.Walk(context.Background(), "contracts/"+contractID+"/", func(k string, _ time.Time) error {
		out = append(out, k)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// sweep runs the orphan sweep of DeleteDocuments over files modified
// around now, as the run a day later sees them.
func (w *world) sweep(t *testing.T) int64 {
	t.Helper()
	n, err := w.ce.Docs.SweepUnreferenced(context.Background(), time.Now().Add(-time.Hour), time.Now().Add(time.Hour), w.db.UnreferencedStorageKeys)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func checkPDF(t *testing.T, e *pkiEnv, b []byte, renewals int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "contract.pdf")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(esigntest.Tool(t, "qpdf"), "--check", path).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	pdfsig(t, e, path)
	rep, err := pades.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{Roots: e.roots})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid() || rep.Signatures[0].Level != string(pades.LevelBLTA) {
		t.Fatalf("our verifier: valid %v, level %s\n%s", rep.Valid(), rep.Signatures[0].Level, rep.Summary())
	}
	if n := len(rep.Signatures) - 1; n != renewals+1 {
		t.Fatalf("%d document time-stamps, want %d", n, renewals+1)
	}
	padestest.CheckLTA(t, b)
	padestest.CheckRenewed(t, b, renewals)
	// the command line's verifier, as an operator runs it
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), cli.Env{Args: []string{"pdf", "verify", "--trust", e.caPEM, path},
		Stdout: &stdout, Stderr: &stderr, Environ: []string{"ESIGN_DATA_DIR=" + t.TempDir(), "ESIGN_LOG_LEVEL=warn"}})
	if code != 0 || !strings.Contains(stdout.String(), "B-LTA") {
		t.Fatalf("esign pdf verify: %d\n%s\n%s", code, &stdout, &stderr)
	}
	// and openssl on every document time-stamp
	for i, s := range padestest.Signatures(t, b) {
		if !s.DocTimeStamp {
			continue
		}
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "data"), s.Signed, 0o600)
		os.WriteFile(filepath.Join(dir, "tok.der"), s.CMS, 0o600)
		if out, err := exec.Command(esigntest.Tool(t, "openssl"), "ts", "-verify", "-data", filepath.Join(dir, "data"),
			"-in", filepath.Join(dir, "tok.der"), "-token_in", "-CAfile", e.caPEM).CombinedOutput(); err != nil {
			t.Fatalf("openssl ts -verify (signature %d): %v\n%s", i, err, out)
		}
	}
}

// pdfsig checks the seal with poppler, trusting the test CA (-no-ocsp:
// poppler does not read the DSS, and offline that is how the archive is
// checked; docs/pades.md).
func pdfsig(t *testing.T, e *pkiEnv, path string) {
	t.Helper()
	nss := t.TempDir()
	certutil := esigntest.Tool(t, "certutil")
	for _, args := range [][]string{{"-N", "--empty-password", "-d", nss}, {"-A", "-n", "esign-ca", "-t", "CT,C,C", "-i", e.caPEM, "-d", nss}} {
		if out, err := exec.Command(certutil, args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	out, err := exec.Command(esigntest.Tool(t, "pdfsig"), "-nssdir", nss, "-no-ocsp", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfsig: %v\n%s", err, out)
	}
	s := string(out)
	if !strings.Contains(s, "Signature Type: ETSI.CAdES.detached") || !strings.Contains(s, "Signature Validation: Signature is Valid.") ||
		!strings.Contains(s, "Certificate Validation: Certificate is Trusted.") {
		t.Fatalf("pdfsig does not accept the seal:\n%s", s)
	}
}

// TestArchiveRenewal: a contract whose document time-stamp's TSA
// certificate expires in 30 days is renewed by the ArchiveRenewal cron
// job, and again when the second TSA's certificate nears its end 18
// months later; each version passes qpdf, pdfsig and our verifier at
// B-LTA, the old version is the new one's prefix and is removed, the
// renewal is in the audit log, and a run with nothing due changes
// nothing. A TSA whose own certificate is within the margin stops the run
// without a change.
func TestArchiveRenewal(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		w := newWorld(t, driver)
		start := w.clock.Now()
		short := w.pki.tsaUntil(t, "short", start.Add(30*24*time.Hour))
		c, d := w.sealed(t, short)
		healthy, _ := w.sealed(t, w.pki.long)
		orig, _ := w.file(t, d.ID)

		// A TSA that is itself within the margin: nothing changes.
		r := w.renewer(t, w.pki.tsaUntil(t, "brief", start.Add(200*24*time.Hour)), nil, nil)
		if _, err := w.run(t, r); !errors.Is(err, archive.ErrTSANotLonger) {
			t.Fatalf("renewal with a TSA expiring within the margin: %v", err)
		}
		if b, _ := w.file(t, d.ID); !bytes.Equal(b, orig) || len(w.keys(t, c.ID)) != 1 {
			t.Fatalf("a refused renewal changed the contract (%d files)", len(w.keys(t, c.ID)))
		}

		// First renewal, through the cron job (the refused run recorded
		// the healthy contract's expiry already: it is not checked again).
		mid := w.pki.tsaUntil(t, "mid", start.Add(2*year))
		dialect := jobs.SQLite
		if driver == "postgres" {
			dialect = jobs.Postgres
		}
		q, err := jobs.New(w.db.SQL(), jobs.Config{Dialect: dialect, InsertOnly: true},
			jobs.Deps{Runs: w.db.JobStore(), Archive: w.renewer(t, mid, nil, nil), Now: w.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		run, err := q.RunNow(ctx, jobs.ArchiveRenewal)
		if err != nil || run.Result != "renewed 1 of 1 contracts checked, 0 failed" {
			t.Fatalf("run: %+v, %v", run, err)
		}
		once, d1 := w.file(t, d.ID)
		if !bytes.HasPrefix(once, orig) || d1.StorageKey == d.StorageKey {
			t.Fatal("the renewed version is not an incremental update stored under a new key")
		}
		if ks := w.keys(t, c.ID); len(ks) != 1 || ks[0] != d1.StorageKey {
			t.Fatalf("files of the contract: %v, want only %s", ks, d1.StorageKey)
		}
		checkPDF(t, w.pki, once, 1)
		c1, err := w.db.GetContract(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !c1.ArchiveRenewedAt.Equal(start) || c1.SealLevel != "B-LTA" || c1.ArchiveExpiresAt.Before(start.Add(year)) {
			t.Fatalf("contract after renewal: renewed %s, level %s, expires %s", c1.ArchiveRenewedAt, c1.SealLevel, c1.ArchiveExpiresAt)
		}
		h, err := w.db.GetContract(ctx, healthy.ID)
		if err != nil || !h.ArchiveRenewedAt.IsZero() || h.ArchiveExpiresAt.Before(start.Add(2*year)) {
			t.Fatalf("the contract not due: %+v, %v (its expiry is recorded, nothing renewed)", h, err)
		}
		logs, err := w.db.ListAuditLogs(ctx, esign.AuditLogFilter{Action: "contract.archive_renew", ObjectID: c.ID})
		if err != nil || len(logs) != 1 || !strings.Contains(logs[0].Detail, d.StorageKey) || !strings.Contains(logs[0].Detail, d1.StorageKey) {
			t.Fatalf("audit log: %+v, %v", logs, err)
		}

		// Re-running is a no-op.
		res, err := w.run(t, w.renewer(t, mid, nil, nil))
		if err != nil || res != (jobs.RenewalResult{}) {
			t.Fatalf("second run: %+v, %v", res, err)
		}
		if b, _ := w.file(t, d.ID); !bytes.Equal(b, once) {
			t.Fatal("the second run changed the document")
		}

		// 18 months later the mid TSA is within the margin: renewed again.
		w.clock.Advance(year + year/2)
		res, err = w.run(t, w.renewer(t, w.pki.long, nil, nil))
		if err != nil || res.Renewed != 1 {
			t.Fatalf("renewal 18 months later: %+v, %v", res, err)
		}
		twice, _ := w.file(t, d.ID)
		if !bytes.HasPrefix(twice, once) {
			t.Fatal("the second renewal is not an incremental update")
		}
		checkPDF(t, w.pki, twice, 2)
		if n := w.sweep(t); n != 0 {
			t.Fatalf("the sweep removed %d files after clean renewals", n)
		}
	})
}

// failingDB fails (or loses the answer of) the renewal's transaction.
type failingDB struct {
	*sqlstore.DB
	fail      bool // roll back after the renewal's statements
	uncertain bool // commit, then report ErrCommitUncertain
}

var errInjected = errors.New("injected failure")

func (f *failingDB) InTx(ctx context.Context, fn func(tx *sqlstore.Tx) error) error {
	if f.uncertain {
		if err := f.DB.InTx(ctx, fn); err != nil {
			return err
		}
		return fmt.Errorf("commit: %w: %w", sqlstore.ErrCommitUncertain, errInjected)
	}
	if !f.fail {
		return f.DB.InTx(ctx, fn)
	}
	return f.DB.InTx(ctx, func(tx *sqlstore.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errInjected // after every statement: the rollback undoes them
	})
}

// failingDocs refuses deletions, as a process killed before them would
// leave the files.
type failingDocs struct{ archive.Documents }

func (failingDocs) Delete(context.Context, string) error { return errInjected }

// TestArchiveRenewalCrash: a transaction that fails after the new version
// is stored leaves the contract as it was (the new file removed, or, when
// its removal fails too, removed by the orphan sweep); a commit whose
// outcome is unknown keeps both files and the sweep removes the one no
// row names; the old file left by a process that died after its commit is
// removed by the sweep too. Each time the document row names a file whose
// bytes match it, and the next run completes the renewal.
func TestArchiveRenewalCrash(t *testing.T) {
	tests := []struct {
		name      string
		fail      bool // the transaction fails
		uncertain bool // its commit's outcome is lost
		noDelete  bool // removing files fails (the process died)
		committed bool
	}{
		{"tx_fails", true, false, false, false},
		{"tx_fails_and_cleanup_dies", true, false, true, false},
		{"commit_uncertain", false, true, false, true},
		{"committed_then_dies", false, false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, "sqlite")
			start := w.clock.Now()
			c, d := w.sealed(t, w.pki.tsaUntil(t, "short", start.Add(30*24*time.Hour)))
			orig, _ := w.file(t, d.ID)
			long := w.pki.long
			var docs archive.Documents = w.ce.Docs
			if tt.noDelete {
				docs = failingDocs{w.ce.Docs}
			}
			_, err := w.run(t, w.renewer(t, long, &failingDB{DB: w.db, fail: tt.fail, uncertain: tt.uncertain}, docs))
			if (tt.fail || tt.uncertain) != errors.Is(err, errInjected) {
				t.Fatalf("run: %v", err)
			}
			b, row := w.file(t, d.ID)
			if tt.committed != !bytes.Equal(b, orig) {
				t.Fatalf("committed %v, but the document changed %v", tt.committed, !bytes.Equal(b, orig))
			}
			w.sweep(t)
			if ks := w.keys(t, c.ID); len(ks) != 1 || ks[0] != row.StorageKey {
				t.Fatalf("after the sweep the contract's files are %v, want only %s", ks, row.StorageKey)
			}
			w.file(t, d.ID)
			res, err := w.run(t, w.renewer(t, long, nil, nil))
			if err != nil || res.Renewed != map[bool]int{true: 0, false: 1}[tt.committed] {
				t.Fatalf("next run: %+v, %v", res, err)
			}
			b, _ = w.file(t, d.ID)
			if !bytes.HasPrefix(b, orig) || bytes.Equal(b, orig) {
				t.Fatal("the contract was not renewed in the end")
			}
			if len(w.keys(t, c.ID)) != 1 {
				t.Fatalf("files: %v", w.keys(t, c.ID))
			}
		})
	}
}

// TestArchiveRenewalConcurrent: two runs at once (a manual run during the
// scheduled one) renew a contract once; the loser of the document's
// compare-and-swap removes its version and skips the contract.
func TestArchiveRenewalConcurrent(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		w := newWorld(t, driver)
		c, d := w.sealed(t, w.pki.tsaUntil(t, "short", w.clock.Now().Add(30*24*time.Hour)))
		orig, _ := w.file(t, d.ID)
		type out struct {
			res jobs.RenewalResult
			err error
		}
		done := make(chan out, 2)
		for range 2 {
			r := w.renewer(t, w.pki.long, nil, nil)
			go func() {
				res, err := r.RenewArchives(context.Background(), func(slog.Level, string, ...any) {})
				done <- out{res, err}
			}()
		}
		renewed := 0
		for range 2 {
			o := <-done
			if o.err != nil {
				t.Fatalf("run: %v", o.err)
			}
			renewed += o.res.Renewed
		}
		if renewed != 1 {
			t.Fatalf("renewed %d times, want once", renewed)
		}
		b, row := w.file(t, d.ID)
		if !bytes.HasPrefix(b, orig) || bytes.Equal(b, orig) {
			t.Fatal("not renewed")
		}
		if ks := w.keys(t, c.ID); len(ks) != 1 || ks[0] != row.StorageKey {
			t.Fatalf("files %v, want only %s", ks, row.StorageKey)
		}
		logs, err := w.db.ListAuditLogs(context.Background(), esign.AuditLogFilter{Action: "contract.archive_renew", ObjectID: c.ID})
		if err != nil || len(logs) != 1 {
			t.Fatalf("audit entries: %d, %v", len(logs), err)
		}
	})
}
