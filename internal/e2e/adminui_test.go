// Package e2e holds tests that drive the real system (`esign all`, the
// embedded deployment) from the outside: HTTP clients and a real headless
// Chromium.
package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"esign/internal/cli"
	"esign/internal/demo"
	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/pdf/pdftest"
	"esign/internal/sqlstore"
	"esign/internal/totp"
	"esign/internal/webhookapi"
	"esign/internal/webui/webuitest"
)

var update = flag.Bool("update", false, "write the screenshots into docs/admin-ui (referenced from docs/admin-ui.md)")

// system is a running `esign all` on ephemeral ports.
type system struct {
	dir   string
	addrs map[string]string
	env   []string
}

// hookAuth is the webhook credentials of tests that set their own.
const hookAuth = "bank:e2e-webhook-password-0123456789"

// startAll starts esign all with the extra settings (later settings win).
func startAll(t *testing.T, extra ...string) *system {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	// No webhook credentials: esign all enables what esign demo needs
	// with the credentials in data/demo-webhook-credentials.
	env := []string{"ESIGN_DATA_DIR=" + dir, "ESIGN_LOG_LEVEL=warn"}
	for _, k := range []string{"ADMIN", "WEBHOOK", "REALTIME", "MOBILE", "CUSTOMER", "CUSTOMER_REALTIME", "PDFSERVICE", "CRON", "OPS"} {
		env = append(env, "ESIGN_LISTEN_"+k+"=127.0.0.1:0")
	}
	// The customer service asks the built-in TSA at its configured
	// address: that one needs a fixed port.
	env = append(env, "ESIGN_LISTEN_TSA="+freeAddr(t))
	env = append(env, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan map[string]string, 1)
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- cli.Run(ctx, cli.Env{Args: []string{"all"}, Stdout: &bytes.Buffer{}, Stderr: &stderr, Environ: env,
			Ready: func(a map[string]string) { addrs <- a }})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case a := <-addrs:
		return &system{dir: dir, addrs: a, env: env}
	case code := <-done:
		t.Fatalf("esign all exited with %d: %s", code, stderr.String())
	case <-time.After(2 * time.Minute):
		t.Fatal("esign all did not start")
	}
	return nil
}

func freeAddr(t *testing.T) string { return esigntest.FreeAddr(t) }

// credentials returns the webhook user and password of the offer upload:
// the test's own (hookAuth) when it set them, else the ones esign all wrote.
func (s *system) credentials(t *testing.T) (string, string) {
	t.Helper()
	for _, e := range s.env {
		if v, ok := strings.CutPrefix(e, "ESIGN_WEBHOOK_OFFER_UPLOAD="); ok {
			user, pw, _ := strings.Cut(v, ":")
			return user, pw
		}
	}
	b, err := os.ReadFile(filepath.Join(s.dir, "demo-webhook-credentials"))
	if err != nil {
		t.Fatal(err)
	}
	user, pw, _ := strings.Cut(strings.TrimSpace(string(b)), ":")
	return user, pw
}

// call posts body to the webhook API with the system's credentials.
func (s *system) call(t *testing.T, path string, body any) *http.Response {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", "http://"+s.addrs["webhook"]+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(s.credentials(t))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// hook calls the webhook API and decodes the JSON answer into out.
func (s *system) hook(t *testing.T, path string, body, out any) {
	t.Helper()
	resp := s.call(t, path, body)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		var e map[string]any
		json.NewDecoder(resp.Body).Decode(&e)
		t.Fatalf("POST %s: %d %v", path, resp.StatusCode, e)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// postStatus calls the webhook API and returns the status.
func (s *system) postStatus(t *testing.T, path string, body any) int {
	t.Helper()
	resp := s.call(t, path, body)
	resp.Body.Close()
	return resp.StatusCode
}

// createUser runs `esign user create` against the running system's database.
func (s *system) createUser(t *testing.T, username, role, pw string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), cli.Env{Args: []string{"user", "create", "--username", username, "--role", role, "--password-stdin"},
		Stdin: strings.NewReader(pw + "\n"), Stdout: &out, Stderr: &errb, Environ: s.env})
	if code != 0 {
		t.Fatalf("user create: %d %s", code, errb.String())
	}
}

