package signing_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"esign/customize"
	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/hooks"
	"esign/internal/pades"
	"esign/internal/pdf"
	"esign/internal/signing"
)

// TestSealHooks: the signature_verified hook's metadata goes into the
// seal's own update (the signed bytes stay a prefix, the seal verifies);
// an answer that would change signed content is refused, and its policy
// decides whether the seal goes on without it (open) or waits (closed);
// contract_sealed hears of the contract.
func TestSealHooks(t *testing.T) {
	tamper := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"pdf_metadata":{"customerSignatureHash":"00","Title":"Another offer"}}`)
	}))
	t.Cleanup(tamper.Close)
	for _, tc := range []struct {
		name     string
		bank     bool // the in-process hook adds metadata
		tamper   hooks.Policy
		sealed   bool
		metadata bool
	}{
		{"metadata_added", true, "", true, true},
		{"change_refused_open", false, hooks.FailOpen, true, false},
		{"change_refused_closed", false, hooks.FailClosed, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			var reg customize.Registry
			if tc.bank {
				reg.RegisterSignatureVerified(func(ctx context.Context, p customize.SignatureVerified) (customize.Answer, error) {
					if p.CustomerSignatureHash == "" || len(p.Documents) != 2 || p.Documents[0].SHA256 == "" {
						t.Errorf("payload %+v", p)
					}
					return customize.Answer{PDFMetadata: map[string]string{"BankCaseID": "K-77", "Branch": "042"}}, nil
				})
			}
			sealedCh := make(chan customize.ContractSealed, 1)
			reg.RegisterContractSealed(func(ctx context.Context, p customize.ContractSealed) error {
				sealedCh <- p
				return nil
			})
			cfg := hooks.Config{Secret: []byte("0123456789abcdef0123456789abcdef"), Timeout: 2 * time.Second}
			if tc.tamper != "" {
				cfg.Callouts = map[string]hooks.Callout{customize.SignatureVerifiedHook: {URL: tamper.URL, Policy: tc.tamper}}
			}
			runner := hooks.New(cfg, &reg)
			e := newEnv(t, "sqlite", signing.Config{Sealing: &signing.Sealing{Seal: pades.SignOptions{Level: pades.LevelBT},
				Hooks: runner}})
			d := newDevice(t, signing.ECDSAP256)
			r1, err := e.svc.M1(ctx, e.p, e.m1(t, d, e.offer.ID))
			if err != nil {
				t.Fatal(err)
			}
			r2, err := e.svc.M2(ctx, e.p, e.m2(t, d, r1.SignatureID, m2opts{}), customers.Meta{})
			if !tc.sealed {
				if err == nil && r2.ContractID != "" {
					t.Fatalf("sealed although the hook failed closed: %+v", r2)
				}
				if s := e.offerState(t); s == esign.OfferSigned {
					t.Fatalf("offer %s", s)
				}
				return
			}
			if err != nil || r2.ContractID == "" {
				t.Fatalf("M2: %+v, %v", r2, err)
			}
			runner.Wait()
			select {
			case p := <-sealedCh:
				if p.ContractID != r2.ContractID || p.SealLevel == "" {
					t.Errorf("contract_sealed %+v", p)
				}
			default:
				t.Error("contract_sealed was not told")
			}
			docs, err := e.ce.DB.ListDocuments(ctx, esign.DocumentFilter{ContractID: r2.ContractID})
			if err != nil || len(docs) != 2 {
				t.Fatalf("%d documents, %v", len(docs), err)
			}
			roots := x509.NewCertPool()
			roots.AddCert(e.tsa.dev.CA.Certificate)
			for i, doc := range docs {
				r, err := e.ce.Docs.Open(ctx, doc.StorageKey)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(r)
				r.Close()
				if !bytes.HasPrefix(b, e.docs[i]) {
					t.Errorf("document %d: the signed bytes changed", i)
				}
				if got := bytes.Contains(b, []byte(signing.BankMetadataName)); got != tc.metadata {
					t.Errorf("document %d: bank metadata %v, want %v", i, got, tc.metadata)
				}
				pd, err := pdf.Open(bytes.NewReader(b), int64(len(b)))
				if err != nil {
					t.Fatal(err)
				}
				info, _ := pd.ResolveDict(pd.Trailer["Info"])
				if v, _ := pdf.AsString(info["BankCaseID"]); (string(v) == "K-77") != tc.metadata {
					t.Errorf("document %d: info /BankCaseID %q", i, v)
				}
				if bytes.Contains(b, []byte("Another offer")) {
					t.Errorf("document %d: the refused metadata is in it", i)
				}
				rep, err := pades.Verify(ctx, bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{Roots: roots})
				if err != nil || !rep.Valid() {
					t.Fatalf("document %d: %v %v", i, err, rep.Summary())
				}
			}
		})
	}
}
