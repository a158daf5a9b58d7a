package adminui_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"esign/internal/adminui"
	"esign/internal/esign"
	"esign/internal/notify"
	"esign/internal/operators"
	"esign/internal/operators/operatorstest"
)

type env struct {
	*operatorstest.Env
	ui  *adminui.UI
	srv *httptest.Server
}

func newEnv(t *testing.T) *env { return newEnvWith(t, adminui.Config{Version: "test"}) }

func newEnvWith(t *testing.T, cfg adminui.Config) *env {
	t.Helper()
	// One client address signs in many operators here: lift its limit.
	e := operatorstest.New(t, "sqlite", nil, newEnvConfig())
	ui, err := adminui.New(e.Ops, slog.New(slog.DiscardHandler), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ui.Handler())
	t.Cleanup(srv.Close)
	return &env{Env: e, ui: ui, srv: srv}
}

// client is a browser-like client: a cookie jar, no redirects followed,
// and same-origin Fetch metadata on its requests.
type client struct {
	t    *testing.T
	base string
	c    *http.Client
	lang string // Accept-Language; empty: none (Hungarian)
}

func (e *env) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: e.srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (c *client) do(method, path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return c.send(req)
}

// send makes a same-origin request in the client's language.
func (c *client) send(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var secretRE = regexp.MustCompile(`id="totp-secret"[^>]*>([A-Z2-7]+)<`)

// signIn signs a new operator of the role in through the pages,
// enrolling the second factor, and returns the client holding the session.
func (e *env) signIn(t *testing.T, username, role string) *client {
	t.Helper()
	_, pw := e.User(t, username, role)
	c := e.client(t)
	resp, _ := c.do("POST", "/signin", url.Values{"username": {username}, "password": {pw}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	resp, body := c.do("GET", resp.Header.Get("Location"), nil)
	m := secretRE.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("enrolment page: %d\n%s", resp.StatusCode, body)
	}
	secret := decodeSecret(t, m[1])
	resp, body = c.do("POST", "/signin/enrol", url.Values{"code": {operatorstest.Code(t, secret, e.Clock.Now())}, "next": {"/"}})
	if resp.StatusCode != 200 || !strings.Contains(body, `id="recovery-codes"`) {
		t.Fatalf("enrol: %d\n%s", resp.StatusCode, body)
	}
	return c
}

func TestPagesRender(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.signIn(t, "admin1", esign.RoleAdmin)
	cust := e.Customer(t, "Kovács Anna")
	doc := e.Document(t, cust.ID, "loan.pdf", []byte("%PDF-1.7 test"))
	o := e.Offer(t, cust.ID, "Personal loan", doc.ID)
	_ = ctx
	for _, path := range []string{"/", "/offers", "/offers?state=notified", "/offers/" + o.ID, "/customers", "/customers?status=pending", "/inbox"} {
		resp, body := c.do("GET", path, nil)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s = %d\n%s", path, resp.StatusCode, body)
		}
	}
	resp, body := c.do("GET", "/offers/"+o.ID+"/documents/"+doc.ID, nil)
	if resp.StatusCode != 200 || body != "%PDF-1.7 test" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("download: %d %q %v", resp.StatusCode, body, resp.Header)
	}
}

// newEnvConfig lifts the per-address sign-in limit: one client address
// signs in many operators in these tests.
func newEnvConfig() operators.Config {
	return operators.Config{SignInPerIP: notify.Limit{N: 10000, Per: time.Minute}}
}

// TestOfferPaging walks the offer list by its "next page" links: every
// offer once, newest first, the filter kept.
func TestOfferPaging(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, "pager", esign.RoleOperator)
	cust := e.Customer(t, "Sok Ajánlat")
	other := e.Customer(t, "Other")
	for range 30 {
		e.Offer(t, cust.ID, "Offer")
	}
	e.Offer(t, other.ID, "Not this one")
	next := regexp.MustCompile(`href="(/offers\?[^"]*after=[^"]*)" rel="next"`)
	row := regexp.MustCompile(`href="/offers/([0-9a-f-]{36})"`)
	path := "/offers?customer=" + url.QueryEscape(cust.ExternalRef)
	seen := map[string]bool{}
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		resp, body := c.do("GET", strings.ReplaceAll(path, "&amp;", "&"), nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		for _, m := range row.FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Errorf("offer %s on two pages", m[1])
			}
			seen[m[1]] = true
		}
		path = ""
		if m := next.FindStringSubmatch(body); m != nil {
			path = m[1]
			if !strings.Contains(path, "customer=") {
				t.Errorf("next page link %s lost the filter", path)
			}
		}
	}
	if len(seen) != 30 {
		t.Errorf("%d offers listed, want 30", len(seen))
	}
}
