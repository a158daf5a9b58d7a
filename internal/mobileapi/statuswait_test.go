package mobileapi

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/live"
	"esign/internal/signing"
)

// sealingSigner is a signature being sealed: verified until sealed is set,
// then completed; it counts the reads.
type sealingSigner struct {
	Signer
	sealed atomic.Bool
	reads  atomic.Int32
}

func (s *sealingSigner) Check(ctx context.Context, p *customers.Principal, id string) (*signing.Status, error) {
	s.reads.Add(1)
	st := &signing.Status{SignatureID: id, OfferID: "0193a0a4-0000-7000-8000-000000000001", Status: esign.SignatureVerified}
	if s.sealed.Load() {
		st.Status, st.ContractID = esign.SignatureCompleted, "0193a0a4-0000-7000-8000-000000000002"
	}
	return st, nil
}

// TestStatusWait: with ?wait= the status of a signature being sealed is
// answered when the end of one of the customer's signatures is announced
// (read twice: before and after), or when the wait is over (read once);
// another customer's announcement does not wake it; a wait that is not a
// duration from 0 to 30 s is refused.
func TestStatusWait(t *testing.T) {
	env := customerstest.New(t, customerstest.OpenDB(t, "sqlite"), nil, customers.Config{}, nil)
	hub := live.NewHub(live.Options{})
	t.Cleanup(hub.Close)
	signer := &sealingSigner{}
	srv := httptest.NewServer(New(env.Svc, slog.New(slog.DiscardHandler), WithSigning(signer), WithStatusWait(hub)))
	t.Cleanup(srv.Close)
	c := &client{t: t, url: srv.URL, doc: loadDoc(t), env: env}
	a := c.account("Fekete Judit", true)
	tok := c.login(a)
	const path = "/api/signature/0193a0a4-0000-7000-8000-000000000003/status"

	for _, bad := range []string{"soon", "-1s", "31s", "5"} {
		c.want(c.do("GET", path+"?wait="+bad, tok, nil), 400, "invalid_wait")
	}
	if signer.reads.Load() != 0 {
		t.Fatal("a refused wait read the signature")
	}

	// Nothing announced: the answer after the wait, read once.
	start := time.Now()
	r := c.do("GET", path+"?wait=300ms", tok, nil)
	c.want(r, 200, "")
	if got := r.json(t)["status"]; got != "verified" || time.Since(start) < 300*time.Millisecond || signer.reads.Load() != 1 {
		t.Fatalf("status %v after %v, %d reads", got, time.Since(start), signer.reads.Load())
	}

	// Another customer's seal, then this one's.
	signer.reads.Store(0)
	go func() {
		time.Sleep(100 * time.Millisecond)
		hub.Publish(&live.Event{ID: "1", Type: "contract.sealed", CustomerID: "someone else"})
		time.Sleep(100 * time.Millisecond)
		signer.sealed.Store(true)
		hub.Publish(&live.Event{ID: "2", Type: "contract.sealed", CustomerID: a.customer.ID})
	}()
	start = time.Now()
	r = c.do("GET", path+"?wait=10s", tok, nil)
	c.want(r, 200, "")
	if got := r.json(t); got["status"] != "completed" || got["contractId"] == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("answer %v after %v", got, time.Since(start))
	}
	if n := signer.reads.Load(); n != 2 {
		t.Fatalf("%d reads, want 2 (before the wait and after the announcement)", n)
	}

	// A completed signature: at once, whatever the wait.
	start = time.Now()
	c.want(c.do("GET", path+"?wait=10s", tok, nil), 200, "")
	if time.Since(start) > 2*time.Second {
		t.Fatalf("a completed signature waited %v", time.Since(start))
	}
}

// FuzzParseWait: any wait parameter is either refused or a duration from
// 0 to MaxStatusWait, and never panics.
func FuzzParseWait(f *testing.F) {
	for _, s := range []string{"", "5s", "1500ms", "30s", "31s", "-1s", "1e9h", "5", "0", "9223372036854775807ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseWait(s)
		if err != nil {
			if esign.ErrorCode(err) != "invalid_wait" || d != 0 {
				t.Fatalf("%q: %v, %v", s, d, err)
			}
			return
		}
		if d < 0 || d > MaxStatusWait {
			t.Fatalf("%q: %v out of range", s, d)
		}
	})
}
