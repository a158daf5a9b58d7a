package signing_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"esign/internal/bus"
	"esign/internal/cms"
	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/docstore"
	"esign/internal/envelope"
	"esign/internal/esign"
	"esign/internal/notify"
	"esign/internal/pades"
	"esign/internal/signing"
	"esign/internal/sqlstore"
	"esign/internal/tsa"
)

// events records published events.
type events struct {
	mu    sync.Mutex
	types []string
}

func (e *events) Publish(ctx context.Context, stream, eventType string, body any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.types = append(e.types, stream+" "+eventType)
	return nil
}

// feed records the entries of the operators' live feed.
type feed struct {
	mu      sync.Mutex
	entries []string
}

func (f *feed) Live(_ context.Context, tx *sqlstore.Tx, e *sqlstore.LiveEvent) error {
	if tx == nil {
		return errors.New("a feed entry outside a transaction")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = append(f.entries, e.Type+" "+e.SignatureID+" "+e.Detail)
	return nil
}

// TestContract signs an offer of two PDFs end to end: M1, M2, the sealed
// contract (PAdES B-T with the evidence attached) stored encrypted, the
// offer signed, the push enqueued and the operator event published.
func TestContract(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		ev := &events{}
		ch := &changes{}
		fd := &feed{}
		e := newEnv(t, driver, signing.Config{Feed: fd, Sealing: &signing.Sealing{Seal: pades.SignOptions{Level: pades.LevelBT},
			Events: ev, Stream: bus.StreamContractUpdates, Changes: ch,
			Line: func(string) string { return "Sealed by the bank. Verify at https://bank.example/verify" }}})
		d := newDevice(t, signing.ECDSAP256)
		r1, err := e.svc.M1(ctx, e.p, e.m1(t, d, e.offer.ID))
		if err != nil {
			t.Fatal(err)
		}
		m2 := e.m2(t, d, r1.SignatureID, m2opts{})
		r2, err := e.svc.M2(ctx, e.p, m2, customers.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if r2.Status != esign.SignatureCompleted || r2.ContractID == "" {
			t.Fatalf("M2 result %+v", r2)
		}
		if s := e.offerState(t); s != esign.OfferSigned {
			t.Fatalf("offer state %s", s)
		}
		docs, err := e.ce.DB.ListDocuments(ctx, esign.DocumentFilter{ContractID: r2.ContractID})
		if err != nil || len(docs) != 2 {
			t.Fatalf("%d contract documents, %v", len(docs), err)
		}
		roots := x509.NewCertPool()
		roots.AddCert(e.tsa.dev.CA.Certificate)
		for i, doc := range docs {
			r, err := e.ce.Docs.Open(ctx, doc.StorageKey)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(r)
			r.Close()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, e.docs[i]) {
				t.Errorf("document %d is not an incremental update of the offer", i)
			}
			if !bytes.Contains(b, []byte(r2.CustomerSignatureHash)) {
				t.Errorf("document %d lacks the visible customer signature hash", i)
			}
			if !bytes.Contains(b, []byte("(Sealed by the bank. Verify at https://bank.example/verify)")) {
				t.Errorf("document %d: the seal's visible line does not point to the verify page", i)
			}
			rep, err := pades.Verify(ctx, bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{Roots: roots})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Valid() || len(rep.Signatures) != 1 || !slices.Contains([]string{"B-T", "B-LT", "B-LTA"}, rep.Signatures[0].Level) {
				t.Fatalf("document %d: %s", i, rep.Summary())
			}
		}
		atts, err := e.ce.DB.ListAttachments(ctx, esign.AttachmentFilter{ContractID: r2.ContractID})
		if err != nil || len(atts) != 1 {
			t.Fatalf("%d attachments, %v", len(atts), err)
		}
		if n := e.ce.Queue.Count(notify.ContractReady); n != 1 {
			t.Errorf("%d contract-ready pushes", n)
		}
		if len(ev.types) != 1 || ev.types[0] != bus.StreamContractUpdates+" contract.signed" {
			t.Errorf("events %v", ev.types)
		}
		// The operators' feed hears of the verdict in its transaction.
		if !slices.Equal(fd.entries, []string{"signature.verified " + r1.SignatureID + " "}) {
			t.Errorf("feed %v", fd.entries)
		}
		// The bank's events out hear of it in the same transaction.
		if !slices.Equal(ch.seen, []string{"offer " + e.offer.ID + " signed", "contract " + r2.ContractID + " active"}) {
			t.Errorf("changes %v", ch.seen)
		}
		// A retried M2 returns the same contract.
		again, err := e.svc.M2(ctx, e.p, m2, customers.Meta{})
		if err != nil || again.ContractID != r2.ContractID {
			t.Fatalf("retry %+v, %v", again, err)
		}
	})
}

