package customerui

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"esign/internal/esign"
	"esign/internal/rpc"
	"esign/internal/signing"
)

// fakeAPI answers like oss for one customer with one offer; every other
// method is unused by these tests.
type fakeAPI struct {
	API
	refused      string
	clientErrors []string
	readToEnd    bool // the offer's document was read to the end
	others       []rpc.WebSession
	renewed      []string
	codesSent    int // account.send-code calls
	creates      int // account.create calls
}

func (f *fakeAPI) RenewLink(ctx context.Context, c rpc.Caller, code string) error {
	if code != "old" {
		return esign.E("fake", esign.NotFound, "link not found")
	}
	if len(f.renewed) == 2 {
		return esign.WithCode("fake", esign.TooMany, "rate_limited", "too many")
	}
	f.renewed = append(f.renewed, code)
	return nil
}

func (f *fakeAPI) ReportClientError(ctx context.Context, c rpc.Caller, message, stack, url string) error {
	if err := f.auth(c); err != nil {
		return err
	}
	f.clientErrors = append(f.clientErrors, message+"|"+url)
	return nil
}

const goodToken = "ses_the-session-token-of-the-test"

func (f *fakeAPI) auth(c rpc.Caller) error {
	if c.Token != goodToken {
		return esign.WithCode("fake", esign.Unauthorized, "invalid_token", "bad token")
	}
	return nil
}

func (f *fakeAPI) WebLogin(ctx context.Context, c rpc.Caller, username, password string) (*rpc.LoggedIn, error) {
	if username != "kovacs.anna" || password != "Correct-horse-1" {
		return nil, esign.WithCode("fake", esign.Unauthorized, "invalid_credentials", "wrong")
	}
	return &rpc.LoggedIn{SessionToken: goodToken, ExpiresAt: time.Now().Add(12 * time.Hour)}, nil
}

