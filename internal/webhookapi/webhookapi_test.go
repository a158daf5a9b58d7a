package webhookapi

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/notify"
	"esign/internal/offers"
	"esign/internal/pdf/pdftest"
)

const (
	user = "bank"
	pass = "correct-horse-battery-staple"
)

// seen records (path, status) of every response, for the OpenAPI check.
type seen struct {
	mu sync.Mutex
	m  map[string]map[int]bool
}

func (s *seen) add(path string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[path] == nil {
		s.m[path] = map[int]bool{}
	}
	s.m[path][status] = true
}

var observed = &seen{m: map[string]map[int]bool{}}

type env struct {
	*customerstest.Env
	srv *httptest.Server
}

// newEnv runs the handler on the real services; every endpoint but the
// ones in disabled is enabled with user:pass.
func newEnv(t *testing.T, driver string, disabled ...string) *env {
	t.Helper()
	return newEnvWith(t, driver, nil, disabled...)
}

// newEnvWith is newEnv with changes to the handler's configuration.
func newEnvWith(t *testing.T, driver string, change func(*Config), disabled ...string) *env {
	t.Helper()
	ce := customerstest.New(t, customerstest.OpenDB(t, driver), nil, customers.Config{}, nil)
	svc, err := offers.New(offers.Deps{DB: ce.DB, Docs: ce.Docs, Queue: ce.Queue, Customers: ce.Svc, Now: ce.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	var eps []Endpoint
	for _, p := range Paths() {
		e := Endpoint{Path: p, User: user, Password: pass}
		for _, d := range disabled {
			if d == p {
				e = Endpoint{}
			}
		}
		eps = append(eps, e)
	}
	cfg := Config{Endpoints: eps, MaxBodyBytes: 4 << 20, AuthFailures: 5, AuthWindow: 10 * time.Minute, Now: ce.Clock.Now,
		Audit: ce.DB}
	if change != nil {
		change(&cfg)
	}
	h := New(svc, svc, slog.New(slog.DiscardHandler), cfg)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{Env: ce, srv: srv}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) code() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(r.body, &e)
	return e.Error.Code
}

func (e *env) do(t *testing.T, path, ctype string, body []byte, auth bool, hdr map[string]string) resp {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	if auth {
		req.SetBasicAuth(user, pass)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	observed.add(path, res.StatusCode)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func (e *env) json(t *testing.T, path string, v any, hdr map[string]string) resp {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return e.do(t, path, "application/json", b, true, hdr)
}

func uploadBody(customerRef, title string, expires time.Time, pdfs ...[]byte) map[string]any {
	var docs []map[string]string
	for i, p := range pdfs {
		docs = append(docs, map[string]string{"name": "doc" + string(rune('a'+i)) + ".pdf", "content_base64": base64.StdEncoding.EncodeToString(p)})
	}
	return map[string]any{"customer_ref": customerRef, "title": title, "expires_at": expires, "documents": docs}
}

// TestEndpointAccess: per endpoint, disabled → 404, no or wrong credentials
// → 401, right credentials reach the endpoint (an empty object is invalid).
func TestEndpointAccess(t *testing.T) {
	for _, p := range Paths() {
		t.Run(strings.TrimPrefix(p, "/"), func(t *testing.T) {
			e := newEnv(t, "sqlite", p)
			if r := e.do(t, p, "application/json", []byte(`{}`), true, nil); r.status != http.StatusNotFound {
				t.Fatalf("disabled: %d %s", r.status, r.body)
			}
			on := newEnv(t, "sqlite")
			tests := []struct {
				name   string
				auth   func(r *http.Request)
				status int
			}{
				{"missing", func(r *http.Request) {}, http.StatusUnauthorized},
				{"wrong_password", func(r *http.Request) { r.SetBasicAuth(user, pass+"x") }, http.StatusUnauthorized},
				{"wrong_user", func(r *http.Request) { r.SetBasicAuth("other", pass) }, http.StatusUnauthorized},
				{"right", func(r *http.Request) { r.SetBasicAuth(user, pass) }, http.StatusBadRequest},
			}
			for _, tt := range tests {
				req, _ := http.NewRequest(http.MethodPost, on.srv.URL+p, strings.NewReader(`{}`))
				req.Header.Set("Content-Type", "application/json")
				tt.auth(req)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				observed.add(p, res.StatusCode)
				if res.StatusCode != tt.status {
					t.Errorf("%s: status %d, want %d", tt.name, res.StatusCode, tt.status)
				}
				if tt.status == http.StatusUnauthorized && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic") {
					t.Errorf("%s: no Basic challenge", tt.name)
				}
			}
			// GET is not an operation of the API.
			res, err := http.Get(on.srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusMethodNotAllowed && res.StatusCode != http.StatusNotFound {
				t.Fatalf("GET: %d", res.StatusCode)
			}
		})
	}
}

// TestAuthFailuresRateLimited: after the allowed failures the address gets
// 429, even with the right credentials, until the window slides.
func TestAuthFailuresRateLimited(t *testing.T) {
	e := newEnv(t, "sqlite")
	for i := range 5 {
		if r := e.do(t, "/customer/approve", "application/json", []byte(`{}`), false, nil); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, r.status)
		}
	}
	r := e.do(t, "/customer/approve", "application/json", []byte(`{}`), true, nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("after 5 failures: %d %v", r.status, r.header)
	}
	e.Clock.Advance(11 * time.Minute)
	if r := e.do(t, "/customer/approve", "application/json", []byte(`{}`), true, nil); r.status != http.StatusBadRequest {
		t.Fatalf("after the window: %d %s", r.status, r.body)
	}
	// The failures and the lockout are security events in the audit log.
	for action, want := range map[string]int{"api.auth_failed": 5, "api.auth_locked": 1} {
		logs, err := e.DB.ListAuditLogs(t.Context(), esign.AuditLogFilter{Action: action})
		if err != nil || len(logs) != want || logs[0].IP == "" || logs[0].ObjectID != "/customer/approve" {
			t.Errorf("%s: %d entries (%+v), want %d; %v", action, len(logs), logs, want, err)
		}
	}
}

// TestHappyPath drives onboarding and an upload through the API and finds
// the offer where the customer's app lists offers (customers.Service's
// ListOffers, behind GET /api/offers).
func TestHappyPath(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver)
		ctx := t.Context()
		r := e.json(t, "/customer/bootstrap", map[string]string{"customer_ref": "C-1", "name": "Kiss Anna", "phone": "+36301234567",
			"email": "anna@example.com"}, nil)
		if r.status != http.StatusCreated {
			t.Fatalf("bootstrap: %d %s", r.status, r.body)
		}
		if r := e.json(t, "/customer/bootstrap", map[string]string{"customer_ref": "C-1", "name": "Kiss Anna", "phone": "+36301234567"}, nil); r.status != http.StatusConflict {
			t.Fatalf("bootstrap twice: %d %s", r.status, r.body)
		}
		if r := e.json(t, "/customer/send-association-token", map[string]string{"customer_ref": "C-1"}, nil); r.status != http.StatusAccepted {
			t.Fatalf("association: %d %s", r.status, r.body)
		}
		if e.Queue.Count(notify.DeviceAssociationCode) != 1 {
			t.Fatal("no association code enqueued")
		}
		if r := e.json(t, "/customer/approve", map[string]string{"customer_ref": "C-1"}, nil); r.status != http.StatusOK {
			t.Fatalf("approve: %d %s", r.status, r.body)
		}
		if r := e.json(t, "/customer/approve", map[string]string{"customer_ref": "nobody"}, nil); r.status != http.StatusNotFound {
			t.Fatalf("approve unknown: %d %s", r.status, r.body)
		}
		exp := e.Clock.Now().Add(72 * time.Hour)
		r = e.json(t, "/offer/upload", uploadBody("C-1", "Hitelszerződés", exp, pdftest.Minimal(1), pdftest.Minimal(2)), nil)
		if r.status != http.StatusCreated {
			t.Fatalf("upload: %d %s", r.status, r.body)
		}
		var o OfferJSON
		if err := json.Unmarshal(r.body, &o); err != nil {
			t.Fatal(err)
		}
		if o.State != string(esign.OfferNotified) || len(o.Documents) != 2 {
			t.Fatalf("uploaded offer %+v", o)
		}
		if n := e.Queue.Count(notify.OfferAvailable); n != 2 { // SMS and e-mail
			t.Fatalf("%d offer notifications, want 2", n)
		}
		// Multipart works the same.
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		for k, v := range map[string]string{"customer_ref": "C-1", "title": "Számlanyitás", "expires_at": exp.Format(time.RFC3339), "channel": "sms"} {
			mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("document", "szamla.pdf")
		fw.Write(pdftest.Minimal(1))
		mw.Close()
		r = e.do(t, "/offer/upload", mw.FormDataContentType(), mp.Bytes(), true, nil)
		if r.status != http.StatusCreated {
			t.Fatalf("multipart upload: %d %s", r.status, r.body)
		}
		var o2 OfferJSON
		json.Unmarshal(r.body, &o2)

		cs, err := e.DB.ListCustomers(ctx, esign.CustomerFilter{ExternalRef: "C-1"})
		if err != nil || len(cs) != 1 {
			t.Fatal(cs, err)
		}
		list, err := e.Svc.ListOffers(ctx, &customers.Principal{Customer: cs[0]}, esign.Page{})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, x := range list {
			ids[x.ID] = true
		}
		if len(list) != 2 || !ids[o.ID] || !ids[o2.ID] {
			t.Fatalf("customer sees %d offers, want %s and %s", len(list), o.ID, o2.ID)
		}
		view, err := e.Svc.GetOffer(ctx, &customers.Principal{Customer: cs[0]}, o.ID, customers.Meta{})
		if err != nil || len(view.Documents) != 2 {
			t.Fatalf("offer view: %v %v", view, err)
		}

		// Revoke it; revoking again is refused.
		if r := e.json(t, "/offer/revoke", map[string]string{"customer_ref": "C-1", "offer_id": o.ID, "reason": "superseded"}, nil); r.status != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		if r := e.json(t, "/offer/revoke", map[string]string{"customer_ref": "C-1", "offer_id": o.ID}, nil); r.status != http.StatusBadRequest || r.code() != "offer_state" {
			t.Fatalf("revoke twice: %d %s", r.status, r.body)
		}
		if r := e.json(t, "/offer/revoke", map[string]string{"customer_ref": "C-1", "offer_id": esign.NewID()}, nil); r.status != http.StatusNotFound {
			t.Fatalf("revoke unknown: %d %s", r.status, r.body)
		}
		got, _ := e.DB.GetOffer(ctx, o.ID)
		if got.State != esign.OfferRevoked || got.StateReason != "superseded" {
			t.Fatalf("revoked offer %+v", got)
		}

		// Verify: an unsigned PDF gives a report saying so.
		r = e.do(t, "/signature/verify", "application/pdf", pdftest.Minimal(1), true, nil)
		var rep struct{ Signed bool }
		if r.status != http.StatusOK || json.Unmarshal(r.body, &rep) != nil || rep.Signed {
			t.Fatalf("verify: %d %s", r.status, r.body)
		}
	})
}

