package webui

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"esign/internal/esign"
)

func testFS() (fstest.MapFS, fstest.MapFS, fstest.MapFS) {
	tmpl := fstest.MapFS{
		"_nav.html": {Data: []byte(`{{define "nav"}}<nav>{{.T "t.nav"}}</nav>{{end}}`)},
		"home.html": {Data: []byte(`{{define "content"}}<h1>{{.T "t.hello" .Data}}</h1><script nonce="{{.Nonce}}" src="{{asset "app.js"}}"></script>{{end}}`)},
	}
	msgs := fstest.MapFS{
		"en.json": {Data: []byte(`{"t.nav":"Menu","t.hello":"Hello %s","t.title":"Home","t.done":"Saved"}`)},
		"hu.json": {Data: []byte(`{"t.nav":"Menü","t.hello":"Szia %s","t.title":"Kezdőlap","t.done":"Mentve"}`)},
	}
	static := fstest.MapFS{"app.js": {Data: []byte("console.log(1)")}}
	return tmpl, msgs, static
}

func newTest(t *testing.T, secure bool) (*Renderer, http.Handler) {
	t.Helper()
	tmpl, msgs, static := testFS()
	r, err := New(Options{Templates: tmpl, Messages: msgs, Static: static, Secure: secure, MaxBodyBytes: 64})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", r.Static())
	mux.Handle("POST /language", r.LanguageHandler())
	mux.Handle("GET /{$}", r.Handle(func(w http.ResponseWriter, req *http.Request) error {
		return r.Render(w, req, http.StatusOK, "home.html", Page{Title: "t.title", Data: "<b>x</b>"})
	}))
	mux.Handle("POST /save", r.Handle(func(w http.ResponseWriter, req *http.Request) error {
		if err := req.ParseForm(); err != nil {
			return err
		}
		r.Redirect(w, req, "/", &Flash{Kind: FlashSuccess, Key: "t.done"})
		return nil
	}))
	mux.Handle("GET /boom", r.Handle(func(w http.ResponseWriter, req *http.Request) error {
		return esign.E("test", errors.New("secret internal detail: password=hunter2"))
	}))
	return r, r.Protect(mux)
}

func TestPageHeaders(t *testing.T) {
	_, h := newTest(t, false)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	body := rec.Body.String()
	_, rest, _ := strings.Cut(csp, "'nonce-")
	nonce, _, _ := strings.Cut(rest, "'")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP lacks %q: %s", want, csp)
		}
	}
	if strings.Contains(csp, "unsafe-") || len(nonce) < 16 || !strings.Contains(body, `nonce="`+nonce+`"`) {
		t.Errorf("CSP %q, nonce %q not in the page", csp, nonce)
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
		"X-Frame-Options": "DENY", "Cache-Control": "no-store", "Strict-Transport-Security": ""} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(body, "Szia &lt;b&gt;x&lt;/b&gt;") || !strings.Contains(body, `<html lang="hu">`) {
		t.Errorf("default language or escaping wrong:\n%s", body)
	}
	// A second request gets another nonce.
	rec2 := httptest.NewRecorder()
	h.ServeHTTP(rec2, httptest.NewRequest("GET", "/", nil))
	if rec2.Header().Get("Content-Security-Policy") == csp {
		t.Error("nonce reused")
	}
}

func TestHSTSAndSecureCookies(t *testing.T) {
	r, h := newTest(t, true)
	req := httptest.NewRequest("POST", "/save", strings.NewReader("a=b"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status %d", rec.Code)
	}
	if rec.Header().Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS with Secure")
	}
	c := rec.Result().Cookies()
	if len(c) != 1 || !c[0].Secure || !c[0].HttpOnly || c[0].SameSite != http.SameSiteLaxMode {
		t.Errorf("flash cookie %+v", c)
	}
	rec = httptest.NewRecorder()
	r.SetSession(rec, httptest.NewRequest("GET", "/", nil), "sid", "tok", time.Hour)
	sc := rec.Result().Cookies()[0]
	if sc.Name != "__Host-sid" || !sc.Secure || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Domain != "" || sc.MaxAge != 3600 {
		t.Errorf("session cookie %+v", sc)
	}
}