func (f *fakeAPI) WebSessions(ctx context.Context, c rpc.Caller) ([]rpc.WebSession, error) {
	if err := f.auth(c); err != nil {
		return nil, err
	}
	return append([]rpc.WebSession{{ID: "w0", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0", Current: true}}, f.others...), nil
}

func (f *fakeAPI) EndWebSession(ctx context.Context, c rpc.Caller, id string) error {
	if err := f.auth(c); err != nil {
		return err
	}
	for i, w := range f.others {
		if w.ID == id {
			f.others = append(f.others[:i], f.others[i+1:]...)
			return nil
		}
	}
	return esign.E("fake", esign.NotFound, "session not found")
}

func (f *fakeAPI) Me(ctx context.Context, c rpc.Caller) (*rpc.Me, error) {
	if c.Token == pendingToken {
		return &rpc.Me{Customer: rpc.Customer{ID: "c2", Name: "Új Ügyfél", Status: "pending"}, Username: "new.user"}, nil
	}
	if err := f.auth(c); err != nil {
		return nil, err
	}
	return &rpc.Me{Customer: rpc.Customer{ID: "c1", Name: "Kovács Anna", Approved: true}, Username: "kovacs.anna",
		KeyAlgorithm: "rsa-pss-sha256"}, nil
}

func (f *fakeAPI) ResolveLink(ctx context.Context, c rpc.Caller, code string) (*rpc.Link, error) {
	if code == "good" {
		return &rpc.Link{Target: "/o/o1"}, nil
	}
	if code == "old" {
		return nil, esign.WithCode("fake", esign.NotFound, "link_expired", "expired")
	}
	return nil, esign.E("fake", esign.NotFound, "link not found")
}

func (f *fakeAPI) GetOffer(ctx context.Context, c rpc.Caller, id string) (*rpc.Offer, error) {
	if err := f.auth(c); err != nil {
		return nil, err
	}
	if id != "o1" {
		return nil, esign.E("fake", esign.NotFound, "offer not found")
	}
	d := rpc.Document{ID: "d1", Name: "loan.pdf", Size: 2000, ReadAt: time.Now()}
	if f.readToEnd {
		d.ReadToEndAt = d.ReadAt
	}
	return &rpc.Offer{ID: "o1", Title: "Loan", State: "opened", ExpiresAt: time.Now().Add(time.Hour),
		Documents: []rpc.Document{d}}, nil
}

func (f *fakeAPI) RefuseOffer(ctx context.Context, c rpc.Caller, id, reason string) (*rpc.Offer, error) {
	if err := f.auth(c); err != nil {
		return nil, err
	}
	f.refused = reason
	return &rpc.Offer{ID: id, State: "refused"}, nil
}

func (f *fakeAPI) SignatureM1(ctx context.Context, c rpc.Caller, m signing.M1) (*signing.M1Result, error) {
	if !f.readToEnd { // as oss answers (signing.Service.M1)
		return nil, esign.WithCode("fake", esign.Invalid, "not_read", "every document must be read to the end")
	}
	return &signing.M1Result{SignatureID: "s1"}, nil
}

func newTestUI(t *testing.T, secure bool) (*fakeAPI, http.Handler) {
	t.Helper()
	f := &fakeAPI{}
	u, err := New(f, slog.New(slog.DiscardHandler), Config{Secure: secure})
	if err != nil {
		t.Fatal(err)
	}
	return f, u.Handler()
}

func do(h http.Handler, method, target string, body io.Reader, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, body)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func form(v url.Values) (io.Reader, map[string]string) {
	return strings.NewReader(v.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded",
		"Sec-Fetch-Site": "same-origin"}
}

// TestSecurityHeaders: every page, the error pages included, carries the
// strict CSP and the other security headers; HSTS only when secure.
func TestSecurityHeaders(t *testing.T) {
	for _, secure := range []bool{false, true} {
		_, h := newTestUI(t, secure)
		for _, path := range []string{"/signin", "/s/unknown", "/no/such/page", "/unsupported", "/verify"} {
			w := do(h, "GET", path, nil, nil)
			hd := w.Header()
			csp := hd.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self' 'nonce-") || strings.Contains(csp, "unsafe") ||
				!strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("%s: CSP %q", path, csp)
			}
			for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"} {
				if hd.Get(k) != v {
					t.Errorf("%s: %s = %q", path, k, hd.Get(k))
				}
			}
			if got := hd.Get("Strict-Transport-Security") != ""; got != secure {
				t.Errorf("%s secure=%v: HSTS %v", path, secure, got)
			}
		}
	}
}

// TestUnknownLink: an unknown or expired short link gets its own page
// (404), never an error trace or a 500; a good one leads to the sign-in
// and back to the offer.
func TestUnknownLink(t *testing.T) {
	_, h := newTestUI(t, false)
	w := do(h, "GET", "/s/nosuchcode", nil, map[string]string{"Accept-Language": "hu"})
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "Ez a link már nem működik") {
		t.Errorf("unknown link: %d %s", w.Code, w.Body.String())
	}
	w = do(h, "GET", "/s/good", nil, nil)
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || loc != "/signin?next=%2Fo%2Fo1&link=good" {
		t.Errorf("good link: %d %q", w.Code, loc)
	}
}

