package signing_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"io"
	"sync"
	"testing"

	"esign/internal/cms"
	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/pades"
	"esign/internal/signing"
)

// batchCMS is a signing.BatchSigner over a local signer that records its
// calls and fails the batches while fail is set.
type batchCMS struct {
	local   *pades.LocalSigner
	mu      sync.Mutex
	batches []int // the digests of each SignDigests call
	singles int
	fail    bool
}

func (b *batchCMS) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	b.mu.Lock()
	b.singles++
	b.mu.Unlock()
	return b.local.SignDigest(ctx, digest)
}

func (b *batchCMS) SignDigests(ctx context.Context, digests [][]byte) ([][]byte, error) {
	b.mu.Lock()
	b.batches = append(b.batches, len(digests))
	fail := b.fail
	b.mu.Unlock()
	if fail {
		return nil, esign.E("test", esign.Unavailable, "pdfservice down")
	}
	var out [][]byte
	for _, d := range digests {
		der, err := b.local.SignDigest(ctx, d)
		if err != nil {
			return nil, err
		}
		out = append(out, der)
	}
	return out, nil
}

// TestSealBatchesTheDigests: with a BatchSigner the two documents of the
// offer are sealed with one call for both digests, each document with a
// valid seal of its own; a failed batch leaves no contract and the retried
// seal completes.
func TestSealBatchesTheDigests(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "sqlite", signing.Config{Sealing: &signing.Sealing{Seal: pades.SignOptions{Level: pades.LevelBT}}})
	dev := e.tsa.dev
	b := &batchCMS{local: &pades.LocalSigner{Signer: cms.Signer{Certificate: dev.Signer.Certificate, Chain: dev.Signer.Chain,
		Key: dev.Signer.Key}, TSA: e.tsa.client}, fail: true}
	svc, err := signing.New(e.ce.DB, e.ce.Svc, signing.Config{TSARoots: e.tsa.client.Roots, Now: e.ce.Clock.Now,
		Sealing: &signing.Sealing{Seal: pades.SignOptions{Level: pades.LevelBT, CMS: b}, Docs: e.ce.Docs, Queue: e.ce.Queue}})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	d := newDevice(t, signing.ECDSAP256)
	r1, err := e.svc.M1(ctx, e.p, e.m1(t, d, e.offer.ID))
	if err != nil {
		t.Fatal(err)
	}
	m2 := e.m2(t, d, r1.SignatureID, m2opts{})
	if _, err := e.svc.M2(ctx, e.p, m2, customers.Meta{}); !esign.IsKind(err, esign.Unavailable) {
		t.Fatalf("M2 with the batch failing: %v", err)
	}
	if cs, _ := e.ce.DB.ListContracts(ctx, esign.ContractFilter{OfferID: e.offer.ID}); len(cs) != 0 {
		t.Fatal("a contract was made without its seals")
	}
	b.mu.Lock()
	b.fail = false
	b.mu.Unlock()
	r2, err := e.svc.M2(ctx, e.p, m2, customers.Meta{})
	if err != nil || r2.Status != esign.SignatureCompleted || r2.ContractID == "" {
		t.Fatalf("retried M2: %+v, %v", r2, err)
	}
	if len(b.batches) != 2 || b.batches[0] != 2 || b.batches[1] != 2 || b.singles != 0 {
		t.Errorf("batches %v, single calls %d; want one batch of 2 per attempt", b.batches, b.singles)
	}
	docs, err := e.ce.DB.ListDocuments(ctx, esign.DocumentFilter{ContractID: r2.ContractID})
	if err != nil || len(docs) != 2 {
		t.Fatalf("%d contract documents, %v", len(docs), err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(dev.CA.Certificate)
	for i, doc := range docs {
		r, err := e.ce.Docs.Open(ctx, doc.StorageKey)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, e.docs[i]) {
			t.Errorf("document %d is not an incremental update of its offer document", i)
		}
		rep, err := pades.Verify(ctx, bytes.NewReader(data), int64(len(data)), pades.VerifyOptions{Roots: roots})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Valid() || len(rep.Signatures) != 1 {
			t.Errorf("document %d: %s", i, rep.Summary())
		}
	}
}