// flakyTSA is the bank's time-stamping authority, down while down is set.
type flakyTSA struct {
	down atomic.Bool
	tsa  tsa.Timestamper
}

func (f *flakyTSA) Timestamp(ctx context.Context, digest []byte, h crypto.Hash) (*tsa.Token, error) {
	if f.down.Load() {
		return nil, errors.New("connection refused")
	}
	return f.tsa.Timestamp(ctx, digest, h)
}

// TestSealingNeedsTheTSA: with the TSA down the contract is not made and
// the answer is Unavailable (no fallback to the local clock); the
// signature stays verified and the same M2 retried later completes it.
func TestSealingNeedsTheTSA(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "sqlite", signing.Config{Sealing: &signing.Sealing{Seal: pades.SignOptions{Level: pades.LevelBT}}})
	flaky := &flakyTSA{tsa: e.tsa.client}
	e.svc = mustService(t, e, flaky)
	d := newDevice(t, signing.ECDSAP256)
	r1, err := e.svc.M1(ctx, e.p, e.m1(t, d, e.offer.ID))
	if err != nil {
		t.Fatal(err)
	}
	m2 := e.m2(t, d, r1.SignatureID, m2opts{})
	flaky.down.Store(true)
	_, err = e.svc.M2(ctx, e.p, m2, customers.Meta{})
	if !esign.IsKind(err, esign.Unavailable) {
		t.Fatalf("M2 with the TSA down: %v", err)
	}
	g, err := e.ce.DB.GetSignature(ctx, r1.SignatureID)
	if err != nil || g.Status != esign.SignatureVerified {
		t.Fatalf("signature %+v, %v", g, err)
	}
	if s := e.offerState(t); s != esign.OfferSigning {
		t.Fatalf("offer state %s", s)
	}
	if cs, _ := e.ce.DB.ListContracts(ctx, esign.ContractFilter{OfferID: e.offer.ID}); len(cs) != 0 {
		t.Fatal("a contract was made without the TSA")
	}
	flaky.down.Store(false)
	r2, err := e.svc.M2(ctx, e.p, m2, customers.Meta{})
	if err != nil || r2.Status != esign.SignatureCompleted || r2.ContractID == "" {
		t.Fatalf("retried M2: %+v, %v", r2, err)
	}
	if s := e.offerState(t); s != esign.OfferSigned {
		t.Fatalf("offer state %s", s)
	}
}