// TestSessionCookie: the sign-in sets the session cookie HttpOnly,
// SameSite=Lax, Path=/, with a lifetime, and Secure with the __Host-
// prefix when the UI is served over HTTPS; a wrong password sets none.
func TestSessionCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		_, h := newTestUI(t, secure)
		body, hdr := form(url.Values{"username": {"kovacs.anna"}, "password": {"wrong"}})
		if w := do(h, "POST", "/signin", body, hdr); w.Code != http.StatusUnauthorized || len(w.Result().Cookies()) != 0 {
			t.Errorf("wrong password: %d, cookies %v", w.Code, w.Result().Cookies())
		}
		body, hdr = form(url.Values{"username": {"kovacs.anna"}, "password": {"Correct-horse-1"}, "next": {"/o/o1"}})
		w := do(h, "POST", "/signin", body, hdr)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/o/o1" {
			t.Fatalf("sign-in: %d %q", w.Code, w.Header().Get("Location"))
		}
		cs := w.Result().Cookies()
		if len(cs) != 1 {
			t.Fatalf("cookies %v", cs)
		}
		c := cs[0]
		wantName := sessionCookie
		if secure {
			wantName = "__Host-" + sessionCookie
		}
		if c.Name != wantName || c.Value != goodToken || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" ||
			c.Secure != secure || c.MaxAge <= 0 || c.MaxAge > 12*3600 {
			t.Errorf("secure=%v: cookie %+v", secure, c)
		}
	}
}

// TestCrossOriginRefused: a state-changing request from another site is
// refused (403) and reaches no handler, for forms and JSON calls alike.
func TestCrossOriginRefused(t *testing.T) {
	f, h := newTestUI(t, false)
	cookie := map[string]string{"Cookie": sessionCookie + "=" + goodToken, "Content-Type": "application/x-www-form-urlencoded",
		"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
	for _, path := range []string{"/o/o1/refuse", "/o/o1/m1", "/signin", "/signout"} {
		w := do(h, "POST", path, strings.NewReader("reason=csrf"), cookie)
		if w.Code != http.StatusForbidden {
			t.Errorf("%s from another site: %d", path, w.Code)
		}
	}
	if f.refused != "" {
		t.Error("a cross-site refusal reached oss")
	}
	cookie["Sec-Fetch-Site"] = "same-origin"
	delete(cookie, "Origin")
	if w := do(h, "POST", "/o/o1/refuse", strings.NewReader("reason=too+expensive"), cookie); w.Code != http.StatusSeeOther || f.refused != "too expensive" {
		t.Errorf("same-origin refusal: %d, reason %q", w.Code, f.refused)
	}
}

// TestSessionRequired: without a session pages lead to the sign-in and
// JSON calls answer 401; an expired session clears the cookie.
func TestSessionRequired(t *testing.T) {
	_, h := newTestUI(t, false)
	if w := do(h, "GET", "/o/o1", nil, nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/signin?next=%2Fo%2Fo1" {
		t.Errorf("no session: %d %q", w.Code, w.Header().Get("Location"))
	}
	w := do(h, "POST", "/o/o1/m1", strings.NewReader("{}"), map[string]string{"Sec-Fetch-Site": "same-origin"})
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), `"kind":"unauthorized"`) {
		t.Errorf("JSON without session: %d %s", w.Code, w.Body.String())
	}
	w = do(h, "GET", "/o/o1", nil, map[string]string{"Cookie": sessionCookie + "=ses_expired-token-of-the-test"})
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/signin") {
		t.Errorf("expired session: %d %q", w.Code, w.Header().Get("Location"))
	}
	if cs := w.Result().Cookies(); len(cs) == 0 || cs[0].Name != sessionCookie || cs[0].MaxAge >= 0 {
		t.Errorf("expired session: cookie not cleared: %v", cs)
	}
}