// encryptedPDF reads a PDF encrypted by qpdf (internal/pdf/testdata/encrypted).
func encryptedPDF(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "pdf", "testdata", "encrypted", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestUploadValidation: refused uploads store nothing.
func TestUploadValidation(t *testing.T) {
	e := newEnv(t, "sqlite")
	ctx := t.Context()
	c := e.Customer(t, "Nagy Béla")
	exp := e.Clock.Now().Add(time.Hour)
	good := pdftest.Minimal(1)
	broken := append([]byte(nil), good[:len(good)/2]...)
	tests := []struct {
		name   string
		ctype  string
		body   any
		status int
		code   string
	}{
		{"not_pdf", "", uploadBody(c.ExternalRef, "t", exp, good, []byte("hello, this is not a PDF at all")), 400, "invalid_pdf"},
		{"broken_pdf", "", uploadBody(c.ExternalRef, "t", exp, broken), 400, "invalid_pdf"},
		{"polyglot_pdf", "", uploadBody(c.ExternalRef, "t", exp, append(append([]byte(nil), good...), "<html><script>alert(1)</script></html>"...)), 400, "pdf_polyglot"},
		{"no_files", "", uploadBody(c.ExternalRef, "t", exp), 400, "no_files"},
		{"past_expiry", "", uploadBody(c.ExternalRef, "t", exp.Add(-2*time.Hour), good), 400, "expires_at"},
		{"no_title", "", uploadBody(c.ExternalRef, "", exp, good), 400, "title"},
		{"unknown_customer", "", uploadBody("nobody", "t", exp, good), 404, "customer_not_found"},
		{"bad_base64", "", map[string]any{"customer_ref": c.ExternalRef, "title": "t", "expires_at": exp,
			"documents": []map[string]string{{"name": "a.pdf", "content_base64": "!!!"}}}, 400, "invalid_base64"},
		{"unknown_field", "", map[string]any{"customer_ref": c.ExternalRef, "bogus": 1}, 400, "invalid_json"},
		{"bad_channel", "", func() any { b := uploadBody(c.ExternalRef, "t", exp, good); b["channel"] = "pigeon"; return b }(), 400, "channel"},
		{"wrong_content_type", "text/plain", "x", 400, "content_type"},
		{"xml_content_type", "text/xml", "<offer/>", 400, "content_type"},
		{"encrypted_with_password", "", uploadBody(c.ExternalRef, "t", exp, encryptedPDF(t, "aes256-user-password.pdf")), 400, "encrypted_pdf"},
		{"encrypted_no_changes_allowed", "", uploadBody(c.ExternalRef, "t", exp, encryptedPDF(t, "aes256-modify-none.pdf")), 400, "pdf_permissions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := json.Marshal(tt.body)
			ct := tt.ctype
			if ct == "" {
				ct = "application/json"
			}
			r := e.do(t, "/offer/upload", ct, b, true, nil)
			if r.status != tt.status || r.code() != tt.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
		})
	}
	// Too large a body.
	big := bytes.Repeat([]byte("a"), 5<<20)
	if r := e.do(t, "/offer/upload", "application/json", big, true, nil); r.status != http.StatusBadRequest || r.code() != "body_too_large" {
		t.Fatalf("big body: %d %s", r.status, r.body)
	}
	docs, err := e.DB.ListDocuments(ctx, esign.DocumentFilter{CustomerID: c.ID})
	if err != nil || len(docs) != 0 {
		t.Fatalf("%d documents stored after refused uploads (%v)", len(docs), err)
	}
	offs, _ := e.DB.ListOffers(ctx, esign.OfferFilter{CustomerID: c.ID})
	if len(offs) != 0 {
		t.Fatalf("%d offers stored after refused uploads", len(offs))
	}
}