// mustService rebuilds e's service with the bank's CMS time-stamped by ts.
func mustService(t *testing.T, e *env, ts tsa.Timestamper) *signing.Service {
	t.Helper()
	dev := e.tsa.dev
	svc, err := signing.New(e.ce.DB, e.ce.Svc, signing.Config{TSARoots: e.tsa.client.Roots, Now: e.ce.Clock.Now, Sealing: &signing.Sealing{
		Seal: pades.SignOptions{Level: pades.LevelBT, CMS: &pades.LocalSigner{Signer: cms.Signer{Certificate: dev.Signer.Certificate,
			Chain: dev.Signer.Chain, Key: dev.Signer.Key}, TSA: ts}},
		Docs: e.ce.Docs, Queue: e.ce.Queue}})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// changes records what Sealing.Changes hears.
type changes struct{ seen []string }

func (c *changes) OfferChanged(_ context.Context, _ *sqlstore.Tx, o *esign.Offer) error {
	c.seen = append(c.seen, "offer "+o.ID+" "+string(o.State))
	return nil
}

func (c *changes) ContractChanged(_ context.Context, _ *sqlstore.Tx, k *esign.Contract) error {
	c.seen = append(c.seen, "contract "+k.ID+" "+string(k.Status))
	return nil
}

// TestSealingFallsBackToBT: B-LT is asked for, but the chain's revocation
// responders cannot be reached (the development PKI's URLs point at no
// server here): the contract is sealed at B-T instead of failing.
func TestSealingFallsBackToBT(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "sqlite", signing.Config{Sealing: &signing.Sealing{Seal: pades.SignOptions{Level: pades.LevelBLT,
		Revocation: pades.HTTPRevocation{Client: &http.Client{Transport: refuse{}}}}}})
	d := newDevice(t, signing.ECDSAP256)
	r1, err := e.svc.M1(ctx, e.p, e.m1(t, d, e.offer.ID))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := e.svc.M2(ctx, e.p, e.m2(t, d, r1.SignatureID, m2opts{}), customers.Meta{})
	if err != nil {
		t.Fatalf("M2: %v", err)
	}
	docs, err := e.ce.DB.ListDocuments(ctx, esign.DocumentFilter{ContractID: r2.ContractID})
	if err != nil || len(docs) == 0 {
		t.Fatalf("%d contract documents, %v", len(docs), err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(e.tsa.dev.CA.Certificate)
	r, err := e.ce.Docs.Open(ctx, docs[0].StorageKey)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	rep, err := pades.Verify(ctx, bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{Roots: roots})
	if err != nil || !rep.Valid() || rep.Signatures[0].Level != "B-T" {
		t.Fatalf("sealed at %v, %v:\n%s", rep.Signatures, err, rep.Summary())
	}
}

// refuse is a transport whose every request fails, like a revocation
// responder that is down.
type refuse struct{}

func (refuse) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection refused")
}

// sealJobs records the seal jobs M2 enqueues, with the transaction.
type sealJobs struct {
	mu  sync.Mutex
	ids []string
}

func (j *sealJobs) EnqueueSeal(_ context.Context, tx *sql.Tx, id string) (int64, error) {
	if tx == nil {
		return 0, errors.New("the seal must be enqueued in M2's transaction")
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.ids = append(j.ids, id)
	return int64(len(j.ids)), nil
}

// TestSealInBackground: with Sealing.Jobs, an accepted M2 answers
// "verified" and enqueues the seal; SealSignature (the job) makes the
// contract once, and a retried M2 still answers without sealing.
func TestSealInBackground(t *testing.T) {
	ctx := context.Background()
	jobs := &sealJobs{}
	e := newEnv(t, "sqlite", signing.Config{Sealing: &signing.Sealing{Seal: pades.SignOptions{Level: pades.LevelBT}, Jobs: jobs}})
	d := newDevice(t, signing.ECDSAP256)
	r1, err := e.svc.M1(ctx, e.p, e.m1(t, d, e.offer.ID))
	if err != nil {
		t.Fatal(err)
	}
	err = e.svc.SealSignature(ctx, r1.SignatureID)
	wantCode(t, err, esign.Invalid, "") // not verified yet
	m2 := e.m2(t, d, r1.SignatureID, m2opts{})
	r2, err := e.svc.M2(ctx, e.p, m2, customers.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Status != esign.SignatureVerified || r2.ContractID != "" || len(jobs.ids) != 1 || jobs.ids[0] != r1.SignatureID {
		t.Fatalf("M2 result %+v, jobs %v", r2, jobs.ids)
	}
	if again, err := e.svc.M2(ctx, e.p, m2, customers.Meta{}); err != nil || *again != *r2 {
		t.Fatalf("retried M2 before the seal: %+v, %v", again, err)
	}
	if st, err := e.svc.Check(ctx, e.p, r1.SignatureID); err != nil || st.Status != esign.SignatureVerified {
		t.Fatalf("check before the seal: %+v, %v", st, err)
	}
	for range 2 { // the job, and the job again (a retry after a lost acknowledgement)
		if err := e.svc.SealSignature(ctx, r1.SignatureID); err != nil {
			t.Fatal(err)
		}
	}
	st, err := e.svc.Check(ctx, e.p, r1.SignatureID)
	if err != nil || st.Status != esign.SignatureCompleted || st.ContractID == "" {
		t.Fatalf("check after the seal: %+v, %v", st, err)
	}
	if cs, err := e.ce.DB.ListContracts(ctx, esign.ContractFilter{OfferID: e.offer.ID}); err != nil || len(cs) != 1 {
		t.Fatalf("%d contracts, %v", len(cs), err)
	}
	if s := e.offerState(t); s != esign.OfferSigned {
		t.Fatalf("offer state %s", s)
	}
	if again, err := e.svc.M2(ctx, e.p, m2, customers.Meta{}); err != nil || again.ContractID != st.ContractID {
		t.Fatalf("retried M2 after the seal: %+v, %v", again, err)
	}
	wantCode(t, e.svc.SealSignature(ctx, "00000000-0000-0000-0000-000000000000"), esign.Invalid, "")
}

// fullDisk reads the offer's documents from the environment's store and
// writes the contract's into a store of its own, whose disk "fills up"
// (ENOSPC) for the evidence bundle while full is set.
type fullDisk struct {
	in, out *docstore.Store
	full    atomic.Bool
}

func (f *fullDisk) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if f.full.Load() && strings.HasPrefix(key, "evidence/") {
		return 0, esign.E("docstore.Put", fmt.Errorf("write %s: %w", key, syscall.ENOSPC))
	}
	return f.out.Put(ctx, key, r)
}

func (f *fullDisk) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if r, err := f.in.Open(ctx, key); !esign.IsKind(err, esign.NotFound) {
		return r, err
	}
	return f.out.Open(ctx, key)
}

func (f *fullDisk) Delete(ctx context.Context, key string) error { return f.out.Delete(ctx, key) }

// TestSealingDiskFull: a seal attempt that fails after storing some of the
// contract's files (the disk filled up) leaves no file and no folder
// behind; the retried M2 seals the contract.
func TestSealingDiskFull(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, "sqlite", signing.Config{Sealing: &signing.Sealing{Seal: pades.SignOptions{Level: pades.LevelBT}}})
	key := make([]byte, 32)
	rand.Read(key)
	keys, err := envelope.NewKeyring("k1", map[string][]byte{"k1": key})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out, err := docstore.Open(dir, keys)
	if err != nil {
		t.Fatal(err)
	}
	disk := &fullDisk{in: e.ce.Docs, out: out}
	disk.full.Store(true)
	dev := e.tsa.dev
	e.svc, err = signing.New(e.ce.DB, e.ce.Svc, signing.Config{TSARoots: e.tsa.client.Roots, Now: e.ce.Clock.Now, Sealing: &signing.Sealing{
		Seal: pades.SignOptions{Level: pades.LevelBT, CMS: &pades.LocalSigner{Signer: cms.Signer{Certificate: dev.Signer.Certificate,
			Chain: dev.Signer.Chain, Key: dev.Signer.Key}, TSA: e.tsa.client}},
		Docs: disk, Queue: e.ce.Queue}})
	if err != nil {
		t.Fatal(err)
	}
	d := newDevice(t, signing.ECDSAP256)
	r1, err := e.svc.M1(ctx, e.p, e.m1(t, d, e.offer.ID))
	if err != nil {
		t.Fatal(err)
	}
	m2 := e.m2(t, d, r1.SignatureID, m2opts{})
	if _, err := e.svc.M2(ctx, e.p, m2, customers.Meta{}); err == nil {
		t.Fatal("M2 sealed with a full disk")
	}
	var left []string
	filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if rel, _ := filepath.Rel(dir, p); rel != "." && rel != "contracts" {
			left = append(left, rel)
		}
		return err
	})
	if len(left) > 0 {
		t.Fatalf("the failed seal left %q behind", left)
	}
	disk.full.Store(false)
	r2, err := e.svc.M2(ctx, e.p, m2, customers.Meta{})
	if err != nil || r2.Status != esign.SignatureCompleted {
		t.Fatalf("retried M2: %+v, %v", r2, err)
	}
}
