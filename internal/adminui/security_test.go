package adminui_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"esign/internal/adminui"
	"esign/internal/esign"
	"esign/internal/operators/operatorstest"
)

func TestSessionCookie(t *testing.T) {
	e := newEnv(t)
	_, pw := e.User(t, "cookie", esign.RoleOperator)
	c := e.client(t)
	resp, _ := c.do("POST", "/signin", url.Values{"username": {"cookie"}, "password": {pw}})
	pending := resp.Cookies()
	if len(pending) != 1 || pending[0].Name != "esign_admin_2fa" || !pending[0].HttpOnly || pending[0].SameSite != http.SameSiteLaxMode || pending[0].MaxAge <= 0 {
		t.Fatalf("second-factor cookie %+v", pending)
	}
	resp, body := c.do("GET", "/signin/second-factor", nil)
	m := secretRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal(body)
	}
	resp, _ = c.do("POST", "/signin/enrol", url.Values{"code": {operatorstest.Code(t, decodeSecret(t, m[1]), e.Clock.Now())}})
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "esign_admin" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure || session.Path != "/" || session.MaxAge != 0 {
		t.Fatalf("session cookie %+v", session)
	}
	if !strings.HasPrefix(session.Value, "eso_") || strings.Contains(body, session.Value) {
		t.Errorf("session token %q", session.Value)
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe") || !strings.Contains(csp, "'nonce-") {
		t.Errorf("CSP %q", csp)
	}
}

// TestSecureCookie: behind HTTPS the session cookie is Secure with the
// __Host- prefix and pages send HSTS.
func TestSecureCookie(t *testing.T) {
	e := operatorstest.New(t, "sqlite", nil, newEnvConfig())
	ui, err := adminui.New(e.Ops, slog.New(slog.DiscardHandler), adminui.Config{Secure: true})
	if err != nil {
		t.Fatal(err)
	}
	_, pw := e.User(t, "sec", esign.RoleOperator)
	req := httptest.NewRequest("POST", "https://admin.bank.example/signin", strings.NewReader(url.Values{"username": {"sec"}, "password": {pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	ui.Handler().ServeHTTP(rec, req)
	cs := rec.Result().Cookies()
	if len(cs) != 1 || cs[0].Name != "__Host-esign_admin_2fa" || !cs[0].Secure || cs[0].Domain != "" || cs[0].Path != "/" {
		t.Fatalf("cookies %+v", cs)
	}
	if rec.Header().Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS")
	}
}

// TestCrossSiteApproveRefused: a form on another site cannot approve a
// customer with the operator's cookie.
func TestCrossSiteApproveRefused(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, "victim", esign.RoleOperator)
	cust := e.Customer(t, "Pending Customer")
	for name, h := range map[string][2]string{"fetch_metadata": {"Sec-Fetch-Site", "cross-site"}, "origin": {"Origin", "https://evil.example"}} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", c.base+"/customers/"+cust.ID+"/approve", strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set(h[0], h[1])
			resp, err := c.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("status %d", resp.StatusCode)
			}
		})
	}
	got, err := e.DB.GetCustomer(context.Background(), cust.ID)
	if err != nil || got.Status != esign.CustomerPending {
		t.Fatalf("customer %+v %v: approved by a cross-site request", got, err)
	}
	// The same request from the page itself works and is audited.
	resp, _ := c.do("POST", "/customers/"+cust.ID+"/approve", url.Values{"return": {"/customers?status=pending"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/customers?status=pending" {
		t.Fatalf("approve: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	got, _ = e.DB.GetCustomer(context.Background(), cust.ID)
	if got.Status != esign.CustomerActive {
		t.Errorf("status %s after approve", got.Status)
	}
	logs, err := e.Ops.ListAudit(context.Background(), esign.AuditLogFilter{Action: "customer.approve", ObjectID: cust.ID})
	if err != nil || len(logs) != 1 || !strings.Contains(logs[0].Detail, `"ok"`) {
		t.Errorf("audit %+v %v", logs, err)
	}
}

// TestCodeReplayThroughPages: the code that finished one sign-in does not
// finish the next.
func TestCodeReplayThroughPages(t *testing.T) {
	e := newEnv(t)
	_, pw := e.User(t, "replay", esign.RoleOperator)
	c := e.client(t)
	c.do("POST", "/signin", url.Values{"username": {"replay"}, "password": {pw}})
	_, body := c.do("GET", "/signin/second-factor", nil)
	secret := decodeSecret(t, secretRE.FindStringSubmatch(body)[1])
	code := operatorstest.Code(t, secret, e.Clock.Now())
	c.do("POST", "/signin/enrol", url.Values{"code": {code}})
	c.do("POST", "/signout", url.Values{})

	c.do("POST", "/signin", url.Values{"username": {"replay"}, "password": {pw}})
	resp, body := c.do("POST", "/signin/second-factor", url.Values{"code": {code}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, "A kód hibás") {
		t.Fatalf("replayed code: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = c.do("GET", "/", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("signed in with a replayed code: %d", resp.StatusCode)
	}
}

// TestNextAfterSignIn: a page asked for while signed out is shown after
// the sign-in; an outside "next" is ignored.
func TestNextAfterSignIn(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	resp, _ := c.do("GET", "/customers?status=pending", nil)
	loc := resp.Header.Get("Location")
	if loc != "/signin?next=%2Fcustomers%3Fstatus%3Dpending" {
		t.Fatalf("redirect to %q", loc)
	}
	_, pw := e.User(t, "nexter", esign.RoleOperator)
	resp, _ = c.do("POST", "/signin", url.Values{"username": {"nexter"}, "password": {pw}, "next": {"/customers?status=pending"}})
	_, body := c.do("GET", resp.Header.Get("Location"), nil)
	secret := decodeSecret(t, secretRE.FindStringSubmatch(body)[1])
	resp, body = c.do("POST", "/signin/enrol", url.Values{"code": {operatorstest.Code(t, secret, e.Clock.Now())}, "next": {"/customers?status=pending"}})
	if !strings.Contains(body, `href="/customers?status=pending"`) {
		t.Errorf("recovery page does not lead back:\n%s", body)
	}
	for _, bad := range []string{"//evil.example/", "https://evil.example/"} {
		resp, _ = c.do("GET", "/signin?next="+url.QueryEscape(bad), nil)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/" {
			t.Errorf("next=%s: %d %q", bad, resp.StatusCode, loc)
		}
	}
}
