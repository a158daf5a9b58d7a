package cli

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"esign/customize"
	"esign/internal/esign"
	"esign/internal/offers"
	"esign/internal/pdf/pdftest"
	"esign/internal/sqlstore"
)

// TestHooksWiring: `esign all` runs the in-process hooks a bank's own
// binary registered (Env.Hooks, as esigncmd.Main passes them) and the
// hooks.* callouts of the configuration, signed with hooks.secret.
func TestHooksWiring(t *testing.T) {
	const cred = "bank:0123456789abcdef-secret"
	secret := "fedcba9876543210fedcba9876543210"
	events := make(chan offers.Event, 10)
	bank := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get("X-Esign-Timestamp"), 10, 64)
		if !hmac.Equal([]byte(r.Header.Get("X-Esign-Signature")), []byte(offers.Sign([]byte(secret), ts, body))) {
			t.Errorf("callout with a bad signature")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Header.Get("X-Esign-Hook") == "" { // an event to webhook.event_urls
			var ev offers.Event
			json.Unmarshal(body, &ev)
			events <- ev
			return
		}
		io.WriteString(w, `{"data":{"scored_by":"callout"}}`)
	}))
	t.Cleanup(bank.Close)
	var reg customize.Registry
	reg.RegisterOfferCreated(func(ctx context.Context, o customize.OfferCreated) (customize.Answer, error) {
		if o.ExternalRef == "" {
			return customize.Answer{Veto: true, Reason: "the offer reference is required"}, nil
		}
		return customize.Answer{Data: map[string]string{"branch": strings.Split(o.ExternalRef, "-")[0]}}, nil
	})
	environ := testEnviron(t.TempDir(), "ESIGN_WEBHOOK_OFFER_UPLOAD="+cred, "ESIGN_WEBHOOK_CUSTOMER_BOOTSTRAP="+cred,
		"ESIGN_HOOKS_OFFER_CREATED_URL="+bank.URL, "ESIGN_HOOKS_SECRET="+secret,
		"ESIGN_WEBHOOK_EVENT_URLS="+bank.URL+"/events", "ESIGN_WEBHOOK_EVENT_SECRET="+secret)

	ctx, cancel := context.WithCancel(t.Context())
	addrs := make(chan map[string]string, 1)
	done := make(chan string, 1)
	go func() {
		var out, errb bytes.Buffer
		code := Run(ctx, Env{Args: []string{"all"}, Stdout: &out, Stderr: &errb, Environ: environ, Hooks: &reg,
			Ready: func(a map[string]string) { addrs <- a }})
		done <- fmt.Sprintf("exit %d: %s", code, errb.String())
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case r := <-done:
			if !strings.HasPrefix(r, "exit 0") {
				t.Errorf("esign all: %s", r)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("esign all did not stop")
		}
	})
	var a map[string]string
	select {
	case a = <-addrs:
	case r := <-done:
		t.Fatalf("esign all: %s", r)
	case <-time.After(60 * time.Second):
		t.Fatal("esign all did not start")
	}
	post := func(path string, v any) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(v)
		req, _ := http.NewRequest(http.MethodPost, "http://"+a["webhook"]+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		u, p, _ := strings.Cut(cred, ":")
		req.SetBasicAuth(u, p)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	if code, m := post("/customer/bootstrap", map[string]string{"customer_ref": "C-7", "name": "Tóth Béla", "phone": "+36301112244"}); code != http.StatusCreated {
		t.Fatalf("bootstrap: %d %v", code, m)
	}
	upload := func(ref string) map[string]any {
		t.Helper()
		code, m := post("/offer/upload", map[string]any{"customer_ref": "C-7", "external_ref": ref, "title": "Hitel",
			"expires_at": time.Now().Add(time.Hour), "documents": []map[string]string{{"name": "a.pdf",
				"content_base64": base64.StdEncoding.EncodeToString(pdftest.Minimal(1))}}})
		if code != http.StatusCreated {
			t.Fatalf("upload: %d %v", code, m)
		}
		return m
	}
	vetoed := upload("")
	if vetoed["state"] != "revoked" || vetoed["state_reason"] != offers.VetoPrefix+"the offer reference is required" {
		t.Fatalf("vetoed upload: %v", vetoed)
	}
	// The bank's systems hear of it as an event with the reason too.
	select {
	case ev := <-events:
		if ev.Type != offers.EventOfferRevoked || ev.Data.OfferID != vetoed["offer_id"] || ev.Data.Reason != vetoed["state_reason"] {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no offer.revoked event")
	}
	m := upload("042-77")
	data, _ := m["data"].(map[string]any)
	if m["state"] != "notified" || data["branch"] != "042" || data["scored_by"] != "callout" {
		t.Fatalf("upload: %v", m)
	}
}

// TestOfferEndedOnExpiry: `esign cron run OfferTimeout` tells the bank's
// offer_ended hooks — in-process and callout — of the offer it expired,
// after the commit and before the command exits.
func TestOfferEndedOnExpiry(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for an offer to expire")
	}
	secret := "fedcba9876543210fedcba9876543210"
	called := make(chan string, 2)
	bank := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get("X-Esign-Timestamp"), 10, 64)
		if !hmac.Equal([]byte(r.Header.Get("X-Esign-Signature")), []byte(offers.Sign([]byte(secret), ts, body))) {
			t.Errorf("callout with a bad signature")
		}
		var env struct{ Data customize.OfferEnded }
		json.Unmarshal(body, &env)
		called <- "callout " + env.Data.State + " " + env.Data.Title
	}))
	t.Cleanup(bank.Close)
	var reg customize.Registry
	reg.RegisterOfferEnded(func(ctx context.Context, o customize.OfferEnded) error {
		called <- "go " + o.State + " " + o.Title
		return nil
	})
	dir := t.TempDir()
	environ := testEnviron(dir, "ESIGN_HOOKS_OFFER_ENDED_URL="+bank.URL, "ESIGN_HOOKS_SECRET="+secret)
	if code, _, errs := run(t, t.Context(), environ, nil, "migrate", "up"); code != 0 {
		t.Fatalf("migrate: %s", errs)
	}
	db, err := sqlstore.Open(t.Context(), sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(dir, "esign.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := &esign.Customer{ExternalRef: "C-1", Name: "Kovács Anna", Phone: "+36301234567", Locale: "hu-HU", Status: esign.CustomerActive}
	if err := db.CreateCustomer(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	o := &esign.Offer{CustomerID: c.ID, Title: "Lakáshitel", ExpiresAt: time.Now().Add(1200 * time.Millisecond)}
	if err := db.CreateOffer(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	var out, errb bytes.Buffer
	if code := Run(t.Context(), Env{Args: []string{"cron", "run", "OfferTimeout"}, Stdout: &out, Stderr: &errb,
		Environ: environ, Hooks: &reg}); code != 0 {
		t.Fatalf("cron run: %d %s %s", code, out.String(), errb.String())
	}
	close(called)
	var got []string
	for s := range called {
		got = append(got, s)
	}
	if strings.Join(got, ",") != "go expired Lakáshitel,callout expired Lakáshitel" {
		t.Fatalf("offer_ended hooks: %v", got)
	}
}