func TestSessionCookieOverHTTP(t *testing.T) {
	r, _ := newTest(t, false)
	rec := httptest.NewRecorder()
	r.SetSession(rec, httptest.NewRequest("GET", "/", nil), "sid", "tok", 0)
	sc := rec.Result().Cookies()[0]
	if sc.Name != "sid" || sc.Secure || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie %+v", sc)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(sc)
	if got := r.Session(req, "sid"); got != "tok" {
		t.Errorf("Session = %q", got)
	}
	// Under TLS the cookie is Secure even without Options.Secure.
	tlsReq := httptest.NewRequest("GET", "https://x/", nil)
	rec = httptest.NewRecorder()
	r.SetSession(rec, tlsReq, "sid", "tok", 0)
	if !rec.Result().Cookies()[0].Secure {
		t.Error("cookie over TLS not Secure")
	}
}

func TestCrossOriginRefused(t *testing.T) {
	_, h := newTest(t, false)
	tests := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"cross_site", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"other_origin", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"same_origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
		{"no_browser_headers", nil, http.StatusSeeOther}, // not a browser: no ambient cookies to abuse
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/save", strings.NewReader("a=b"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d", rec.Code, tt.want)
			}
			if tt.want == http.StatusForbidden && !strings.Contains(rec.Body.String(), "Hibaazonosító") {
				t.Errorf("refusal is not the error page: %s", rec.Body)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	_, h := newTest(t, false)
	req := httptest.NewRequest("POST", "/save", strings.NewReader("a="+strings.Repeat("x", 100)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("status %d, want 400", rec.Code)
	}
}

// TestBodyLimitPerRequest: BodyLimit raises the cap for the requests it
// names (uploads) and leaves the others at MaxBodyBytes.
func TestBodyLimitPerRequest(t *testing.T) {
	tmpl, msgs, static := testFS()
	r, err := New(Options{Templates: tmpl, Messages: msgs, Static: static, MaxBodyBytes: 64,
		BodyLimit: func(req *http.Request) int64 {
			if req.URL.Path == "/upload" {
				return 1024
			}
			return 0
		}})
	if err != nil {
		t.Fatal(err)
	}
	h := r.Protect(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if _, err := io.ReadAll(req.Body); err != nil {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		}
	}))
	for _, tt := range []struct {
		path string
		size int
		want int
	}{{"/upload", 1000, 200}, {"/upload", 2000, 413}, {"/save", 100, 413}, {"/save", 60, 200}} {
		req := httptest.NewRequest("POST", tt.path, strings.NewReader(strings.Repeat("x", tt.size)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%d bytes to %s: %d, want %d", tt.size, tt.path, rec.Code, tt.want)
		}
	}
}

func TestErrorPageHidesInternals(t *testing.T) {
	_, h := newTest(t, false)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/boom", nil)
	req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
	h.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != 500 || strings.Contains(body, "hunter2") || strings.Contains(body, "secret internal") || !strings.Contains(body, "Error id") {
		t.Errorf("status %d, body:\n%s", rec.Code, body)
	}
}

func TestLanguage(t *testing.T) {
	r, h := newTest(t, false)
	tests := []struct {
		name, cookie, accept, want string
	}{
		{"default", "", "", "hu"},
		{"accept_en", "", "de-DE,en;q=0.8,hu;q=0.5", "en"},
		{"accept_hu", "", "hu-HU", "hu"},
		{"cookie_wins", "en", "hu", "en"},
		{"bad_cookie", "xx", "en", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: LangCookie, Value: tt.cookie})
			}
			req.Header.Set("Accept-Language", tt.accept)
			if got := r.Language(req); got != tt.want {
				t.Errorf("Language = %q, want %q", got, tt.want)
			}
		})
	}
	form := url.Values{"lang": {"en"}, "return": {"//evil.example/"}}
	req := httptest.NewRequest("POST", "/language", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if loc := rec.Header().Get("Location"); loc != "/" {
		t.Errorf("redirect to %q, want /", loc)
	}
	if c := rec.Result().Cookies(); len(c) != 1 || c[0].Value != "en" {
		t.Errorf("cookies %v", c)
	}
}

func TestFlashShownOnce(t *testing.T) {
	_, h := newTest(t, false)
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "flash", Value: "success.t.done"})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), `class="flash flash-success" role="status">Mentve<`) {
		t.Errorf("flash not shown:\n%s", rec.Body)
	}
	if c := rec.Result().Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Errorf("flash cookie not cleared: %v", c)
	}
	req = httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "flash", Value: "error.<script>"})
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if strings.Contains(rec.Body.String(), "class=\"flash") {
		t.Error("unknown flash key shown")
	}
}

