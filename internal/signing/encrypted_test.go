package signing_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"io"
	"os"
	"path/filepath"
	"testing"

	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/pades"
	"esign/internal/signing"
)

// TestContractEncrypted seals an offer of PDFs encrypted with an empty
// open password (qpdf AES-256, LibreOffice RC4-128 with a permission
// password): the contract documents are incremental updates of the
// encrypted originals, still encrypted, and verify.
func TestContractEncrypted(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "sqlite", signing.Config{Sealing: &signing.Sealing{Seal: pades.SignOptions{Level: pades.LevelBT}}})
	e.docs = nil
	var ids []string
	for _, f := range []string{"aes256.pdf", "lo-rc4-128.pdf"} {
		b, err := os.ReadFile(filepath.Join("..", "pdf", "testdata", "encrypted", f))
		if err != nil {
			t.Fatal(err)
		}
		e.docs = append(e.docs, b)
		ids = append(ids, e.ce.Document(t, e.p.Customer.ID, f, b).ID)
	}
	e.offer = e.ce.Offer(t, e.p.Customer.ID, "Encrypted loan", ids...)
	if _, err := e.ce.Svc.GetOffer(ctx, e.p, e.offer.ID, customers.Meta{}); err != nil {
		t.Fatal(err)
	}
	d := newDevice(t, signing.ECDSAP256)
	r1, err := e.svc.M1(ctx, e.p, e.m1(t, d, e.offer.ID))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := e.svc.M2(ctx, e.p, e.m2(t, d, r1.SignatureID, m2opts{}), customers.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Status != esign.SignatureCompleted || r2.ContractID == "" {
		t.Fatalf("M2 result %+v", r2)
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
		if bytes.Contains(b[len(e.docs[i]):], []byte(r2.CustomerSignatureHash)) {
			t.Errorf("document %d shows the customer signature hash in clear in an encrypted file", i)
		}
		rep, err := pades.Verify(ctx, bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{Roots: roots})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Valid() || len(rep.Signatures) != 1 || rep.Encryption == nil {
			t.Fatalf("document %d: %s", i, rep.Summary())
		}
	}
}