// TestIdempotentRetry: a retried upload returns the first result and
// creates no second offer; the key reused for another body is refused.
func TestIdempotentRetry(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver)
		c := e.Customer(t, "Tóth Éva")
		body := uploadBody(c.ExternalRef, "Lízing", e.Clock.Now().Add(time.Hour), pdftest.Minimal(1))
		key := map[string]string{"Idempotency-Key": "req-42"}
		first := e.json(t, "/offer/upload", body, key)
		if first.status != http.StatusCreated {
			t.Fatalf("first: %d %s", first.status, first.body)
		}
		again := e.json(t, "/offer/upload", body, key)
		if again.status != http.StatusCreated || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry: %d %s", again.status, again.body)
		}
		body["title"] = "Más"
		if r := e.json(t, "/offer/upload", body, key); r.status != http.StatusConflict || r.code() != "idempotency_key_reused" {
			t.Fatalf("reused key: %d %s", r.status, r.body)
		}
		// Refusals are answers too: replayed, not re-run.
		bad := uploadBody("nobody", "x", e.Clock.Now().Add(time.Hour), pdftest.Minimal(1))
		k2 := map[string]string{"Idempotency-Key": "req-43"}
		r1, r2 := e.json(t, "/offer/upload", bad, k2), e.json(t, "/offer/upload", bad, k2)
		if r1.status != 404 || r2.status != 404 || r2.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("refusal replay: %d %d", r1.status, r2.status)
		}
		// Without a key a second request is a second offer.
		if r := e.json(t, "/offer/upload", uploadBody(c.ExternalRef, "Lízing", e.Clock.Now().Add(time.Hour), pdftest.Minimal(1)), nil); r.status != http.StatusCreated {
			t.Fatalf("no key: %d", r.status)
		}
		offs, _ := e.DB.ListOffers(t.Context(), esign.OfferFilter{CustomerID: c.ID})
		if len(offs) != 2 {
			t.Fatalf("%d offers, want 2", len(offs))
		}
	})
}