// TestSignDisabledUntilRead: a document opened but not read to the end
// keeps "Start signing" disabled, with the reason next to it, and the M1
// oss refuses (not_read) is answered with a sentence in the customer's
// language; read to the end, the button is enabled.
func TestSignDisabledUntilRead(t *testing.T) {
	f, h := newTestUI(t, false)
	hdr := map[string]string{"Cookie": sessionCookie + "=" + goodToken, "Sec-Fetch-Site": "same-origin", "Accept-Language": "en"}
	page := do(h, "GET", "/o/o1", nil, hdr).Body.String()
	if !strings.Contains(page, `id="sign-start" disabled aria-describedby="read-first"`) ||
		!strings.Contains(page, "first read every document above to its last page") || !strings.Contains(page, `data-unread="d1"`) {
		t.Errorf("offer page before reading to the end:\n%s", page)
	}
	w := do(h, "POST", "/o/o1/m1", strings.NewReader(`{"algorithm":"ecdsa-p256-sha256"}`), hdr)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"code":"not_read"`) ||
		!strings.Contains(w.Body.String(), "Read every document to its last page before signing.") {
		t.Errorf("M1 before reading: %d %s", w.Code, w.Body.String())
	}
	f.readToEnd = true
	page = do(h, "GET", "/o/o1", nil, hdr).Body.String()
	if !strings.Contains(page, `<button type="button" id="sign-start">`) || strings.Contains(page, `data-unread=`) {
		t.Errorf("offer page after reading to the end:\n%s", page)
	}
}

// TestClientError: an uncaught error of the page reaches oss with the
// page's path only (no query), clipped; without a session or from another
// site it is dropped.
func TestClientError(t *testing.T) {
	f, h := newTestUI(t, false)
	hdr := map[string]string{"Cookie": sessionCookie + "=" + goodToken, "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"}
	long := strings.Repeat("é", 800)
	body := `{"message": "` + long + `", "stack": "at x", "url": "http://127.0.0.1:10183/o/o1?secret=1"}`
	if w := do(h, "POST", "/client-error", strings.NewReader(body), hdr); w.Code != http.StatusNoContent {
		t.Errorf("report: %d", w.Code)
	}
	if len(f.clientErrors) != 1 || f.clientErrors[0] != strings.Repeat("é", 500)+"|/o/o1" {
		t.Errorf("reported %q", f.clientErrors)
	}
	if w := do(h, "POST", "/client-error", strings.NewReader(body), map[string]string{"Sec-Fetch-Site": "same-origin"}); w.Code != http.StatusNoContent {
		t.Errorf("report without session: %d", w.Code)
	}
	hdr["Sec-Fetch-Site"] = "cross-site"
	if w := do(h, "POST", "/client-error", strings.NewReader(body), hdr); w.Code != http.StatusForbidden {
		t.Errorf("cross-site report: %d", w.Code)
	}
	if len(f.clientErrors) != 1 {
		t.Errorf("reports stored: %q", f.clientErrors)
	}
}

// TestSessionsAfterSignin: a sign-in that finds other web sessions of the
// customer (mobile.web_sessions=allow) shows them before going on; one is
// ended from the list, and then the sign-in leads straight on.
func TestSessionsAfterSignin(t *testing.T) {
	f, h := newTestUI(t, false)
	f.others = []rpc.WebSession{{ID: "w1", UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1",
		CreatedAt: time.Now().Add(-time.Hour), LastSeenAt: time.Now()}}
	body, hdr := form(url.Values{"username": {"kovacs.anna"}, "password": {"Correct-horse-1"}, "next": {"/o/o1"}})
	w := do(h, "POST", "/signin", body, hdr)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/sessions?next=%2Fo%2Fo1" {
		t.Fatalf("sign-in with another session: %d %q", w.Code, w.Header().Get("Location"))
	}
	hdr = map[string]string{"Cookie": sessionCookie + "=" + goodToken, "Sec-Fetch-Site": "same-origin", "Accept-Language": "en",
		"Content-Type": "application/x-www-form-urlencoded"}
	page := do(h, "GET", "/sessions?next=%2Fo%2Fo1", nil, hdr).Body.String()
	for _, want := range []string{"Safari · iOS", "Chrome · Linux", "this browser", `action="/sessions/w1/end"`, `href="/o/o1"`} {
		if !strings.Contains(page, want) {
			t.Errorf("sessions page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, `action="/sessions/w0/end"`) {
		t.Error("the current session can be ended from the list")
	}
	w = do(h, "POST", "/sessions/w1/end", strings.NewReader("next=%2Fo%2Fo1"), hdr)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/sessions?next=%2Fo%2Fo1" || len(f.others) != 0 {
		t.Errorf("ending a session: %d %q, left %v", w.Code, w.Header().Get("Location"), f.others)
	}
	body, hdr2 := form(url.Values{"username": {"kovacs.anna"}, "password": {"Correct-horse-1"}, "next": {"/o/o1"}})
	if w := do(h, "POST", "/signin", body, hdr2); w.Header().Get("Location") != "/o/o1" {
		t.Errorf("sign-in alone: %q", w.Header().Get("Location"))
	}
}

// TestExpiredLink: an expired link of an open offer offers a fresh one
// (404 page with the form); asking sends it (oss decides where: the
// registered phone), until the limit; a cross-site request is refused.
func TestExpiredLink(t *testing.T) {
	f, h := newTestUI(t, false)
	w := do(h, "GET", "/s/old", nil, map[string]string{"Accept-Language": "en"})
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), `action="/s/old/renew"`) ||
		!strings.Contains(w.Body.String(), "This link has expired") {
		t.Fatalf("expired link: %d %s", w.Code, w.Body.String())
	}
	hdr := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example", "Accept-Language": "en"}
	if w := do(h, "POST", "/s/old/renew", nil, hdr); w.Code != http.StatusForbidden || len(f.renewed) != 0 {
		t.Errorf("cross-site renewal: %d, %v", w.Code, f.renewed)
	}
	hdr = map[string]string{"Sec-Fetch-Site": "same-origin", "Accept-Language": "en"}
	for i := range 2 {
		if w := do(h, "POST", "/s/old/renew", nil, hdr); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "a new link is on its way") {
			t.Errorf("renewal %d: %d %s", i+1, w.Code, w.Body.String())
		}
	}
	if w := do(h, "POST", "/s/old/renew", nil, hdr); w.Code != http.StatusTooManyRequests {
		t.Errorf("renewal past the limit: %d", w.Code)
	}
	if w := do(h, "POST", "/s/nosuchcode/renew", nil, hdr); w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), `action="/s/`) {
		t.Errorf("renewing an unknown link: %d %s", w.Code, w.Body.String())
	}
}