func TestStaticCaching(t *testing.T) {
	r, h := newTest(t, false)
	u, err := r.static.url("app.js")
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", u, nil))
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") || rec.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("%d %v", rec.Code, rec.Header())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/static/app.js?v=old", nil))
	if rec.Header().Get("Cache-Control") != "no-cache" || rec.Header().Get("ETag") == "" {
		t.Errorf("stale version cached: %v", rec.Header())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/static/../webui.go", nil))
	if rec.Code == http.StatusOK { // the mux redirects to the clean path, which is not a static file
		t.Errorf("status %d for a path outside static", rec.Code)
	}
}

func TestNewRefusesBrokenInput(t *testing.T) {
	tests := []struct {
		name string
		edit func(tmpl, msgs fstest.MapFS)
		want string
	}{
		{"missing_key", func(tmpl, msgs fstest.MapFS) {
			tmpl["x.html"] = &fstest.MapFile{Data: []byte(`{{define "content"}}{{.T "no.such.key"}}{{end}}`)}
		}, "no.such.key"},
		{"bad_syntax", func(tmpl, msgs fstest.MapFS) {
			tmpl["x.html"] = &fstest.MapFile{Data: []byte(`{{define "content"}}{{if}}{{end}}`)}
		}, "x.html"},
		{"no_content", func(tmpl, msgs fstest.MapFS) {
			tmpl["x.html"] = &fstest.MapFile{Data: []byte(`<p>hi</p>`)}
		}, "content"},
		{"languages_differ", func(tmpl, msgs fstest.MapFS) {
			msgs["hu.json"] = &fstest.MapFile{Data: []byte(`{"t.nav":"x","t.hello":"x","t.title":"x"}`)}
		}, "t.done"},
		{"part_missing_in_one_language", func(tmpl, msgs fstest.MapFS) {
			msgs["en.extra.json"] = &fstest.MapFile{Data: []byte(`{"t.extra":"x"}`)}
		}, "t.extra"},
		{"part_duplicates_key", func(tmpl, msgs fstest.MapFS) {
			msgs["en.extra.json"] = &fstest.MapFile{Data: []byte(`{"t.nav":"x"}`)}
			msgs["hu.extra.json"] = &fstest.MapFile{Data: []byte(`{"t.nav":"x"}`)}
		}, "extra.json"},
		{"duplicate_key", func(tmpl, msgs fstest.MapFS) {
			msgs["en.json"] = &fstest.MapFile{Data: []byte(`{"t.nav":"x","t.hello":"x","t.title":"x","t.done":"x","lang.en":"x"}`)}
		}, "lang.en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, msgs, static := testFS()
			tt.edit(tmpl, msgs)
			_, err := New(Options{Templates: tmpl, Messages: msgs, Static: static})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

// A UI's texts may be split into one file per area: en.json plus
// en.offers.json, … — each language with the same keys.
func TestCataloguePartFiles(t *testing.T) {
	tmpl, msgs, static := testFS()
	tmpl["x.html"] = &fstest.MapFile{Data: []byte(`{{define "content"}}{{.T "t.extra"}}{{end}}`)}
	msgs["en.extra.json"] = &fstest.MapFile{Data: []byte(`{"t.extra":"Extra"}`)}
	msgs["hu.extra.json"] = &fstest.MapFile{Data: []byte(`{"t.extra":"Plusz"}`)}
	r, err := New(Options{Templates: tmpl, Messages: msgs, Static: static})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Catalogue().Has("t.extra") || !r.Catalogue().Has("t.nav") {
		t.Error("the part file's key or the main file's key is missing")
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{"/offers?q=1": "/offers?q=1", "//evil": "/", "https://evil": "/", "": "/", "/\\evil": "/", "/a\r\nb": "/"} {
		if got := LocalPath(in); got != want {
			t.Errorf("LocalPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestConnectSrc: a surface may let its pages connect to another origin
// (the realtime listener); the rest of the policy stays as strict.
func TestConnectSrc(t *testing.T) {
	tests := []struct {
		name    string
		connect func(*http.Request) string
		want    string
	}{
		{"none", nil, "connect-src 'self';"},
		{"empty", func(*http.Request) string { return "" }, "connect-src 'self';"},
		{"realtime-origin", func(*http.Request) string { return "http://127.0.0.1:10180" }, "connect-src 'self' http://127.0.0.1:10180;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, msgs, static := testFS()
			r, err := New(Options{Templates: tmpl, Messages: msgs, Static: static, ConnectSrc: tt.connect})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			r.Protect(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			csp := rec.Header().Get("Content-Security-Policy")
			if !strings.Contains(csp, tt.want) || !strings.HasPrefix(csp, "default-src 'none'; script-src 'self' 'nonce-") ||
				strings.Contains(csp, "unsafe") {
				t.Errorf("CSP %q, want %q", csp, tt.want)
			}
		})
	}
}
