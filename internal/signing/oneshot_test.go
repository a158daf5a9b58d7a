package signing_test

import (
	"context"
	"crypto"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/signing"
	"esign/internal/tsa"
)

// stamper is the server's TSA for the combined forms: the test's TSA,
// whose clock moves on after each token as env.stamp's does, or an error.
type stamper struct {
	e     *env
	calls atomic.Int32
	err   error
}

func (s *stamper) StampFor(ctx context.Context, p *customers.Principal, digest []byte) (*tsa.Token, error) {
	s.calls.Add(1)
	if s.err != nil {
		return nil, s.err
	}
	tok, err := s.e.tsa.client.Timestamp(ctx, digest, crypto.SHA256)
	s.e.tsa.advance(time.Second)
	return tok, err
}

// combined strips the token the server obtains in the combined form.
func combinedM1(m *signing.M1) *signing.M1 { c := *m; c.TS1 = nil; return &c }
func combinedM2(m *signing.M2) *signing.M2 { c := *m; c.TS3 = nil; return &c }

// TestOneShot: M1 without TS1 and M2 without TS3 are completed with the
// server's tokens and then verified and recorded as the separate form is
// (the stored tokens are the ones the messages carry afterwards); a
// message with its token is passed on without a time-stamp; a TSA that
// fails leaves nothing recorded and the signature waiting; a retried
// combined M2 gets the first answer.
func TestOneShot(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		e := newEnv(t, driver, signing.Config{})
		st := &stamper{e: e}
		o := signing.NewOneShot(e.svc, st)
		d := newDevice(t, signing.ECDSAP256)

		st.err = esign.E("tsa", esign.Unavailable, "the TSA is down")
		_, err := o.M1(ctx, e.p, combinedM1(e.m1(t, d, e.offer.ID)))
		if !esign.IsKind(err, esign.Unavailable) || e.offerState(t) != esign.OfferOpened {
			t.Fatalf("M1 with the TSA down: %v, offer %s", err, e.offerState(t))
		}
		st.err = nil
		m1 := combinedM1(e.m1(t, d, e.offer.ID))
		r1, err := o.M1(ctx, e.p, m1)
		if err != nil || len(m1.TS1) == 0 {
			t.Fatalf("combined M1: %v (TS1 %d bytes)", err, len(m1.TS1))
		}
		e.storedToken(t, r1.SignatureID, esign.TimestampTS1, m1.TS1)

		st.err = esign.WithCode("tsa", esign.TooMany, "rate_limited", "too many requests")
		_, err = o.M2(ctx, e.p, combinedM2(e.m2(t, d, r1.SignatureID, m2opts{})), customers.Meta{})
		wantCode(t, err, esign.TooMany, "rate_limited")
		if g, err := e.svc.Check(ctx, e.p, r1.SignatureID); err != nil || g.Status != esign.SignatureM1Received {
			t.Fatalf("after the TSA refused: %+v, %v", g, err)
		}
		st.err = nil
		m2 := combinedM2(e.m2(t, d, r1.SignatureID, m2opts{}))
		lost := *m2
		r2, err := o.M2(ctx, e.p, m2, customers.Meta{})
		if err != nil || r2.Status != esign.SignatureVerified || len(m2.TS3) == 0 {
			t.Fatalf("combined M2: %+v, %v", r2, err)
		}
		e.storedToken(t, r1.SignatureID, esign.TimestampTS3, m2.TS3)
		calls := st.calls.Load()
		// The same message in the separate form (with the TS3 it got) is
		// not time-stamped again; sent again without it (the answer lost),
		// it takes the first TS3: both get the first answer.
		for _, m := range []*signing.M2{m2, &lost} {
			again, err := o.M2(ctx, e.p, m, customers.Meta{})
			if err != nil || *again != *r2 {
				t.Fatalf("retry: %+v, %v; want %+v", again, err, r2)
			}
		}
		if n := st.calls.Load() - calls; n != 1 {
			t.Fatalf("%d time-stamps for the two retries, want 1 (the combined one)", n)
		}
		other := combinedM2(e.m2(t, d, r1.SignatureID, m2opts{deviceInfo: "other"}))
		_, err = o.M2(ctx, e.p, other, customers.Meta{})
		wantCode(t, err, esign.Conflict, "signature_state")
	})
}

// storedToken checks that the signature's token of the purpose is der.
func (e *env) storedToken(tb testing.TB, sigID string, p esign.TimestampPurpose, der []byte) {
	tb.Helper()
	toks, err := e.ce.DB.ListTimestampTokens(context.Background(), esign.TimestampTokenFilter{SignatureID: sigID, Purpose: p})
	if err != nil || len(toks) != 1 || string(toks[0].Token) != string(der) {
		tb.Fatalf("%s: %d stored, %v; not the message's token", p, len(toks), err)
	}
}

// TestOneShotRace: of two combined M2 racing for one signature exactly
// one is accepted, as TestM2Race for the separate form.
func TestOneShotRace(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "sqlite", signing.Config{})
	o := signing.NewOneShot(e.svc, &stamper{e: e})
	d := newDevice(t, signing.ECDSAP256)
	r1, err := o.M1(ctx, e.p, combinedM1(e.m1(t, d, e.offer.ID)))
	if err != nil {
		t.Fatal(err)
	}
	ms := []*signing.M2{combinedM2(e.m2(t, d, r1.SignatureID, m2opts{deviceInfo: "a"})),
		combinedM2(e.m2(t, d, r1.SignatureID, m2opts{deviceInfo: "b"}))}
	errs := make([]error, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Go(func() { _, errs[i] = o.M2(ctx, e.p, m, customers.Meta{}) })
	}
	wg.Wait()
	var ok, conflict int
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case esign.IsKind(err, esign.Conflict):
			conflict++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 || conflict != 1 {
		t.Fatalf("%d accepted, %d conflicts: %v", ok, conflict, errs)
	}
}