// TestAppNotification: a push to the customer's apps goes through the job
// queue; a customer without a reachable app and bad input are refused.
func TestAppNotification(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver)
		ctx := t.Context()
		if r := e.json(t, "/customer/bootstrap", map[string]string{"customer_ref": "C-7", "name": "Nagy Béla", "phone": "+36301112233"}, nil); r.status != http.StatusCreated {
			t.Fatalf("bootstrap: %d %s", r.status, r.body)
		}
		msg := map[string]any{"customer_ref": "C-7", "title": "Karbantartás", "message": "Ma 22 órától szünetel a szolgáltatás.", "data": map[string]string{"screen": "news"}}
		if r := e.json(t, "/app/notification", msg, nil); r.status != http.StatusBadRequest || r.code() != "no_recipient" {
			t.Fatalf("no app yet: %d %s", r.status, r.body)
		}
		cs, err := e.DB.ListCustomers(ctx, esign.CustomerFilter{ExternalRef: "C-7"})
		if err != nil || len(cs) != 1 {
			t.Fatal(cs, err)
		}
		app := &esign.App{SessionTokenHash: strings.Repeat("ab", 32)}
		if err := e.DB.CreateApp(ctx, app); err != nil {
			t.Fatal(err)
		}
		st := esign.AppAssociated
		if _, err := e.DB.UpdateApp(ctx, app.ID, esign.AppUpdate{CustomerID: &cs[0].ID, Status: &st}); err != nil {
			t.Fatal(err)
		}
		if err := e.DB.CreateFcmInfo(ctx, &esign.FcmInfo{AppID: app.ID, Token: "fcm-token-c7"}); err != nil {
			t.Fatal(err)
		}
		r := e.json(t, "/app/notification", msg, nil)
		if r.status != http.StatusAccepted || !strings.Contains(string(r.body), `"devices":1`) {
			t.Fatalf("notification: %d %s", r.status, r.body)
		}
		if n := e.Queue.Count(notify.BankMessage); n != 1 {
			t.Fatalf("%d bank messages enqueued, want 1", n)
		}
		for _, bad := range []struct {
			body map[string]any
			code string
		}{
			{map[string]any{"customer_ref": "C-7", "message": "x"}, "title"},
			{map[string]any{"customer_ref": "C-7", "title": "x", "message": strings.Repeat("é", 1001)}, "message"},
			{map[string]any{"customer_ref": "C-7", "title": "x", "message": "y", "extra": 1}, "invalid_json"},
		} {
			if r := e.json(t, "/app/notification", bad.body, nil); r.status != http.StatusBadRequest || r.code() != bad.code {
				t.Errorf("%v: %d %s", bad.body, r.status, r.body)
			}
		}
		if r := e.json(t, "/app/notification", map[string]any{"customer_ref": "nobody", "title": "x", "message": "y"}, nil); r.status != http.StatusNotFound {
			t.Errorf("unknown customer: %d %s", r.status, r.body)
		}
		if n := e.Queue.Count(notify.BankMessage); n != 1 {
			t.Errorf("refused requests enqueued messages: %d", n)
		}
	})
}

