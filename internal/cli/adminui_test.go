package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"esign/internal/demo"
	"esign/internal/e2e/adminpages"
	"esign/internal/esign"
	"esign/internal/pki"
	"esign/internal/webhookapi"
	"esign/internal/webui/webuitest"
)

// TestAdminUIProduction drives the operators' UI of the production
// deployment in Chromium: oss, pdfservice, css and the TSA as separate
// processes over PostgreSQL, RabbitMQ and Redis (operator sessions in
// Redis, the live feed over the bus to oss's realtime listener). The
// initial admin signs in with the authenticator enrolment; while the
// dashboard is open the reference device client (internal/demo) signs an
// offer and the feed shows it without a reload; the admin opens its
// evidence and sealed contract, uploads an offer for the customer through
// the form, revokes it, verifies the sealed PDF uploaded on the verify
// page, approves a customer, imports and activates a certificate; an
// auditor is refused an approval (403) and finds the refusal in the audit
// log. axe-core checks every page.
// (The embedded deployment's journey is internal/e2e TestAdminUI.)
func TestAdminUIProduction(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four processes against PostgreSQL, RabbitMQ and Redis, and a browser")
	}
	p := startProduction(t)
	oss := startProcess(t, "oss", p.env)
	startProcess(t, "pdfservice", p.env)
	startProcess(t, "css", p.env)
	ctx := webuitest.Browser(t)
	base := "http://" + oss["admin"]
	pg := &adminpages.Pages{T: t, Ctx: ctx, Dir: t.TempDir()}
	cred, err := readCredentials(p.credFile)
	if err != nil {
		t.Fatal(err)
	}
	user, pw, _ := strings.Cut(cred, ":")
	// Redis outlives the test (rate limits per phone number): customers
	// and phone numbers of this run's own.
	tag := strings.ToLower(rand.Text()[:10])
	ref := "esign-demo-" + tag
	var pending struct {
		ID string `json:"customer_id"`
	}
	hookJSON(t, "http://"+oss["webhook"]+"/customer/bootstrap", user, pw, map[string]string{"customer_ref": "C-" + tag,
		"name": "Szabó Béla", "phone": fmt.Sprintf("+3630%07d", mrand.IntN(10_000_000))}, &pending)
	var other struct {
		ID string `json:"customer_id"`
	}
	hookJSON(t, "http://"+oss["webhook"]+"/customer/bootstrap", user, pw, map[string]string{"customer_ref": "D-" + tag,
		"name": "Kovács Anna", "phone": fmt.Sprintf("+3630%07d", mrand.IntN(10_000_000))}, &other)

	// In production the first operator is created with esign user create.
	adminPw := "Initial-Admin-Password-2026"
	if code, _, errs := runStdin(t, p.env, adminPw+"\n", "user", "create", "--username", "admin", "--role", esign.RoleAdmin, "--password-stdin"); code != 0 {
		t.Fatalf("user create admin: %s", errs)
	}
	pg.SignIn(base, "admin", adminPw, true)
	pg.Check("dashboard")

	// The live feed on oss's realtime listener: the reference device
	// client signs an offer while the dashboard is open.
	webuitest.Do(t, ctx, "wait for the live feed", chromedp.WaitVisible(chromedp.CSS(`section.live[data-state="online"]`)))
	webuitest.Get(t, ctx, "mark the page", chromedp.Evaluate[bool](`window.notReloaded = true`))
	roots := x509.NewCertPool()
	ca, err := os.ReadFile(filepath.Join(p.dataDir, "pki", pki.FileCABundle))
	if err != nil || !roots.AppendCertsFromPEM(ca) {
		t.Fatalf("CA bundle: %v", err)
	}
	type result struct {
		res *demo.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := demo.Run(context.Background(), demo.Options{WebhookURL: "http://" + oss["webhook"], MobileURL: "http://" + oss["mobile"],
			InboxURL: "http://" + oss["webhook"] + webhookapi.DevInboxPath, User: user, Password: pw, CustomerRef: ref,
			Roots: roots, OutDir: t.TempDir()})
		done <- result{res, err}
	}()
	webuitest.Do(t, ctx, "see the seal in the live feed",
		chromedp.WaitVisible(chromedp.CSS(`#live-feed li.live-new[data-type="contract.sealed"]`)))
	r := <-done
	if r.err != nil {
		t.Fatalf("demo while the dashboard is open: %v", r.err)
	}
	signed := r.res
	if !webuitest.Get(t, ctx, "the page was not reloaded", chromedp.Evaluate[bool](`window.notReloaded === true`)) {
		t.Error("the dashboard reloaded")
	}
	for _, typ := range []string{"offer.uploaded", "signature.verified", "contract.sealed"} {
		if got := pg.Text(`#live-feed li.live-new[data-type="` + typ + `"] .badge`); got == "" {
			t.Errorf("no %s in the live feed", typ)
		}
	}
	pg.Check("dashboard-live")

	// The signed offer's evidence.
	webuitest.Do(t, ctx, "open the signed offer", chromedp.Navigate(base+"/offers/"+signed.OfferID),
		chromedp.WaitVisible(chromedp.CSS("ul.checks")))
	if got := pg.Text("#offer-state"); got != "signed" {
		t.Errorf("signed offer's state %q", got)
	}
	if got := pg.Text("ul.checks"); strings.Contains(got, "failed") {
		t.Errorf("a check of the verified signature failed: %q", got)
	}
	pg.Check("offer-signed")

	// Upload an offer for the customer through the form, view it, revoke
	// it; the sealed contract; verify the sealed PDF.
	pg.OffersBackOffice(base, ref, signed)

	webuitest.Do(t, ctx, "open the pending registrations", chromedp.Navigate(base+"/customers?status=pending"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/customers/`+pending.ID+`/approve"] button`)))
	pg.Check("customers")
	webuitest.Do(t, ctx, "approve the customer", chromedp.Click(chromedp.CSS(`form[action="/customers/`+pending.ID+`/approve"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".flash-success")))
	pg.Check("customer-approved")

	pg.ImportCert(base, "Bank seal 2027")

	// An auditor may look but not approve; the refusal is in the audit log.
	auditorPw := "Auditor-Password-2026"
	if code, _, errs := runStdin(t, p.env, auditorPw+"\n", "user", "create", "--username", "audrey", "--role", esign.RoleAuditor, "--password-stdin"); code != 0 {
		t.Fatalf("user create auditor: %s", errs)
	}
	pg.SignOut()
	pg.SignIn(base, "audrey", auditorPw, false)
	pg.Refused("/customers/"+other.ID+"/approve", nil)
	pg.Check("forbidden")
	webuitest.Do(t, ctx, "the refusal in the audit log", chromedp.Navigate(base+"/audit?actor=audrey&action=access.denied"),
		chromedp.WaitVisible(chromedp.ID("audit-list")))
	if got := pg.Text("#audit-list tbody"); !strings.Contains(got, "audrey") || !strings.Contains(got, "POST /customers/{id}/approve") || !strings.Contains(got, other.ID) {
		t.Errorf("the auditor's refusal is not in the audit log page: %q", got)
	}
	pg.Check("audit-refusal")

	cfg, err := loadConfig(Env{Environ: p.env}, "")
	if err != nil {
		t.Fatal(err)
	}
	db, err := openToolDB(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for id, want := range map[string]esign.CustomerStatus{pending.ID: esign.CustomerActive, other.ID: esign.CustomerPending} {
		if c, err := db.GetCustomer(t.Context(), id); err != nil || c.Status != want {
			t.Errorf("customer %s: %+v %v, want %s", id, c, err, want)
		}
	}
	if active, err := db.GetActiveCert(t.Context()); err != nil || active.Name != "Bank seal 2027" {
		t.Errorf("active certificate: %+v %v", active, err)
	}
}

// runStdin runs esign with stdin, returning status, stdout, stderr.
func runStdin(t testing.TB, environ []string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(t.Context(), Env{Args: args, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Environ: environ})
	return code, out.String(), errb.String()
}

// hookJSON posts body to a webhook endpoint and decodes the 201 answer.
func hookJSON(t testing.TB, url, user, pw string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(user, pw)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}
