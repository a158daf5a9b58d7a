package device_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/customers/customerstest"
	"esign/internal/device"
	"esign/internal/esign"
	"esign/internal/notify"
	"esign/internal/signing"
)

// counter counts the requests a client sends, by method and path (ids
// replaced by {id}).
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	parts := strings.Split(r.URL.Path, "/")
	for i, p := range parts {
		if len(p) == 36 && strings.Count(p, "-") == 4 {
			parts[i] = "{id}"
		}
	}
	c.mu.Lock()
	c.n[r.Method+" "+strings.Join(parts, "/")]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.n {
		n += v
	}
	return n
}

// TestRoundTrips signs an offer in both forms over HTTP, counting the
// requests from opening the offer to the acknowledged contract: the
// combined form (the default) makes one /api/timestamp request (TS2)
// instead of three, and gives the same evidence — the tokens the device
// learns are the ones stored, and the sealed contract passes the offline
// evidence check.
func TestRoundTrips(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		s := newSystem(t, driver)
		for _, separate := range []bool{false, true} {
			ctx := context.Background()
			d, c := s.onboard(t)
			d.SeparateTimestamps = separate
			n := &counter{n: map[string]int{}}
			d.HTTPClient = &http.Client{Transport: n}
			o := s.offer(t, c)
			docs := open(t, d, o)
			m1, err := d.BuildM1(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(m1.TS1) != 0; got != separate {
				t.Fatalf("separate=%v: M1 built with TS1: %v", separate, got)
			}
			sigID, err := d.SendM1(ctx, m1)
			if err != nil {
				t.Fatal(err)
			}
			m2, err := d.BuildM2(ctx, &device.M2Input{SignatureID: sigID, OfferID: o.ID, Documents: docs,
				Password: "Correct-Horse-Battery-9", SMSToken: s.ce.Queue.Last(t, notify.TwoFactorCode).Params.Code})
			if err != nil {
				t.Fatal(err)
			}
			res, err := d.SendM2(ctx, m2)
			if err != nil {
				t.Fatal(err)
			}
			id, err := d.WaitContract(ctx, res)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Acknowledge(ctx, id); err != nil {
				t.Fatal(err)
			}
			stamps, want := n.n["POST /api/timestamp"], 1
			if separate {
				want = 3
			}
			if stamps != want {
				t.Fatalf("separate=%v: %d time-stamp requests, want %d (%v)", separate, stamps, want, n.n)
			}
			t.Logf("separate=%v: %d requests from the offer to the acknowledged contract: %v", separate, n.total(), n.n)

			// The device holds the tokens that were verified and stored.
			for _, tt := range []struct {
				p   esign.TimestampPurpose
				der []byte
			}{{esign.TimestampTS1, m1.TS1}, {esign.TimestampTS2, m2.TS2}, {esign.TimestampTS3, m2.TS3}} {
				toks, err := s.ce.DB.ListTimestampTokens(ctx, esign.TimestampTokenFilter{SignatureID: sigID, Purpose: tt.p})
				if err != nil || len(toks) != 1 || !bytes.Equal(toks[0].Token, tt.der) {
					t.Fatalf("separate=%v: %s stored %d, %v; the device's differs or is missing", separate, tt.p, len(toks), err)
				}
			}
			// The sealed contract's evidence passes the offline check.
			k, err := d.GetContract(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			roots := x509.NewCertPool()
			roots.AddCert(s.dev.CA.Certificate)
			var b bytes.Buffer
			if err := d.Download(ctx, k.Documents[0].ID, &b); err != nil {
				t.Fatal(err)
			}
			rep, err := signing.VerifyEvidence(ctx, bytes.NewReader(b.Bytes()), int64(b.Len()), signing.EvidenceOptions{Roots: roots})
			if err != nil || !rep.OK {
				t.Fatalf("separate=%v: evidence %+v, %v", separate, rep, err)
			}
		}
	})
}

// TestCombinedRetries: the combined forms keep the retry semantics — the
// same M1 again resends the code for the same signature, a mistyped code
// is no verdict, an M2 whose answer was lost sent again without its TS3
// gets the first answer, and another M2 after the verdict a conflict.
func TestCombinedRetries(t *testing.T) {
	ctx := context.Background()
	s := newSystem(t, "sqlite")
	d, c := s.onboard(t)
	o := s.offer(t, c)
	docs := open(t, d, o)
	m1, err := d.BuildM1(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	resent := *m1 // the same M1, sent again in the combined form
	sigID, err := d.SendM1(ctx, m1)
	if err != nil || len(m1.TS1) == 0 {
		t.Fatalf("M1: %v (TS1 %d bytes)", err, len(m1.TS1))
	}
	if again, err := d.SendM1(ctx, &resent); err != nil || again != sigID {
		t.Fatalf("the same M1 again: %q, %v; want %q", again, err, sigID)
	}
	code := s.ce.Queue.Last(t, notify.TwoFactorCode).Params.Code
	build := func(code string, photo []byte) *signing.M2 {
		m, err := d.BuildM2(ctx, &device.M2Input{SignatureID: sigID, OfferID: o.ID, Documents: docs,
			Password: "Correct-Horse-Battery-9", SMSToken: code, Photo: photo})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	_, err = d.SendM2(ctx, build(customerstest.WrongCode(code), nil))
	if n, ok := esign.ErrorAttemptsLeft(err); esign.ErrorCode(err) != "invalid_code" || !ok || n != 4 {
		t.Fatalf("M2 with a wrong code: %v (attempts left %d)", err, n)
	}
	m2 := build(code, []byte("jpeg"))
	lost := *m2 // sent, its answer lost: the device never learns its TS3
	res, err := d.SendM2(ctx, m2)
	if err != nil || res.ContractID == "" || len(m2.TS3) == 0 {
		t.Fatalf("M2: %+v, %v (TS3 %d bytes)", res, err, len(m2.TS3))
	}
	again, err := d.SendM2(ctx, &lost)
	if err != nil || again.ContractID != res.ContractID || again.CustomerSignatureHash != res.CustomerSignatureHash {
		t.Fatalf("the same combined M2 again: %+v, %v; want %+v", again, err, res)
	}
	other := build(code, []byte("another photo"))
	if _, err := d.SendM2(ctx, other); !esign.IsKind(err, esign.Conflict) || esign.ErrorCode(err) != "signature_state" {
		t.Fatalf("another M2 after the verdict: %v", err)
	}
}

// TestWaitContractAsksToWait: WaitContract asks the server to hold the
// status answer (?wait=, at most StatusWait and within ContractWait), so
// that a server that waits for the seal answers the sealed contract in one
// request.
func TestWaitContractAsksToWait(t *testing.T) {
	var requests int
	var waits []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		waits = append(waits, r.URL.Query().Get("wait"))
		st := signing.Status{SignatureID: "s", Status: esign.SignatureVerified}
		if d, err := time.ParseDuration(r.URL.Query().Get("wait")); err == nil && d > 0 && d <= device.StatusWait {
			st.Status, st.ContractID = esign.SignatureCompleted, "k-1" // sealed while the server waited
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(st)
	}))
	defer srv.Close()
	c := &device.Client{BaseURL: srv.URL, SessionToken: "sess", ContractWait: 3 * time.Second}
	if id, err := c.WaitContract(t.Context(), &signing.M2Result{SignatureID: "s"}); err != nil || id != "k-1" || requests != 1 {
		t.Fatalf("%q, %v after %d requests (wait %q)", id, err, requests, waits)
	}
}
