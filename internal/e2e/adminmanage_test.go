package e2e

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"esign/internal/e2e/adminpages"
	"esign/internal/esign"
	"esign/internal/pdf/pdftest"
	"esign/internal/sqlstore"
	"esign/internal/webui/webuitest"
)

// TestAdminUIAdministration drives the administration pages of the
// embedded deployment in Chromium: the admin imports the bank's .p12 and
// activates it, creates an auditor (its initial password shown once),
// saves the settings css receives (the customers' pages show the notice at
// once), and reads the logs: the audit log,
// messages, client errors, an event delivery to the bank's callback URL
// that failed and is sent again, and the background jobs. The new auditor
// signs in, is refused an administrator's action (403) and finds the
// refusal in the audit log. axe-core checks every page.
func TestAdminUIAdministration(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole system and a browser")
	}
	// The bank's callback URL is down: every event delivery fails at once.
	var calls atomic.Int32
	hookSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	defer hookSrv.Close()
	ctx := webuitest.Browser(t)
	sys := startAll(t, "ESIGN_WEBHOOK_EVENT_URLS="+hookSrv.URL+"/esign-events", "ESIGN_WEBHOOK_EVENT_SECRET=e2e-event-secret-0123456789abcdefghij",
		"ESIGN_WEBHOOK_EVENT_MAX_ATTEMPTS=1")
	base := "http://" + sys.addrs["admin"]
	dir := t.TempDir()
	if *update {
		dir = filepath.Join("..", "..", "docs", "admin-ui")
	}
	p := &adminpages.Pages{T: t, Ctx: ctx, Dir: dir}
	db, err := sqlstore.Open(context.Background(), sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(sys.dir, "esign.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// The bank uploads an offer (an SMS goes out) and revokes it (an
	// event to the callback URL, which fails).
	var cust struct {
		ID string `json:"customer_id"`
	}
	sys.hook(t, "/customer/bootstrap", map[string]string{"customer_ref": "C-2001", "name": "Tóth Emese", "phone": "+36305550101"}, &cust)
	var offer struct {
		ID string `json:"offer_id"`
	}
	sys.hook(t, "/offer/upload", map[string]any{"customer_ref": "C-2001", "external_ref": "CARD-2026-5", "title": "Credit card agreement",
		"expires_at": time.Now().Add(14 * 24 * time.Hour).UTC().Format(time.RFC3339),
		"documents":  []map[string]string{{"name": "card.pdf", "content_base64": base64.StdEncoding.EncodeToString(pdftest.Minimal(1))}}}, &offer)
	sys.post(t, "/offer/revoke", map[string]string{"customer_ref": "C-2001", "offer_id": offer.ID, "reason": "customer withdrew"})
	waitFor(t, "the event delivery to fail", func() bool {
		ds, err := db.ListEventDeliveries(context.Background(), sqlstore.EventDeliveryFilter{Status: sqlstore.DeliveryFailed})
		return err == nil && len(ds) == 1
	})
	// A customer's browser reported an error.
	if err := db.CreateClientErrorLog(context.Background(), &esign.ClientErrorLog{Source: "css", Message: "TypeError: pdfjsLib is undefined",
		Stack: "at render (viewer.js:12:5)", URL: "/o/" + offer.ID, UserAgent: "Mozilla/5.0 (Android 14) Chrome/131"}); err != nil {
		t.Fatal(err)
	}

	pw, err := os.ReadFile(filepath.Join(sys.dir, "initial-admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	p.SignIn(base, "admin", strings.TrimSpace(string(pw)), false)
	webuitest.Do(t, ctx, "English", chromedp.Click(chromedp.CSS(`button[value="en"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] ul.stats`)))

	// Certificates: import the bank's .p12, then activate it.
	p.ImportCert(base, "Bank seal 2027")
	active, err := db.GetActiveCert(context.Background())
	if err != nil || active.Name != "Bank seal 2027" {
		t.Fatalf("active certificate: %+v %v", active, err)
	}

	// Users: create an auditor; the password is shown once.
	webuitest.Do(t, ctx, "open the users", chromedp.Navigate(base+"/users"), chromedp.WaitVisible(chromedp.ID("u-username")))
	p.Check("users")
	webuitest.Do(t, ctx, "create an auditor",
		chromedp.SendKeys(chromedp.ID("u-username"), "audrey"),
		chromedp.SendKeys(chromedp.ID("u-name"), "Audrey Auditor"),
		chromedp.SetValue(chromedp.ID("u-role"), "auditor"),
		chromedp.Click(chromedp.CSS(`form[action="/users"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("initial-password")))
	auditorPassword := p.Text("#initial-password")
	if len(auditorPassword) < 20 {
		t.Fatalf("initial password %q", auditorPassword)
	}
	p.Check("user-created")

	// Settings: a refused value, then a saved one.
	webuitest.Do(t, ctx, "open the settings", chromedp.Navigate(base+"/settings"), chromedp.WaitVisible(chromedp.ID("settings-form")))
	webuitest.Do(t, ctx, "enter a wrong e-mail address",
		chromedp.SendKeys(chromedp.ID("s-customer_support_email"), "help at bank"),
		chromedp.SendKeys(chromedp.ID("s-customer_notice"), "Signing is unavailable on Sunday 02:00–04:00 for maintenance."),
		chromedp.Click(chromedp.CSS(`#settings-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".field-error")))
	p.Check("settings-invalid")
	webuitest.Do(t, ctx, "correct it and save",
		chromedp.SetValue(chromedp.ID("s-customer_support_email"), "help@bank.example"),
		chromedp.SendKeys(chromedp.ID("s-app_min_version"), "1.4.0"),
		chromedp.SendKeys(chromedp.ID("s-customer_support_phone"), "+36 1 234 5678"),
		chromedp.Click(chromedp.CSS(`#settings-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".flash-success")))
	p.Check("settings")
	if s, err := db.GetSetting(context.Background(), "customer.support_email"); err != nil || s.Value != "help@bank.example" {
		t.Errorf("setting stored: %+v %v", s, err)
	}
	// css has it at once: the customers' pages show the notice, the
	// sign-in page the support contacts.
	webuitest.Do(t, ctx, "open the customer UI", chromedp.Navigate("http://"+sys.addrs["customer"]+"/signin"),
		chromedp.WaitVisible(chromedp.ID("site-notice")))
	if got := p.Text("#site-notice"); !strings.Contains(got, "Sunday 02:00–04:00") {
		t.Errorf("customer notice %q", got)
	}
	if got := p.Text("#support"); !strings.Contains(got, "help@bank.example") || !strings.Contains(got, "+36 1 234 5678") {
		t.Errorf("support contacts %q", got)
	}
	p.Check("customer-notice")

	// Logs.
	webuitest.Do(t, ctx, "open the audit log", chromedp.Navigate(base+"/audit"), chromedp.WaitVisible(chromedp.ID("audit-list")))
	if got := p.Text("#audit-list tbody"); !strings.Contains(got, "cert.activate") || !strings.Contains(got, "user.create") {
		t.Errorf("audit log: %q", got)
	}
	p.Check("audit")
	webuitest.Do(t, ctx, "open the SMS log", chromedp.Navigate(base+"/logs/messages?channel=sms"), chromedp.WaitVisible(chromedp.ID("message-list")))
	p.Check("messages")
	webuitest.Do(t, ctx, "open the client errors", chromedp.Navigate(base+"/logs/client-errors"), chromedp.WaitVisible(chromedp.ID("client-error-list")))
	if got := p.Text("#client-error-list"); !strings.Contains(got, "pdfjsLib") {
		t.Errorf("client errors: %q", got)
	}
	p.Check("client-errors")
	webuitest.Do(t, ctx, "open the event deliveries", chromedp.Navigate(base+"/events"), chromedp.WaitVisible(chromedp.ID("event-list")))
	if got := p.Text("#event-list"); !strings.Contains(got, "offer.revoked") || !strings.Contains(got, "failed") {
		t.Errorf("event deliveries: %q", got)
	}
	p.Check("events")
	before := calls.Load()
	webuitest.Do(t, ctx, "send the event again", chromedp.Click(chromedp.CSS(`form[action$="/retry"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".flash-success")))
	waitFor(t, "the event to be sent again", func() bool { return calls.Load() > before })
	webuitest.Do(t, ctx, "open the jobs", chromedp.Navigate(base+"/jobs"), chromedp.WaitVisible(chromedp.ID("job-list")))
	if got := p.Text("#job-list"); !strings.Contains(got, "event") {
		t.Errorf("failed jobs: %q", got)
	}
	p.Check("jobs")

	// The auditor signs in, may read the audit log, but not manage users.
	p.SignOut()
	p.SignIn(base, "audrey", auditorPassword, false)
	p.Refused("/users", map[string]string{"username": "mallory"})
	if _, err := db.GetUserByUsername(context.Background(), "mallory"); !esign.IsKind(err, esign.NotFound) {
		t.Errorf("the refused request created the user: %v", err)
	}
	webuitest.Do(t, ctx, "the refusal in the audit log", chromedp.Navigate(base+"/audit?actor=audrey&action=access.denied"),
		chromedp.WaitVisible(chromedp.ID("audit-list")))
	if got := p.Text("#audit-list tbody"); !strings.Contains(got, "audrey") || !strings.Contains(got, "POST /users") {
		t.Errorf("the auditor's refusal is not in the audit log page: %q", got)
	}
	p.Check("audit-refusal")
}

// waitFor polls cond (the system works in the background) for up to a
// minute.
func waitFor(t *testing.T, what string, cond func() bool) bool {
	t.Helper()
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	t.Fatalf("timed out waiting for %s", what)
	return false
}
