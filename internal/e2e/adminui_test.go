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
	"esign/internal/e2e/adminpages"
	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/pdf/pdftest"
	"esign/internal/sqlstore"
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
	p := &adminpages.Pages{T: t, Ctx: ctx, Dir: dir}

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
	p.SignIn(base, "admin", strings.TrimSpace(string(pw)), true)
	if got := p.Text("ul.stats li:first-child .n"); got != "1" {
		t.Errorf("dashboard: %q offers waiting, want 1", got)
	}
	if got := p.Text("ul.stats li:nth-child(3) .n"); got != "1" {
		t.Errorf("dashboard: %q offers signed today, want the demo's", got)
	}
	p.Check("dashboard")

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
		if got := p.Text(`#live-feed li.live-new[data-type="` + typ + `"] .badge`); got == "" {
			t.Errorf("no %s in the live feed", typ)
		}
	}
	p.Check("dashboard-live")

	webuitest.Do(t, ctx, "open the offers", chromedp.Navigate(base+"/offers"), chromedp.WaitVisible(chromedp.CSS(`a[href="/offers/`+offer.ID+`"]`)))
	p.Check("offers")
	webuitest.Do(t, ctx, "open the offer", chromedp.Click(chromedp.CSS(`a[href="/offers/`+offer.ID+`"]`)),
		chromedp.WaitVisible(chromedp.ID("timeline")))
	if got := p.Text("h1"); got != "Personal loan agreement" {
		t.Errorf("offer page title %q", got)
	}
	if got := p.Text("main table .doc-name"); got != "loan-agreement.pdf" {
		t.Errorf("document link %q", got)
	}
	p.Check("offer")

	// The open offer page hears of the offer's revocation.
	webuitest.Do(t, ctx, "wait for the offer's live changes", chromedp.WaitVisible(chromedp.CSS(`section.live[data-state="online"]`)))
	if code := sys.postStatus(t, "/offer/revoke", map[string]string{"customer_ref": "C-1001", "offer_id": offer.ID, "reason": "superseded"}); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	webuitest.Do(t, ctx, "see the revocation on the offer page",
		chromedp.WaitVisible(chromedp.CSS(`#live-feed li.live-new[data-type="offer.revoked"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.live-reload a`)))
	p.Check("offer-live")

	webuitest.Do(t, ctx, "open the demo's signed offer", chromedp.Navigate(base+"/offers/"+signed.OfferID),
		chromedp.WaitVisible(chromedp.CSS("ul.checks")))
	if got := p.Text("#offer-state"); got != "signed" {
		t.Errorf("demo offer state %q", got)
	}
	if got := p.Text("ul.checks"); strings.Contains(got, "failed") {
		t.Errorf("a check of the verified signature failed: %q", got)
	}
	p.Check("offer-signed")

	// Upload, view, revoke; contracts; verify a PDF (adminpages.OffersBackOffice).
	p.OffersBackOffice(base, "C-1001", signed)

	webuitest.Do(t, ctx, "open the pending registrations", chromedp.Navigate(base+"/customers?status=pending"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/customers/`+anna.ID+`/approve"] button`)))
	p.Check("customers")
	webuitest.Do(t, ctx, "approve Anna", chromedp.Click(chromedp.CSS(`form[action="/customers/`+anna.ID+`/approve"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".flash-success")))
	p.Check("customer-approved")

	// The demo customer's page: the app and device that signed, the
	// activity with addresses, the sealed contracts.
	webuitest.Do(t, ctx, "open the demo customer's page", chromedp.Navigate(base+"/customers?ref="+signed.CustomerRef),
		chromedp.Click(chromedp.CSS(`main table tbody a[href^="/customers/"]`)), chromedp.WaitVisible(chromedp.ID("activity")))
	if got := p.Text("main"); !strings.Contains(got, "esign reference") || !strings.Contains(got, "IP 127.0.0.1") {
		t.Errorf("the demo customer's page shows no device or no activity address:\n%s", got)
	}
	p.Check("customer-device")

	// Anna's page: her data, apps, sessions, activity and offers; an
	// operator blocks her (her sessions end) and lifts the block.
	webuitest.Do(t, ctx, "open Anna's page", chromedp.Navigate(base+"/customers?ref=C-1001"), chromedp.Click(chromedp.CSS(`a[href="/customers/`+anna.ID+`"]`)),
		chromedp.WaitVisible(chromedp.ID("activity")))
	if got := p.Text("#customer-status"); got != "approved" {
		t.Errorf("Anna's status %q on her page", got)
	}
	if got := p.Text("main"); !strings.Contains(got, "LOAN-2026-77") {
		t.Errorf("Anna's page does not list her offer")
	}
	p.Check("customer")
	webuitest.Do(t, ctx, "block Anna", chromedp.Click(chromedp.CSS(`#block-form button`)),
		chromedp.WaitVisible(chromedp.CSS("#unblock-form button")))
	if got := p.Text("#customer-status"); got != "blocked" {
		t.Errorf("Anna's status %q after the block", got)
	}
	p.Check("customer-blocked")
	webuitest.Do(t, ctx, "unblock Anna", chromedp.Click(chromedp.CSS(`#unblock-form button`)),
		chromedp.WaitVisible(chromedp.CSS("#block-form button")))
	if got := p.Text("#customer-status"); got != "approved" {
		t.Errorf("Anna's status %q after the unblock", got)
	}

	webuitest.Do(t, ctx, "open the inbox", chromedp.Navigate(base+"/inbox"), chromedp.WaitVisible(chromedp.CSS("main table")))
	if got := p.Text("main table tbody"); !strings.Contains(got, "+36301234567") {
		t.Errorf("the offer's SMS is not in the inbox: %q", got)
	}
	p.Check("inbox")

	// Each operator chooses the language.
	webuitest.Do(t, ctx, "switch to Hungarian", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("ul.stats")),
		chromedp.Click(chromedp.CSS(`button[value="hu"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="hu"] ul.stats`)))
	if got := p.Text("main h1"); got != "Áttekintés" {
		t.Errorf("Hungarian dashboard title %q", got)
	}
	p.Check("dashboard-hu")
	webuitest.Do(t, ctx, "switch back to English", chromedp.Click(chromedp.CSS(`button[value="en"]`)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] ul.stats`)))

	// An auditor may look but not approve.
	p.SignOut()
	sys.createUser(t, "audrey", esign.RoleAuditor, "Auditor-Password-2026")
	p.SignIn(base, "audrey", "Auditor-Password-2026", false)
	// The page offers the auditor no approve button; post the form anyway.
	p.Refused("/customers/"+bela.ID+"/approve", nil)
	p.Check("forbidden")

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
