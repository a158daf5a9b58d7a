// Package adminpages drives the operators' admin UI in a headless
// Chromium for the browser tests of both deployments (internal/e2e on
// `esign all`, internal/cli on the production processes): sign-in with the
// authenticator enrolment, the offers' back-office journey, the certificate
// import and a request the signed-in operator is refused. Every page it
// opens is checked with axe-core and photographed (webuitest).
package adminpages

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"esign/internal/totp"
	"esign/internal/webui/webuitest"
)

// Pages is a browser on the admin UI (or any web surface) of a test.
type Pages struct {
	T   *testing.T
	Ctx context.Context // a webuitest.Browser context
	Dir string          // where the screenshots go
}

// Check checks the open page with axe and saves its screenshots as name.
func (p *Pages) Check(name string) {
	p.T.Helper()
	webuitest.Axe(p.T, p.Ctx, name)
	webuitest.Screenshots(p.T, p.Ctx, p.Dir, name)
}

// Text returns the trimmed text of the first element sel matches, waiting
// up to 10 s for one to exist.
func (p *Pages) Text(sel string) string {
	p.T.Helper()
	// One evaluation reads the node it finds: chromedp.Text queries the
	// node and reads it in two steps, which fails when a script of the
	// page (the viewer, the live feed) replaces the node in between.
	q, _ := json.Marshal(sel)
	js := `(() => { const e = document.querySelector(` + string(q) + `); return e ? e.innerText.trim() : null; })()`
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got := webuitest.Get(p.T, p.Ctx, "read "+sel, chromedp.Evaluate[*string](js))
		if got != nil {
			return *got
		}
		if time.Now().After(end) {
			p.T.Fatalf("read %s: no such element", sel)
		}
	}
}

// SignIn signs in through the pages, enrolling the authenticator app with
// the secret read off the enrolment page, and returns to the dashboard.
// shots checks and photographs the sign-in pages.
func (p *Pages) SignIn(base, username, pw string, shots bool) {
	p.T.Helper()
	webuitest.Do(p.T, p.Ctx, "open the admin UI", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("username")))
	if shots {
		p.Check("signin")
	}
	webuitest.Do(p.T, p.Ctx, "enter the password",
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("totp-secret")))
	if shots {
		p.Check("enrol")
	}
	secret, err := totp.Decode(p.Text("#totp-secret"))
	if err != nil {
		p.T.Fatal(err)
	}
	code, err := totp.Params{}.CodeAt(secret, time.Now())
	if err != nil {
		p.T.Fatal(err)
	}
	webuitest.Do(p.T, p.Ctx, "confirm the first code",
		chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.Click(chromedp.CSS(`form[action="/signin/enrol"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("recovery-codes")))
	if n := strings.Count(p.Text("#recovery-codes"), "-"); n != 10 {
		p.T.Errorf("%d recovery codes shown", n)
	}
	if shots {
		p.Check("recovery-codes")
	}
	webuitest.Do(p.T, p.Ctx, "continue to the dashboard", chromedp.Click(chromedp.CSS("a.button")), chromedp.WaitVisible(chromedp.CSS("ul.stats")))
}

// SignOut signs out and waits for the sign-in page.
func (p *Pages) SignOut() {
	p.T.Helper()
	webuitest.Do(p.T, p.Ctx, "sign out", chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.ID("username")))
}

// Refused posts a form with fields to action from the open page (as a
// forged or stale form would: the page offers no such button) and expects
// the 403 page.
func (p *Pages) Refused(action string, fields map[string]string) {
	p.T.Helper()
	a, _ := json.Marshal(action)
	f, _ := json.Marshal(fields)
	webuitest.Get(p.T, p.Ctx, "post "+action+" anyway",
		chromedp.Evaluate[bool](`(() => { const f = document.createElement("form"); f.method = "post"; f.action = `+string(a)+`;
			for (const [k, v] of Object.entries(`+string(f)+` || {})) { const i = document.createElement("input"); i.name = k; i.value = v; f.append(i); }
			document.body.append(f); f.submit(); return true; })()`))
	webuitest.Do(p.T, p.Ctx, "wait for the answer", chromedp.WaitVisible(chromedp.CSS(`p.muted code`)))
	if got := p.Text("main h1"); got != "Not allowed" {
		p.T.Errorf("POST %s: page %q, want the 403 page", action, got)
	}
}
