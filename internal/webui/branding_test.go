package webui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"esign/internal/branding"
)

const testLogoSVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 10"><rect width="40" height="10" fill="#7a0019"/></svg>`

func brandedTest(t *testing.T, withLogo bool) http.Handler {
	t.Helper()
	tmpl, msgs, static := testFS()
	b := branding.Default()
	b.BankName, b.ProductName = "Példa Bank", "Példa e-aláírás"
	b.Colors.Primary, b.Colors.OnPrimary = "#7a0019", "#fff8e7"
	b.SupportPhone, b.SupportURL = "+36 1 234 5678", "https://pelda.example/help"
	b.LegalFooter = "Példa Bank Zrt., 1051 Budapest"
	if withLogo {
		l, err := branding.ParseLogo([]byte(testLogoSVG))
		if err != nil {
			t.Fatal(err)
		}
		b.Logo = l
	}
	r, err := New(Options{Templates: tmpl, Messages: msgs, Static: static, Brand: b})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	r.MountBranding(mux)
	mux.Handle("GET /{$}", r.Handle(func(w http.ResponseWriter, req *http.Request) error {
		return r.Render(w, req, http.StatusOK, "home.html", Page{Title: "t.title", Data: "x"})
	}))
	return r.Protect(mux)
}

func get(t *testing.T, h http.Handler, url string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// TestBrandingServed: the page links the brand's stylesheet (no inline
// style), shows the support contact and legal footer; the stylesheet holds
// the colours; the logo is served under a CSP that runs nothing.
func TestBrandingServed(t *testing.T) {
	h := brandedTest(t, true)
	page := get(t, h, "/").Body.String()
	for _, want := range []string{`<link rel="stylesheet" href="/branding.css?v=`, `href="tel:&#43;3612345678"`,
		`href="https://pelda.example/help"`, `<p class="legal">Példa Bank Zrt., 1051 Budapest</p>`, "— Példa e-aláírás</title>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "style=") {
		t.Error("the page has an inline style")
	}
	i := strings.Index(page, "/branding.css?v=")
	cssURL := page[i : i+strings.IndexByte(page[i:], '"')]
	css := get(t, h, cssURL)
	if css.Code != 200 || css.Header().Get("Content-Type") != "text/css; charset=utf-8" ||
		!strings.Contains(css.Body.String(), "--brand: #7a0019;") || !strings.Contains(css.Body.String(), "--brand-fg: #fff8e7;") {
		t.Fatalf("branding.css: %d %v\n%s", css.Code, css.Header(), css.Body)
	}
	if !strings.Contains(css.Header().Get("Cache-Control"), "immutable") {
		t.Errorf("versioned stylesheet not cached: %q", css.Header().Get("Cache-Control"))
	}
	if w := get(t, h, cssURL, "If-None-Match", css.Header().Get("ETag")); w.Code != http.StatusNotModified {
		t.Errorf("revalidation: %d", w.Code)
	}
	logo := get(t, h, "/branding/logo")
	if logo.Code != 200 || logo.Header().Get("Content-Type") != "image/svg+xml" || logo.Body.String() != testLogoSVG {
		t.Fatalf("logo: %d %v", logo.Code, logo.Header())
	}
	if csp := logo.Header().Get("Content-Security-Policy"); csp != branding.LogoCSP || !strings.Contains(csp, "sandbox") {
		t.Errorf("logo CSP %q", csp)
	}
	if logo.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("logo without nosniff")
	}
}

func TestBrandingWithoutLogo(t *testing.T) {
	h := brandedTest(t, false)
	if w := get(t, h, "/branding/logo"); w.Code != http.StatusNotFound {
		t.Fatalf("logo without one configured: %d", w.Code)
	}
	// the default brand's stylesheet has webui.css's colours
	tmpl, msgs, static := testFS()
	r, err := New(Options{Templates: tmpl, Messages: msgs, Static: static})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(r.Brand().CSS()); !strings.Contains(got, "--brand: #0b4f8a;") {
		t.Fatalf("default brand CSS:\n%s", got)
	}
}