// TestAuthFailuresShared: two replicas sharing one failure counter (Redis
// in production, see cli) enforce one limit: failures spread over both
// block the address on both.
func TestAuthFailuresShared(t *testing.T) {
	counters := map[string]func(t *testing.T, now func() time.Time) FailureCounter{
		"memory": func(t *testing.T, now func() time.Time) FailureCounter { return notify.NewMemoryLimiter(now) },
		"redis": func(t *testing.T, now func() time.Time) FailureCounter {
			opt, err := redis.ParseURL(esigntest.ServerURL(t, esigntest.RedisURLEnv))
			if err != nil {
				t.Fatal(err)
			}
			rdb := redis.NewClient(opt)
			t.Cleanup(func() { rdb.Close() })
			return notify.NewRedisLimiter(rdb, "esign:test:"+rand.Text()+":", now)
		},
	}
	for name, mk := range counters {
		t.Run(name, func(t *testing.T) {
			ce := customerstest.New(t, customerstest.OpenDB(t, "sqlite"), nil, customers.Config{}, nil)
			svc, err := offers.New(offers.Deps{DB: ce.DB, Docs: ce.Docs, Queue: ce.Queue, Customers: ce.Svc, Now: ce.Clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			shared := mk(t, ce.Clock.Now)
			var replicas []*env
			for range 2 {
				h := New(svc, svc, slog.New(slog.DiscardHandler), Config{Endpoints: []Endpoint{{Path: "/customer/approve", User: user, Password: pass}},
					MaxBodyBytes: 1 << 20, AuthFailures: 4, AuthWindow: 10 * time.Minute, Failures: shared, Now: ce.Clock.Now})
				srv := httptest.NewServer(h)
				t.Cleanup(srv.Close)
				replicas = append(replicas, &env{Env: ce, srv: srv})
			}
			for i := range 4 {
				if r := replicas[i%2].do(t, "/customer/approve", "application/json", []byte(`{}`), false, nil); r.status != http.StatusUnauthorized {
					t.Fatalf("failure %d: %d", i, r.status)
				}
			}
			for i, e := range replicas {
				if r := e.do(t, "/customer/approve", "application/json", []byte(`{}`), true, nil); r.status != http.StatusTooManyRequests {
					t.Fatalf("replica %d after 4 failures spread over both: %d", i, r.status)
				}
			}
		})
	}
}
