package webhookapi

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"esign/customize"
	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/hooks"
	"esign/internal/notify"
	"esign/internal/offers"
	"esign/internal/pdf/pdftest"
)

// TestOfferCreatedHook: the bank's offer_created callout vetoes an offer
// (no notification; the answer and the stored offer say why), adds data
// to another, and a callout that does not answer in time lets the offer
// go on under fail open and stops it under fail closed.
func TestOfferCreatedHook(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	bank := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get("X-Esign-Timestamp"), 10, 64)
		if !hmac.Equal([]byte(r.Header.Get("X-Esign-Signature")), []byte(offers.Sign(secret, ts, body))) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var env struct{ Data customize.OfferCreated }
		json.Unmarshal(body, &env)
		switch {
		case strings.Contains(env.Data.Title, "slow"):
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		case env.Data.Title == "Jelzálog" && len(env.Data.Documents) == 1 && env.Data.CustomerRef == "C-1":
			io.WriteString(w, `{"veto":true,"reason":"the credit limit of the customer is exceeded"}`)
		default:
			io.WriteString(w, `{"data":{"branch":"042"}}`)
		}
	}))
	t.Cleanup(bank.Close)
	for _, policy := range []hooks.Policy{hooks.FailOpen, hooks.FailClosed} {
		t.Run(string(policy), func(t *testing.T) {
			ce := customerstest.New(t, customerstest.OpenDB(t, "sqlite"), nil, customers.Config{}, nil)
			runner := hooks.New(hooks.Config{Secret: secret, Timeout: 300 * time.Millisecond, Callouts: map[string]hooks.Callout{
				customize.OfferCreatedHook: {URL: bank.URL, Policy: policy}}}, nil)
			svc, err := offers.New(offers.Deps{DB: ce.DB, Docs: ce.Docs, Queue: ce.Queue, Customers: ce.Svc, Now: ce.Clock.Now,
				Hooks: runner})
			if err != nil {
				t.Fatal(err)
			}
			var eps []Endpoint
			for _, p := range Paths() {
				eps = append(eps, Endpoint{Path: p, User: user, Password: pass})
			}
			srv := httptest.NewServer(New(svc, svc, slog.New(slog.DiscardHandler), Config{Endpoints: eps, MaxBodyBytes: 4 << 20,
				AuthFailures: 5, AuthWindow: 10 * time.Minute, Now: ce.Clock.Now}))
			t.Cleanup(srv.Close)
			e := &env{Env: ce, srv: srv}
			if r := e.json(t, "/customer/bootstrap", map[string]string{"customer_ref": "C-1", "name": "Kiss Anna",
				"phone": "+36301234567"}, nil); r.status != http.StatusCreated {
				t.Fatalf("bootstrap: %d %s", r.status, r.body)
			}
			upload := func(title string) OfferJSON {
				t.Helper()
				r := e.json(t, "/offer/upload", uploadBody("C-1", title, e.Clock.Now().Add(72*time.Hour), pdftest.Minimal(1)), nil)
				var o OfferJSON
				if r.status != http.StatusCreated || json.Unmarshal(r.body, &o) != nil {
					t.Fatalf("upload %s: %d %s", title, r.status, r.body)
				}
				return o
			}

			vetoed := upload("Jelzálog")
			want := offers.VetoPrefix + "the credit limit of the customer is exceeded"
			if vetoed.State != string(esign.OfferRevoked) || vetoed.StateReason != want {
				t.Fatalf("vetoed offer answered %+v", vetoed)
			}
			if got, err := e.DB.GetOffer(t.Context(), vetoed.ID); err != nil || got.StateReason != want {
				t.Fatalf("stored %+v, %v", got, err) // what the admin UI's offer page shows
			}
			if n := e.Queue.Count(notify.OfferAvailable); n != 0 {
				t.Fatalf("a vetoed offer was announced (%d notifications)", n)
			}
			// Nor does the customer ever see it, approved or not.
			cust, err := e.DB.GetCustomer(t.Context(), vetoed.CustomerID)
			if err != nil {
				t.Fatal(err)
			}
			cust.Status = esign.CustomerActive
			p := &customers.Principal{Customer: cust}
			if list, err := e.Svc.ListOffers(t.Context(), p, esign.Page{}); err != nil || len(list) != 0 {
				t.Fatalf("the customer sees %d offers (%v)", len(list), err)
			}
			if _, err := e.Svc.GetOffer(t.Context(), p, vetoed.ID, customers.Meta{}); !esign.IsKind(err, esign.NotFound) {
				t.Fatalf("the customer opens the vetoed offer: %v", err)
			}

			ok := upload("Számlanyitás")
			if ok.State != string(esign.OfferNotified) || ok.Data["branch"] != "042" || e.Queue.Count(notify.OfferAvailable) != 1 {
				t.Fatalf("offer with data: %+v, %d notifications", ok, e.Queue.Count(notify.OfferAvailable))
			}

			start := time.Now()
			late := upload("slow answer")
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("the upload waited %s for a hook with a 300ms timeout", d)
			}
			switch policy {
			case hooks.FailOpen:
				if late.State != string(esign.OfferNotified) || e.Queue.Count(notify.OfferAvailable) != 2 {
					t.Fatalf("fail open: %+v", late)
				}
			case hooks.FailClosed:
				if late.State != string(esign.OfferRevoked) || !strings.Contains(late.StateReason, "fail closed") ||
					e.Queue.Count(notify.OfferAvailable) != 1 {
					t.Fatalf("fail closed: %+v", late)
				}
			}
		})
	}
}

// TestApprovalVetoed: /customer/approve answers 403 approval_vetoed with
// the reason of the bank's customer_registered hook.
func TestApprovalVetoed(t *testing.T) {
	var reg customize.Registry
	reg.RegisterCustomerRegistered(func(ctx context.Context, p customize.CustomerRegistered) (customize.Answer, error) {
		return customize.Answer{Veto: true, Reason: "KYC documents missing"}, nil
	})
	runner := hooks.New(hooks.Config{}, &reg)
	ce := customerstest.New(t, customerstest.OpenDB(t, "sqlite"), nil, customers.Config{}, nil,
		func(d *customers.Deps) { d.Hooks = runner })
	svc, err := offers.New(offers.Deps{DB: ce.DB, Docs: ce.Docs, Queue: ce.Queue, Customers: ce.Svc, Now: ce.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	var eps []Endpoint
	for _, p := range Paths() {
		eps = append(eps, Endpoint{Path: p, User: user, Password: pass})
	}
	srv := httptest.NewServer(New(svc, svc, slog.New(slog.DiscardHandler), Config{Endpoints: eps, MaxBodyBytes: 4 << 20,
		AuthFailures: 5, AuthWindow: 10 * time.Minute, Now: ce.Clock.Now}))
	t.Cleanup(srv.Close)
	e := &env{Env: ce, srv: srv}
	if r := e.json(t, "/customer/bootstrap", map[string]string{"customer_ref": "C-2", "name": "Nagy Péter",
		"phone": "+36301234568"}, nil); r.status != http.StatusCreated {
		t.Fatalf("bootstrap: %d %s", r.status, r.body)
	}
	r := e.json(t, "/customer/approve", map[string]string{"customer_ref": "C-2"}, nil)
	if r.status != http.StatusForbidden || r.code() != "approval_vetoed" || !strings.Contains(string(r.body), "KYC documents missing") {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
}
