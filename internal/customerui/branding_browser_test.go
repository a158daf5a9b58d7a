package customerui

import (
	"flag"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"esign/internal/branding"
	"esign/internal/bus/inproc"
	"esign/internal/pdf/pdftest"
	"esign/internal/webui/webuitest"
)

// updateShots: -update writes the screenshots of the branding and
// customization browser tests into docs/customization/.
var updateShots = flag.Bool("update", false, "write the screenshots of the branding and customization tests into docs/customization/")

// rebrandedLogo is the test bank's logo: shapes and text only, as an SVG
// logo must be.
const rebrandedLogo = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 32" width="120" height="32">` +
	`<rect width="120" height="32" rx="6" fill="#fff8e7"/><circle cx="16" cy="16" r="10" fill="#7a0019"/>` +
	`<text x="32" y="22" font-family="Georgia, serif" font-size="16" fill="#7a0019">Példa Bank</text></svg>`

// TestRebrandedCustomerPage: a customer UI built with another bank's
// colours, logo and footer shows them in Chromium: the top bar in the
// primary colour (from /branding.css, under the strict CSP), the logo
// loaded, the legal footer. With -update the screenshots go to
// docs/customization/.
func TestRebrandedCustomerPage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	logo, err := branding.ParseLogo([]byte(rebrandedLogo))
	if err != nil {
		t.Fatal(err)
	}
	b := branding.Default()
	b.ProductName, b.BankName = "Példa e-aláírás", "Példa Bank"
	b.Colors = branding.Colors{Primary: "#7a0019", OnPrimary: "#fff8e7", Accent: "#7a0019", Text: "#2b1b17", Background: "#fbf7f0"}
	b.Logo = logo
	b.SupportPhone, b.SupportEmail = "+36 1 234 5678", "ugyfel@pelda.example"
	b.LegalFooter = "Példa Bank Zrt. · 1051 Budapest, Példa tér 1. · MNB engedély: I-123/2020"
	ib := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { ib.Close() })
	env := newRPCEnvConfig(t, ib, ib, nil, Config{Brand: b})
	c, _ := env.signIn(t, "Réka")
	doc := env.e.Document(t, c.ID, "hitel.pdf", pdftest.Minimal(1))
	o := env.e.Offer(t, c.ID, "Lakáshitel", doc.ID)
	srv := httptest.NewServer(env.h)
	t.Cleanup(srv.Close)

	ctx := webuitest.Browser(t)
	webuitest.Do(t, ctx, "sign in", chromedp.Navigate(srv.URL+"/signin?next=/o/"+o.ID), chromedp.WaitVisible(chromedp.ID("username")))
	shots := t.TempDir()
	if *updateShots {
		shots = filepath.Join("..", "..", "docs", "customization")
	}
	webuitest.Screenshots(t, ctx, shots, "rebranded-signin")
	webuitest.Do(t, ctx, "open the offer", chromedp.SendKeys(chromedp.ID("username"), c.Username), chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("sign")))
	if got := webuitest.Get(t, ctx, "top bar colour", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("header.top")).backgroundColor`)); got != "rgb(122, 0, 25)" {
		t.Errorf("top bar %s, want the primary colour #7a0019", got)
	}
	if w := webuitest.Get(t, ctx, "logo width", chromedp.Evaluate[int](`document.querySelector("img.brand-logo").naturalWidth`)); w == 0 {
		t.Error("the logo did not load")
	}
	if got := webuitest.Get(t, ctx, "footer", chromedp.Text(chromedp.CSS("footer .legal"))); got != b.LegalFooter {
		t.Errorf("legal footer %q", got)
	}
	webuitest.Axe(t, ctx, "rebranded offer")
	webuitest.Screenshots(t, ctx, shots, "rebranded-offer")
}
