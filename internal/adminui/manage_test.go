package adminui_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"esign/internal/esign"
	"esign/internal/operators"
	"esign/internal/pki"
	"esign/internal/sqlstore"
)

// devP12 returns a .p12 of a freshly generated development signer.
func devP12(t *testing.T, password string) []byte {
	t.Helper()
	dev, _, err := pki.OpenDev(t.TempDir(), pki.DevOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p12, err := pkcs12.Modern.Encode(dev.Signer.Key, dev.Signer.Certificate, dev.Signer.Chain, password)
	if err != nil {
		t.Fatal(err)
	}
	return p12
}

// uploadP12 posts a multipart form with the fields and one file field
// (none when file is empty).
func (c *client) uploadP12(path string, fields map[string]string, file string, data []byte) (*http.Response, string) {
	c.t.Helper()
	var parts []part
	for k, v := range fields {
		parts = append(parts, field(k, v))
	}
	if file != "" {
		parts = append(parts, part{field: file, file: "bank.p12", data: data})
	}
	return c.upload(path, parts...)
}

func (e *env) audited(t *testing.T, action, objectID string) *esign.AuditLog {
	t.Helper()
	ls, err := e.Ops.ListAudit(context.Background(), esign.AuditLogFilter{Action: action, ObjectID: objectID})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) == 0 {
		t.Fatalf("no audit entry %s for %q", action, objectID)
	}
	return ls[0]
}

// TestCertificates imports the bank's .p12 through the page (the password
// stored encrypted), refuses a wrong password and a second import of the
// same certificate, and activates it.
func TestCertificates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.signIn(t, "certadmin", esign.RoleAdmin)
	c.lang = "en"
	p12 := devP12(t, "bank-p12-secret")

	resp, body := c.uploadP12("/certs", map[string]string{"password": "wrong"}, "p12", p12)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "password of the .p12 file is wrong") {
		t.Fatalf("wrong password: %d\n%s", resp.StatusCode, body)
	}
	resp, body = c.uploadP12("/certs", map[string]string{"password": "bank-p12-secret", "name": "Bank seal 2027"}, "", nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("no file: %d", resp.StatusCode)
	}
	resp, body = c.uploadP12("/certs", map[string]string{"password": "bank-p12-secret", "name": "Bank seal 2027"}, "p12", p12)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="cert-imported"`) || !strings.Contains(body, "Bank seal 2027") {
		t.Fatalf("import: %d\n%s", resp.StatusCode, body)
	}
	// The page says where the key lives (docs/key-custody.md).
	if !strings.Contains(body, `Key: <span class="mono">p12</span>`) {
		t.Errorf("the certificate's key source is not shown:\n%s", body)
	}
	certs, err := e.DB.ListCerts(ctx, esign.CertFilter{})
	if err != nil || len(certs) != 1 {
		t.Fatalf("certs: %v %v", certs, err)
	}
	cert := certs[0]
	if cert.Active || bytes.Contains(cert.PasswordEnc, []byte("bank-p12-secret")) || bytes.Equal(cert.PKCS12Enc, p12) {
		t.Fatalf("stored certificate: active=%v, password or file in clear", cert.Active)
	}
	if pw, err := e.Keys.Decrypt(cert.PasswordEnc, []byte("cert:"+cert.ID)); err != nil || string(pw) != "bank-p12-secret" {
		t.Fatalf("stored password does not decrypt as seal does: %v", err)
	}
	if a := e.audited(t, "cert.import", cert.ID); !strings.Contains(a.Detail, `"result":"ok"`) || strings.Contains(a.Detail, "secret") {
		t.Errorf("audit detail %s", a.Detail)
	}
	resp, _ = c.uploadP12("/certs", map[string]string{"password": "bank-p12-secret"}, "p12", p12)
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("second import: %d", resp.StatusCode)
	}

	resp, _ = c.do("POST", "/certs/"+cert.ID+"/activate", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("activate: %d", resp.StatusCode)
	}
	active, err := e.DB.GetActiveCert(ctx)
	if err != nil || active.ID != cert.ID {
		t.Fatalf("active certificate: %v %v", active, err)
	}
	e.audited(t, "cert.activate", cert.ID)
	resp, body = c.do("GET", "/certs", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "badge-ok") {
		t.Errorf("list: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = c.do("POST", "/certs/"+esign.NewID()+"/activate", url.Values{})
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("activate unknown: %d", resp.StatusCode)
	}

	// A certificate close to its expiry is flagged; an expired one cannot
	// be activated.
	now := e.Clock.Now()
	for i, left := range []time.Duration{10 * 24 * time.Hour, -time.Hour} {
		x := *cert
		x.ID, x.Active, x.Name = esign.NewID(), false, "old seal "+itoa(int64(i))
		x.FingerprintSHA256 = strings.Repeat(itoa(int64(i+1)), 64)
		x.NotBefore, x.NotAfter = now.Add(-365*24*time.Hour), now.Add(left)
		if err := e.DB.CreateCert(ctx, &x); err != nil {
			t.Fatal(err)
		}
		if left < 0 {
			resp, body := c.do("POST", "/certs/"+x.ID+"/activate", url.Values{})
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "has expired") {
				t.Errorf("activate an expired certificate: %d", resp.StatusCode)
			}
		}
	}
	_, body = c.do("GET", "/certs", nil)
	if !strings.Contains(body, "10 days left") || !strings.Contains(body, `badge badge-err">expired`) {
		t.Errorf("no expiry warnings:\n%s", body)
	}
}