// page checks a page with axe and saves its screenshots.
type pages struct {
	t   *testing.T
	ctx context.Context
	dir string
}

func (p *pages) check(name string) {
	p.t.Helper()
	webuitest.Axe(p.t, p.ctx, name)
	webuitest.Screenshots(p.t, p.ctx, p.dir, name)
}

func (p *pages) text(sel string) string {
	p.t.Helper()
	// One evaluation reads the node it finds: chromedp.Text queries the
	// node and reads it in two steps, which fails when a script of the
	// page (the viewer, the live feed) replaces the node in between.
	q, _ := json.Marshal(sel)
	js := `(() => { const e = document.querySelector(` + string(q) + `); return e ? e.innerText.trim() : null; })()`
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got := webuitest.Get(p.t, p.ctx, "read "+sel, chromedp.Evaluate[*string](js))
		if got != nil {
			return *got
		}
		if time.Now().After(end) {
			p.t.Fatalf("read %s: no such element", sel)
		}
	}
}

// signIn signs in through the pages, enrolling the authenticator app with
// the secret read off the enrolment page, and returns to the dashboard.
func (p *pages) signIn(base, username, pw string, shots bool) {
	p.t.Helper()
	webuitest.Do(p.t, p.ctx, "open the admin UI", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("username")))
	if shots {
		p.check("signin")
	}
	webuitest.Do(p.t, p.ctx, "enter the password",
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("totp-secret")))
	if shots {
		p.check("enrol")
	}
	secret, err := totp.Decode(p.text("#totp-secret"))
	if err != nil {
		p.t.Fatal(err)
	}
	code, err := totp.Params{}.CodeAt(secret, time.Now())
	if err != nil {
		p.t.Fatal(err)
	}
	webuitest.Do(p.t, p.ctx, "confirm the first code",
		chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.Click(chromedp.CSS(`form[action="/signin/enrol"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("recovery-codes")))
	if n := strings.Count(p.text("#recovery-codes"), "-"); n != 10 {
		p.t.Errorf("%d recovery codes shown", n)
	}
	if shots {
		p.check("recovery-codes")
	}
	webuitest.Do(p.t, p.ctx, "continue to the dashboard", chromedp.Click(chromedp.CSS("a.button")), chromedp.WaitVisible(chromedp.CSS("ul.stats")))
}

// TestAdminUI drives the operators' UI of the embedded deployment in
// Chromium: the initial admin's first sign-in with the authenticator
// enrolment, the dashboard, an offer uploaded through the webhook API in
// the list and its detail, approving a customer, the development inbox,
// and an auditor refused an approval (403, in the audit log). axe-core
// checks every page.
func TestAdminUI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole system and a browser")
	}
	ctx := webuitest.Browser(t)
	sys := startAll(t)
	base := "http://" + sys.addrs["admin"]
	dir := t.TempDir()
	if *update {
		dir = filepath.Join("..", "..", "docs", "admin-ui")
	}
	p := &pages{t: t, ctx: ctx, dir: dir}

	// The bank's systems bootstrap two customers and upload an offer.
	var anna, bela struct {
		ID string `json:"customer_id"`
	}
	sys.hook(t, "/customer/bootstrap", map[string]string{"customer_ref": "C-1001", "name": "Kovács Anna", "phone": "+36301234567"}, &anna)
	sys.hook(t, "/customer/bootstrap", map[string]string{"customer_ref": "C-1002", "name": "Szabó Béla", "phone": "+36307654321"}, &bela)
	var offer struct {
		ID string `json:"offer_id"`
	}
	sys.hook(t, "/offer/upload", map[string]any{"customer_ref": "C-1001", "external_ref": "LOAN-2026-77", "title": "Personal loan agreement",
		"expires_at": time.Now().Add(14 * 24 * time.Hour).UTC().Format(time.RFC3339),
		"documents":  []map[string]string{{"name": "loan-agreement.pdf", "content_base64": base64.StdEncoding.EncodeToString(pdftest.Minimal(2))}}}, &offer)

	// The demo signs an offer end to end: its evidence and contract show
	// on the offer's page.
	roots := x509.NewCertPool()
	ca, err := os.ReadFile(filepath.Join(sys.dir, "pki", "ca-bundle.pem"))
	if err != nil || !roots.AppendCertsFromPEM(ca) {
		t.Fatalf("development CA bundle: %v", err)
	}
	user, pass := sys.credentials(t)
	signed, err := demo.Run(context.Background(), demo.Options{WebhookURL: "http://" + sys.addrs["webhook"],
		MobileURL: "http://" + sys.addrs["mobile"], InboxURL: "http://" + sys.addrs["webhook"] + webhookapi.DevInboxPath,
		User: user, Password: pass, Roots: roots, OutDir: t.TempDir()})
	if err != nil {
		t.Fatalf("demo: %v", err)
	}

	// The initial admin signs in for the first time.
	pw, err := os.ReadFile(filepath.Join(sys.dir, "initial-admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	p.signIn(base, "admin", strings.TrimSpace(string(pw)), true)
	if got := p.text("ul.stats li:first-child .n"); got != "1" {
		t.Errorf("dashboard: %q offers waiting, want 1", got)
	}
	if got := p.text("ul.stats li:nth-child(3) .n"); got != "1" {
		t.Errorf("dashboard: %q offers signed today, want the demo's", got)
	}
	p.check("dashboard")

	// The live feed (:10180): while the dashboard is open, the reference
	// device client signs another offer; its upload, verification and
	// seal appear without a reload.
	webuitest.Do(t, ctx, "wait for the live feed", chromedp.WaitVisible(chromedp.CSS(`section.live[data-state="online"]`)))
	webuitest.Get(t, ctx, "mark the page", chromedp.Evaluate[bool](`window.notReloaded = true`))
	live := make(chan error, 1)
	go func() {
		_, err := demo.Run(context.Background(), demo.Options{WebhookURL: "http://" + sys.addrs["webhook"],
			MobileURL: "http://" + sys.addrs["mobile"], InboxURL: "http://" + sys.addrs["webhook"] + webhookapi.DevInboxPath,
			User: user, Password: pass, Roots: roots, OutDir: t.TempDir()})
		live <- err
	}()
	webuitest.Do(t, ctx, "see the seal in the live feed",
		chromedp.WaitVisible(chromedp.CSS(`#live-feed li.live-new[data-type="contract.sealed"]`)))
	if err := <-live; err != nil {
		t.Fatalf("demo while the dashboard is open: %v", err)
	}
	if !webuitest.Get(t, ctx, "the page was not reloaded", chromedp.Evaluate[bool](`window.notReloaded === true`)) {
		t.Error("the dashboard reloaded")
	}
	for _, typ := range []string{"offer.uploaded", "signature.verified", "contract.sealed"} {
		if got := p.text(`#live-feed li.live-new[data-type="` + typ + `"] .badge`); got == "" {
			t.Errorf("no %s in the live feed", typ)
		}
	}
	p.check("dashboard-live")

	webuitest.Do(t, ctx, "open the offers", chromedp.Navigate(base+"/offers"), chromedp.WaitVisible(chromedp.CSS(`a[href="/offers/`+offer.ID+`"]`)))
	p.check("offers")
	webuitest.Do(t, ctx, "open the offer", chromedp.Click(chromedp.CSS(`a[href="/offers/`+offer.ID+`"]`)),
		chromedp.WaitVisible(chromedp.ID("timeline")))
	if got := p.text("h1"); got != "Personal loan agreement" {
		t.Errorf("offer page title %q", got)
	}
	if got := p.text("main table .doc-name"); got != "loan-agreement.pdf" {
		t.Errorf("document link %q", got)
	}
	p.check("offer")

	// The open offer page hears of the offer's revocation.
	webuitest.Do(t, ctx, "wait for the offer's live changes", chromedp.WaitVisible(chromedp.CSS(`section.live[data-state="online"]`)))
	if code := sys.postStatus(t, "/offer/revoke", map[string]string{"customer_ref": "C-1001", "offer_id": offer.ID, "reason": "superseded"}); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	webuitest.Do(t, ctx, "see the revocation on the offer page",
		chromedp.WaitVisible(chromedp.CSS(`#live-feed li.live-new[data-type="offer.revoked"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.live-reload a`)))
	p.check("offer-live")

	webuitest.Do(t, ctx, "open the demo's signed offer", chromedp.Navigate(base+"/offers/"+signed.OfferID),
		chromedp.WaitVisible(chromedp.CSS("ul.checks")))
	if got := p.text("#offer-state"); got != "signed" {
		t.Errorf("demo offer state %q", got)
	}
	if got := p.text("ul.checks"); strings.Contains(got, "failed") {
		t.Errorf("a check of the verified signature failed: %q", got)
	}
	p.check("offer-signed")

	// Upload, view, revoke; contracts; verify a PDF (adminoffers_test.go).
	p.offersBackOffice(base, "C-1001", signed)

	webuitest.Do(t, ctx, "open the pending registrations", chromedp.Navigate(base+"/customers?status=pending"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/customers/`+anna.ID+`/approve"] button`)))
	p.check("customers")
	webuitest.Do(t, ctx, "approve Anna", chromedp.Click(chromedp.CSS(`form[action="/customers/`+anna.ID+`/approve"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".flash-success")))
	p.check("customer-approved")

	webuitest.Do(t, ctx, "open the inbox", chromedp.Navigate(base+"/inbox"), chromedp.WaitVisible(chromedp.CSS("main table")))
	if got := p.text("main table tbody"); !strings.Contains(got, "+36301234567") {
		t.Errorf("the offer's SMS is not in the inbox: %q", got)
	}
	p.check("inbox")

	// Each operator chooses the language.
	webuitest.Do(t, ctx, "switch to Hungarian", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("ul.stats")),
		chromedp.Click(chromedp.CSS(`button[value="hu"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="hu"] ul.stats`)))
	if got := p.text("main h1"); got != "Áttekintés" {
		t.Errorf("Hungarian dashboard title %q", got)
	}
	p.check("dashboard-hu")
	webuitest.Do(t, ctx, "switch back to English", chromedp.Click(chromedp.CSS(`button[value="en"]`)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] ul.stats`)))

	// An auditor may look but not approve.
	webuitest.Do(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.ID("username")))
	sys.createUser(t, "audrey", esign.RoleAuditor, "Auditor-Password-2026")
	p.signIn(base, "audrey", "Auditor-Password-2026", false)
	// The page offers the auditor no approve button; post the form anyway.
	webuitest.Get(t, ctx, "post an approval as the auditor",
		chromedp.Evaluate[bool](`(() => { const f = document.createElement("form"); f.method = "post";
			f.action = "/customers/`+bela.ID+`/approve"; document.body.append(f); f.submit(); return true; })()`))
	webuitest.Do(t, ctx, "wait for the answer", chromedp.WaitVisible(chromedp.CSS(`p.muted code`)))
	if got := p.text("main h1"); got != "Not allowed" {
		t.Errorf("auditor's approval: page %q, want the 403 page", got)
	}
	p.check("forbidden")

	db, err := sqlstore.Open(context.Background(), sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(sys.dir, "esign.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.GetCustomer(context.Background(), bela.ID)
	if err != nil || c.Status != esign.CustomerPending {
		t.Errorf("Béla %+v %v: the refused approval changed the customer", c, err)
	}
	auditor, err := db.GetUserByUsername(context.Background(), "audrey")
	if err != nil {
		t.Fatal(err)
	}
	logs, err := db.ListAuditLogs(context.Background(), esign.AuditLogFilter{ActorID: auditor.ID, Action: "access.denied"})
	if err != nil || len(logs) != 1 || logs[0].ObjectID != "POST /customers/{id}/approve" || !strings.Contains(logs[0].Detail, bela.ID) {
		t.Errorf("audit of the refusal: %+v %v", logs, err)
	}
	if a, err := db.ListCustomers(context.Background(), esign.CustomerFilter{ExternalRef: "C-1001"}); err != nil || a[0].Status != esign.CustomerActive {
		t.Errorf("Anna not approved: %+v %v", a, err)
	}
}
