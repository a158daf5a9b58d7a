package cli

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/config"
	"esign/internal/offers"
	"esign/internal/pdf/pdftest"
	"esign/internal/webhookapi"
)

// TestWebhookListener: `esign all` serves the webhook API with each
// endpoint as configured, and a revoked offer reaches the callback URL as
// a signed event.
func TestWebhookListener(t *testing.T) {
	const cred = "bank:0123456789abcdef-secret"
	secret := "0123456789abcdef0123456789abcdef"
	var mu sync.Mutex
	var got []offers.Event
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get("X-Esign-Timestamp"), 10, 64)
		if !hmac.Equal([]byte(r.Header.Get("X-Esign-Signature")), []byte(offers.Sign([]byte(secret), ts, body))) {
			t.Errorf("event with a bad signature: %s", body)
		}
		var ev offers.Event
		json.Unmarshal(body, &ev)
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)
	env := testEnviron(t.TempDir(), "ESIGN_WEBHOOK_OFFER_UPLOAD="+cred, "ESIGN_WEBHOOK_OFFER_REVOKE="+cred,
		"ESIGN_WEBHOOK_CUSTOMER_BOOTSTRAP="+cred, "ESIGN_WEBHOOK_EVENT_URLS="+recv.URL+"/events", "ESIGN_WEBHOOK_EVENT_SECRET="+secret)
	a := startProcess(t, "all", env)
	base := "http://" + a["webhook"]
	post := func(path, body string, auth bool) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth {
			u, p, _ := strings.Cut(cred, ":")
			req.SetBasicAuth(u, p)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	if code, _ := post("/customer/approve", `{"customer_ref":"C-9"}`, true); code != http.StatusNotFound {
		t.Fatalf("disabled endpoint: %d", code)
	}
	if code, _ := post("/customer/bootstrap", `{"customer_ref":"C-9","name":"Szabó Ilona","phone":"+36301112233"}`, false); code != http.StatusUnauthorized {
		t.Fatalf("no credentials: %d", code)
	}
	if code, m := post("/customer/bootstrap", `{"customer_ref":"C-9","name":"Szabó Ilona","phone":"+36301112233"}`, true); code != http.StatusCreated {
		t.Fatalf("bootstrap: %d %v", code, m)
	}
	up, _ := json.Marshal(map[string]any{"customer_ref": "C-9", "title": "Hitel", "expires_at": time.Now().Add(time.Hour),
		"documents": []map[string]string{{"name": "a.pdf", "content_base64": base64.StdEncoding.EncodeToString(pdftest.Minimal(1))}}})
	code, m := post("/offer/upload", string(up), true)
	if code != http.StatusCreated || m["state"] != "notified" {
		t.Fatalf("upload: %d %v", code, m)
	}
	if code, m := post("/offer/revoke", `{"customer_ref":"C-9","offer_id":"`+m["offer_id"].(string)+`"}`, true); code != http.StatusOK {
		t.Fatalf("revoke: %d %v", code, m)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no event reached the callback URL")
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	first := got[0]
	mu.Unlock()
	if first.Type != offers.EventOfferRevoked || first.Data.OfferID != m["offer_id"] || first.Data.CustomerRef != "C-9" {
		t.Fatalf("event %+v", first)
	}
	// Operators see the delivery with `esign events`.
	for {
		code, out, errs := run(t, t.Context(), env, nil, "events", "--status", "delivered")
		if code != 0 {
			t.Fatalf("esign events: %d %s", code, errs)
		}
		if strings.Contains(out, "offer.revoked") && strings.Contains(out, recv.URL+"/events") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("esign events does not list the delivery:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _, errs := run(t, t.Context(), env, nil, "events", "--status", "lost"); code != 2 || !strings.Contains(errs, "want pending") {
		t.Errorf("bad --status: %d %q", code, errs)
	}
}

// TestWebhookSettingsCoverEveryEndpoint: every endpoint of the API has its
// setting, and no setting names an endpoint the API lacks.
func TestWebhookSettingsCoverEveryEndpoint(t *testing.T) {
	var got []string
	for _, e := range (config.Webhook{}).WebhookEndpoints() {
		got = append(got, e.Path)
	}
	if !slices.Equal(got, webhookapi.Paths()) {
		t.Fatalf("settings for %v, API endpoints %v", got, webhookapi.Paths())
	}
}