var passwordRE = regexp.MustCompile(`id="initial-password">([A-Z2-7]+)<`)

// TestUsers creates an operator (the password shown once works), changes
// its roles, disables it (its session ends), enables it and resets its
// second factor; an admin cannot disable itself.
func TestUsers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.signIn(t, "boss", esign.RoleAdmin)
	admin.lang = "en"

	resp, body := admin.do("POST", "/users", url.Values{"username": {"olga"}, "name": {"Olga Operator"}, "role": {"operator"}})
	m := passwordRE.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("create: %d\n%s", resp.StatusCode, body)
	}
	olga, err := e.DB.GetUserByUsername(ctx, "olga")
	if err != nil {
		t.Fatal(err)
	}
	e.audited(t, "user.create", olga.ID)
	signed := e.SignIn(t, "olga", m[1])
	if p, err := e.Ops.Authenticate(ctx, signed.Token); err != nil || !p.Can(esign.PermOfferWrite) {
		t.Fatalf("olga signed in: %v %v", p, err)
	}
	if resp, _ := admin.do("POST", "/users", url.Values{"username": {"olga"}, "role": {"operator"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("duplicate username: %d", resp.StatusCode)
	}
	if resp, _ := admin.do("POST", "/users", url.Values{"username": {"x"}, "role": {"superuser"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown role: %d", resp.StatusCode)
	}

	resp, _ = admin.do("POST", "/users/"+olga.ID+"/roles", url.Values{"role": {"auditor"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("roles: %d", resp.StatusCode)
	}
	p, err := e.Ops.Authenticate(ctx, signed.Token)
	if err != nil || p.Can(esign.PermOfferWrite) || !p.Can(esign.PermAuditRead) {
		t.Fatalf("after the role change: %v %v", p, err)
	}
	if a := e.audited(t, "user.roles", olga.ID); a.ActorID == "" {
		t.Errorf("role change audited without its actor: %+v", a)
	}
	if resp, _ := admin.do("POST", "/users/"+olga.ID+"/roles", url.Values{}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no role: %d", resp.StatusCode)
	}

	resp, _ = admin.do("POST", "/users/"+olga.ID+"/disable", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	if _, err := e.Ops.Authenticate(ctx, signed.Token); !esign.IsKind(err, esign.Unauthorized) {
		t.Fatalf("the disabled operator's session still works: %v", err)
	}
	resp, _ = admin.do("POST", "/users/"+olga.ID+"/enable", url.Values{})
	if u, _ := e.DB.GetUser(ctx, olga.ID); resp.StatusCode != http.StatusSeeOther || u.Status != esign.UserActive {
		t.Fatalf("enable: %d %v", resp.StatusCode, u.Status)
	}

	resp, _ = admin.do("POST", "/users/"+olga.ID+"/reset-second-factor", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	if sf, _ := e.DB.UserSecondFactor(ctx, olga.ID); sf.Enrolled() {
		t.Error("the second factor is still set up")
	}
	e.SignIn(t, "olga", m[1]) // enrols again

	boss, _ := e.DB.GetUserByUsername(ctx, "boss")
	resp, body = admin.do("POST", "/users/"+boss.ID+"/disable", url.Values{})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "own account") {
		t.Errorf("self-disable: %d\n%s", resp.StatusCode, body)
	}
	resp, body = admin.do("GET", "/users", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "olga") || strings.Contains(body, "initial-password") {
		t.Errorf("list: %d", resp.StatusCode)
	}
}

// TestSettings saves valid settings (pushed to css at once), refuses an
// invalid value without storing anything, and reports a push that failed.
func TestSettings(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.signIn(t, "settings", esign.RoleAdmin)
	c.lang = "en"
	resp, body := c.do("POST", "/settings", url.Values{"customer_support_email": {"not an address"}, "customer_notice": {"Maintenance on Sunday"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `aria-invalid="true"`) || !strings.Contains(body, "Maintenance on Sunday") {
		t.Fatalf("invalid: %d\n%s", resp.StatusCode, body)
	}
	if _, err := e.DB.GetSetting(ctx, "customer.notice"); !esign.IsKind(err, esign.NotFound) || e.Pushes.Load() != 0 {
		t.Fatalf("a refused form stored or pushed something: %v, %d pushes", err, e.Pushes.Load())
	}
	resp, _ = c.do("POST", "/settings", url.Values{"customer_support_email": {"help@bank.example"}, "customer_notice": {"Maintenance on Sunday"},
		"app_min_version": {"1.4.0"}, "customer_support_phone": {""}})
	if resp.StatusCode != http.StatusSeeOther || e.Pushes.Load() != 1 {
		t.Fatalf("save: %d, %d pushes", resp.StatusCode, e.Pushes.Load())
	}
	s, err := e.DB.GetSetting(ctx, "customer.support_email")
	if err != nil || s.Value != "help@bank.example" {
		t.Fatalf("stored: %v %v", s, err)
	}
	if a := e.audited(t, "setting.change", ""); !strings.Contains(a.Detail, "customer.support_email") {
		t.Errorf("audit detail %s", a.Detail)
	}
	resp, _ = c.do("POST", "/settings", url.Values{"customer_support_email": {"help@bank.example"}})
	if resp.StatusCode != http.StatusSeeOther || e.Pushes.Load() != 1 {
		t.Errorf("unchanged: %d, %d pushes", resp.StatusCode, e.Pushes.Load())
	}
	e.PushErr = esign.E("test", esign.Unavailable, "bus down")
	resp, _ = c.do("POST", "/settings", url.Values{"customer_notice": {""}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Set-Cookie"), "settings.saved_not_pushed") {
		t.Errorf("push failed: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body = c.do("GET", "/settings", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "help@bank.example") {
		t.Errorf("form: %d", resp.StatusCode)
	}
}

// TestLogs shows the audit log filtered and paged, the message and client
// error logs, and retries and cancels jobs and event deliveries.
func TestLogs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.signIn(t, "logadmin", esign.RoleAdmin)
	c.lang = "en"
	admin, _ := e.DB.GetUserByUsername(ctx, "logadmin")
	for i := range 60 {
		if err := e.DB.CreateAuditLog(ctx, &esign.AuditLog{ActorType: "user", ActorID: admin.ID, Action: "test.paging",
			ObjectID: strings.Repeat("x", i%3+1), IP: "192.0.2.7"}); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := c.do("GET", "/audit?actor=logadmin&action=test.paging", nil)
	if resp.StatusCode != 200 || strings.Count(body, "<code>test.paging</code>") != 50 || !strings.Contains(body, `rel="next"`) ||
		!strings.Contains(body, "192.0.2.7") {
		t.Fatalf("audit page 1: %d, %d rows", resp.StatusCode, strings.Count(body, "<code>test.paging</code>"))
	}
	resp, body = c.do("GET", "/audit?action=test.paging&actor=logadmin&page=2", nil)
	if resp.StatusCode != 200 || strings.Count(body, "<code>test.paging</code>") != 10 || strings.Contains(body, `rel="next"`) {
		t.Fatalf("audit page 2: %d, %d rows", resp.StatusCode, strings.Count(body, "<code>test.paging</code>"))
	}
	// The store stamps entries with the wall clock.
	today := time.Now().UTC().Format("2006-01-02")
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")
	for q, want := range map[string]int{"from=" + tomorrow: 0, "to=" + today: 50, "actor=nobody": 0} {
		_, body := c.do("GET", "/audit?action=test.paging&"+q, nil)
		if n := strings.Count(body, "<code>test.paging</code>"); n != want {
			t.Errorf("audit ?%s: %d rows, want %d", q, n, want)
		}
	}
	if resp, _ := c.do("GET", "/audit?from=yesterday", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad date: %d", resp.StatusCode)
	}

	if err := e.DB.PutEmailLog(ctx, &esign.EmailLog{Recipient: "a***@bank.example", Subject: "Your offer", Template: "offer",
		Status: esign.DeliveryFailed, Delivery: esign.Delivery{DeliveryKey: "k1", Provider: "smtp", Error: "550 mailbox unavailable"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.DB.PutSmsLog(ctx, &esign.SmsLog{Recipient: "+3630***67", Body: "code ******", Template: "sign_code",
		Status: esign.DeliverySent, Delivery: esign.Delivery{DeliveryKey: "k2", Provider: "smsapi"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.DB.CreateClientErrorLog(ctx, &esign.ClientErrorLog{Source: "css", Message: "TypeError: x is undefined",
		URL: "/offer/abc", UserAgent: "Firefox"}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/logs/messages":                  "550 mailbox unavailable",
		"/logs/messages?channel=sms":      "sign_code",
		"/logs/messages?status=sent":      "messages.none-or-empty",
		"/logs/client-errors":             "TypeError: x is undefined",
		"/logs/client-errors?source=app":  "No client errors",
		"/jobs?state=completed":           "No jobs",
		"/events?status=delivered":        "No event deliveries",
		"/logs/messages?channel=telegram": "",
	} {
		resp, body := c.do("GET", path, nil)
		switch {
		case want == "":
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("GET %s: %d, want 400", path, resp.StatusCode)
			}
		case want == "messages.none-or-empty":
			if resp.StatusCode != 200 || strings.Contains(body, "550 mailbox") {
				t.Errorf("GET %s: %d, the failed e-mail listed as sent", path, resp.StatusCode)
			}
		case resp.StatusCode != 200 || !strings.Contains(body, want):
			t.Errorf("GET %s: %d, no %q\n%s", path, resp.StatusCode, want, body)
		}
	}

	// An event delivery that gave up is retried: pending again, with a
	// new delivery job.
	ev := &sqlstore.WebhookEvent{Type: "offer.signed", SubjectID: esign.NewID(), Payload: []byte(`{}`)}
	const hook = "https://hook:secret@bank.example/events"
	if err := e.DB.CreateWebhookEvent(ctx, ev, []string{hook}); err != nil {
		t.Fatal(err)
	}
	resp, _ = c.do("POST", "/events/"+ev.ID+"/retry", url.Values{"target": {operators.URLKey(hook)}})
	if loc := resp.Header.Get("Set-Cookie"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "events.not_failed") {
		t.Errorf("retry of a pending delivery: %d %s", resp.StatusCode, loc)
	}
	if err := e.DB.RecordEventAttempt(ctx, ev.ID, hook, false, 500, "server error", true); err != nil {
		t.Fatal(err)
	}
	resp, body = c.do("GET", "/events?status=failed", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "/events/"+ev.ID+"/retry") || strings.Contains(body, "hook:secret") {
		t.Fatalf("failed events: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = c.do("POST", "/events/"+ev.ID+"/retry", url.Values{"target": {operators.URLKey(hook)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry: %d", resp.StatusCode)
	}
	_, d, err := e.DB.GetWebhookEvent(ctx, ev.ID, hook)
	if err != nil || d.Status != sqlstore.DeliveryPending {
		t.Fatalf("delivery after retry: %+v %v", d, err)
	}
	if a := e.audited(t, "event.retry", ev.ID); strings.Contains(a.Detail, "secret") {
		t.Errorf("the callback URL's password is in the audit log: %s", a.Detail)
	}
	js, err := e.Jobs.Jobs(ctx, jobsFilter("available"))
	if err != nil || len(js) != 1 || js[0].Kind != "event" {
		t.Fatalf("jobs after the retry: %+v %v", js, err)
	}

	// The job is cancelled, then retried, through the jobs page.
	id := js[0].ID
	resp, _ = c.do("POST", "/jobs/"+itoa(id)+"/cancel", url.Values{})
	if j, _ := e.Jobs.Job(ctx, id); resp.StatusCode != http.StatusSeeOther || j.State != "cancelled" {
		t.Fatalf("cancel: %d %s", resp.StatusCode, j.State)
	}
	resp, body = c.do("GET", "/jobs", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "/jobs/"+itoa(id)+"/retry") {
		t.Fatalf("jobs page: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = c.do("POST", "/jobs/"+itoa(id)+"/retry", url.Values{})
	if j, _ := e.Jobs.Job(ctx, id); resp.StatusCode != http.StatusSeeOther || j.State != "available" {
		t.Fatalf("retry: %d %s", resp.StatusCode, j.State)
	}
	e.audited(t, "job.retry", itoa(id))
	e.audited(t, "job.cancel", itoa(id))
	if resp, _ := c.do("POST", "/jobs/99999999/retry", url.Values{}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("retry unknown job: %d", resp.StatusCode)
	}
}
