package adminui_test

import (
	"net/http"
	"strings"
	"testing"

	"esign/internal/adminui"
	"esign/internal/branding"
	"esign/internal/esign"
)

// TestBrandingPreview: the admin UI wears the branding (stylesheet, logo)
// and its settings page previews names, colours with their contrast,
// footer, the seal line, the SMS sender and the push title.
func TestBrandingPreview(t *testing.T) {
	b := branding.Default()
	b.ProductName, b.BankName = "Példa e-aláírás", "Példa Bank"
	b.Colors.Primary = "#7a0019"
	b.LegalFooter = "Példa Bank Zrt., 1051 Budapest"
	b.SMSSender, b.PushTitle = "PeldaBank", "Példa Bank: {title}"
	logo, err := branding.ParseLogo([]byte(`<svg xmlns="http://www.w3.org/2000/svg"><rect width="4" height="4"/></svg>`))
	if err != nil {
		t.Fatal(err)
	}
	b.Logo = logo
	e := newEnvWith(t, adminui.Config{Version: "test", Brand: b, SealPreview: b.SealText(branding.SealFields{VerifyURL: "https://sign.example/verify"})})
	c := e.signIn(t, "brandadmin", esign.RoleAdmin)
	c.lang = "en"
	resp, body := c.do("GET", "/settings", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("settings: %d", resp.StatusCode)
	}
	for _, want := range []string{"Branding (preview)", `src="/branding/logo?v=`, "Példa e-aláírás · operators",
		"branding.color_primary</code> #7a0019", "contrast 11.4", "Sealed by Példa Bank. Verify at https://sign.example/verify",
		"PeldaBank", "Példa Bank: New offer", `<p class="legal">Példa Bank Zrt., 1051 Budapest</p>`} {
		if !strings.Contains(body, want) {
			t.Errorf("settings page lacks %q", want)
		}
	}
	resp, body = c.do("GET", "/branding.css", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "--brand: #7a0019;") {
		t.Fatalf("branding.css: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = e.client(t).do("GET", "/branding/logo", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("logo without signing in: %d %v", resp.StatusCode, resp.Header)
	}
}
