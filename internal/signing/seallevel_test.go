package signing_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/pades"
	"esign/internal/pades/padestest"
	"esign/internal/signing"
)

// lateSet is a RevocationSet made once the test's PKI exists.
type lateSet struct{ set *pades.RevocationSet }

func (l *lateSet) Fetch(ctx context.Context, cert, issuer *x509.Certificate) ([]byte, []byte, error) {
	return l.set.Fetch(ctx, cert, issuer)
}

// syncBuffer is a log destination safe for the seal job's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSealLevels: the seal is made at the level configured (B-LTA with
// the CA's CRL supplied while its responders are down: the DSS the
// document time-stamp covers holds the validation data of the seal and of
// the TSA), and at B-T when a certificate has no revocation data — logged
// with the certificate — and the contract records the level reached.
func TestSealLevels(t *testing.T) {
	down := pades.HTTPRevocation{Client: &http.Client{Transport: refuse{}}}
	tests := []struct {
		name     string
		level    pades.Level
		supplied bool
		want     string
		log      string
	}{
		{"blta_supplied_crl", pades.LevelBLTA, true, "B-LTA", ""},
		{"blt_supplied_crl", pades.LevelBLT, true, "B-LT", ""},
		{"blta_no_data", pades.LevelBLTA, false, "B-T", "seal made at B-T instead of B-LTA"},
		{"bt", pades.LevelBT, false, "B-T", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			late := &lateSet{set: &pades.RevocationSet{}}
			logs := &syncBuffer{}
			e := newEnv(t, "sqlite", signing.Config{Sealing: &signing.Sealing{Seal: pades.SignOptions{Level: tt.level,
				Revocation: pades.RevocationSources{late, down}}, Log: slog.New(slog.NewTextHandler(logs, nil))}})
			if tt.supplied {
				der, err := e.tsa.dev.CA.CRL(nil, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				crl, err := pades.ParseCRL("ca.crl", der)
				if err != nil {
					t.Fatal(err)
				}
				late.set.CRLs = []pades.SuppliedCRL{crl}
			}
			d := newDevice(t, signing.ECDSAP256)
			r1, err := e.svc.M1(ctx, e.p, e.m1(t, d, e.offer.ID))
			if err != nil {
				t.Fatal(err)
			}
			r2, err := e.svc.M2(ctx, e.p, e.m2(t, d, r1.SignatureID, m2opts{}), customers.Meta{})
			if err != nil {
				t.Fatalf("M2: %v", err)
			}
			c, err := e.ce.DB.GetContract(ctx, r2.ContractID)
			if err != nil || c.SealLevel != tt.want {
				t.Fatalf("contract seal level %q, want %q (%v)", c.SealLevel, tt.want, err)
			}
			docs, err := e.ce.DB.ListDocuments(ctx, esign.DocumentFilter{ContractID: r2.ContractID})
			if err != nil || len(docs) == 0 {
				t.Fatalf("%d contract documents, %v", len(docs), err)
			}
			roots := x509.NewCertPool()
			roots.AddCert(e.tsa.dev.CA.Certificate)
			for _, doc := range docs {
				r, err := e.ce.Docs.Open(ctx, doc.StorageKey)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(r)
				r.Close()
				rep, err := pades.Verify(ctx, bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{Roots: roots})
				if err != nil || !rep.Valid() || rep.Signatures[0].Level != tt.want {
					t.Fatalf("sealed: %v\n%s", err, rep.Summary())
				}
				if tt.want == "B-LTA" {
					padestest.CheckLTA(t, b)
				}
			}
			if got := logs.String(); tt.log == "" && strings.Contains(got, "seal made at") ||
				tt.log != "" && (!strings.Contains(got, tt.log) || !strings.Contains(got, "esign Development Document Signer")) {
				t.Errorf("log:\n%s", got)
			}
		})
	}
}