// TestSettingsShown: the bank's notice (the setting customer.notice oss
// pushes) is shown at the top of every page as it is at the time of the
// request, escaped, and the support contacts on the sign-in page; unset
// settings show nothing.
func TestSettingsShown(t *testing.T) {
	var settings atomic.Value
	settings.Store(map[string]string{})
	u, err := New(&fakeAPI{}, slog.New(slog.DiscardHandler), Config{Setting: func(k string) string { return settings.Load().(map[string]string)[k] }})
	if err != nil {
		t.Fatal(err)
	}
	h := u.Handler()
	if w := do(h, "GET", "/signin", nil, nil); strings.Contains(w.Body.String(), "site-notice") || strings.Contains(w.Body.String(), `id="support"`) {
		t.Fatal("unset settings are shown")
	}
	settings.Store(map[string]string{"customer.notice": "Maintenance on Sunday <b>02:00</b>", "customer.support_email": "help@bank.example",
		"customer.support_phone": "+36 1 234 5678"})
	for _, path := range []string{"/signin", "/unsupported", "/no/such/page"} {
		w := do(h, "GET", path, nil, nil)
		if !strings.Contains(w.Body.String(), `<p class="site-notice" id="site-notice">Maintenance on Sunday &lt;b&gt;02:00&lt;/b&gt;</p>`) {
			t.Errorf("%s: no notice\n%s", path, w.Body.String())
		}
	}
	w := do(h, "GET", "/signin", nil, map[string]string{"Accept-Language": "en"})
	if body := w.Body.String(); !strings.Contains(body, `<a href="mailto:help@bank.example">help@bank.example</a>`) || !strings.Contains(body, "&#43;36 1 234 5678") {
		t.Errorf("no support contacts on the sign-in page\n%s", body)
	}
}
