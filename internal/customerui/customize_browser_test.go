package customerui

import (
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"esign/internal/bus/inproc"
	"esign/internal/webui/webuitest"
)

// TestCustomLanguageInBrowser: a German-speaking browser sees the sign-in
// page and, signed in, the start page in the German the customization
// directory adds, the language switcher offering it.
func TestCustomLanguageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ib := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { ib.Close() })
	env := newRPCEnvConfig(t, ib, ib, nil, Config{Messages: customMessages(), BankName: "Example Bank"})
	c, _ := env.signIn(t, "Dora Dorn")
	doc := env.e.Document(t, c.ID, "a.pdf", nil)
	env.e.Offer(t, c.ID, "Kreditvertrag", doc.ID)
	srv := httptest.NewServer(env.h)
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	if *updateShots {
		dir = filepath.Join("..", "..", "docs", "customization")
	}
	ctx := webuitest.Browser(t)
	// The browser asks for English; the visitor picks Deutsch.
	webuitest.Do(t, ctx, "open the sign-in page", chromedp.Navigate(srv.URL+"/signin"), chromedp.WaitVisible(chromedp.ID("username")))
	webuitest.Do(t, ctx, "choose German", chromedp.Click(chromedp.CSS(`form.lang button[value="de"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="de"] #username`)))
	if got := webuitest.Get(t, ctx, "title", chromedp.Evaluate[string](`document.querySelector("h1").innerText`)); got != "Anmelden, um Ihre Dokumente zu unterschreiben" {
		t.Errorf("heading %q", got)
	}
	if got := webuitest.Get(t, ctx, "lang", chromedp.Evaluate[string](`document.documentElement.lang`)); got != "de" {
		t.Errorf("html lang %q", got)
	}
	webuitest.Screenshots(t, ctx, dir, "de-signin")
	webuitest.Do(t, ctx, "sign in", chromedp.SendKeys(chromedp.ID("username"), c.Username), chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("offers-h")))
	body := webuitest.Get(t, ctx, "start page", chromedp.Evaluate[string](`document.body.innerText`))
	for _, s := range []string{"Ihre Dokumente", "Guten Tag, Dora Dorn.", "Angebote, die auf Sie warten", "Kreditvertrag", "Deutsch"} {
		if !strings.Contains(body, s) {
			t.Errorf("start page lacks %q:\n%s", s, body)
		}
	}
	webuitest.Screenshots(t, ctx, dir, "de-home")
}
