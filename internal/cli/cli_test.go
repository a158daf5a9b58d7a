package cli

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"esign/internal/bus"
	"esign/internal/bus/amqp"
	"esign/internal/bus/bustest"
	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/notify"
	"esign/internal/notify/inbox"
	"esign/internal/pades"
	"esign/internal/password"
	"esign/internal/pdf/pdftest"
	"esign/internal/pki"
	"esign/internal/seal"
	"esign/internal/sqlstore"
	"esign/internal/tsa"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// run runs esign with args and environment, returning status, stdout, stderr.
func run(t testing.TB, ctx context.Context, environ []string, ready func(map[string]string), args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(ctx, Env{Args: args, Stdout: &out, Stderr: &errb, Environ: environ, Ready: ready})
	return code, out.String(), errb.String()
}

// freePorts points every listener at an ephemeral port under dataDir.
func testEnviron(dataDir string, extra ...string) []string {
	env := []string{"ESIGN_DATA_DIR=" + dataDir, "ESIGN_LOG_LEVEL=warn"}
	for _, k := range []string{"ADMIN", "WEBHOOK", "REALTIME", "MOBILE", "CUSTOMER", "CUSTOMER_REALTIME", "TSA", "PDFSERVICE", "CRON", "OPS"} {
		env = append(env, "ESIGN_LISTEN_"+k+"=127.0.0.1:0")
	}
	return append(env, extra...)
}

func TestAllStartsServesAndStops(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addrs := make(chan map[string]string, 1)
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errs := run(t, ctx, testEnviron(dir), func(a map[string]string) { addrs <- a }, "all")
		done <- result{code, out, errs}
	}()
	var a map[string]string
	select {
	case a = <-addrs:
	case r := <-done:
		t.Fatalf("esign all exited early: %d %s", r.code, r.err)
	case <-time.After(60 * time.Second):
		t.Fatal("esign all did not start")
	}
	for _, name := range []string{"admin", "customer", "webhook", "mobile", "realtime", "customer_realtime", "tsa", "pdfservice", "ops"} {
		if a[name] == "" {
			t.Errorf("listener %s not started", name)
		}
	}
	// Every listener answers a bare /healthz and /readyz; the operations
	// listener alone has each check's result (issue 16 item 7).
	for _, name := range []string{"admin", "customer", "mobile", "webhook", "ops"} {
		for _, path := range []string{"/healthz", "/readyz"} {
			var body struct {
				Status string            `json:"status"`
				Checks map[string]string `json:"checks"`
			}
			// Readiness is what a load balancer polls: it may take a
			// moment under a loaded machine (-race), never long.
			var resp *http.Response
			for deadline := time.Now().Add(20 * time.Second); ; {
				var err error
				resp, err = http.Get("http://" + a[name] + path)
				if err != nil {
					t.Fatal(err)
				}
				body.Status, body.Checks = "", nil
				json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				if resp.StatusCode == 200 || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if resp.StatusCode != 200 || body.Status != "ok" {
				t.Errorf("%s %s = %d %+v", name, path, resp.StatusCode, body)
			}
			switch {
			case path == "/readyz" && name == "ops":
				for _, check := range []string{"database", "css", "cron", "system_config", "signing_certificate", "schedules"} {
					if body.Checks[check] != "ok" {
						t.Errorf("%s /readyz: check %s = %q (%+v)", name, check, body.Checks[check], body)
					}
				}
			case body.Checks != nil:
				t.Errorf("%s %s shows the checks: %+v", name, path, body)
			}
		}
	}
	// The mobile API answers on its listener.
	resp, err := http.Post("http://"+a["mobile"]+"/api/app/register", "application/json", strings.NewReader(`{"deviceId":"cli-test-device","os":"android"}`))
	if err != nil {
		t.Fatal(err)
	}
	var reg struct {
		DeviceToken string `json:"deviceToken"`
	}
	json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(reg.DeviceToken, "esd_") {
		t.Errorf("register: %d %+v", resp.StatusCode, reg)
	}
	for _, name := range []string{"admin", "mobile", "webhook", "customer"} {
		resp, err = http.Get("http://" + a[name] + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("%s serves /metrics", name)
		}
	}
	resp, err = http.Get("http://" + a["ops"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "# TYPE esign_signing_certificate_expiry_seconds gauge") {
		t.Error("metrics lack the signing certificate's expiry")
	}
	if !strings.Contains(string(metrics), `esign_http_requests_total{code="200",listener="admin",method="GET"}`) {
		t.Errorf("metrics lack the admin requests:\n%s", metrics)
	}
	if !strings.Contains(string(metrics), `esign_cron_last_run_timestamp_seconds{job="OfferTimeout"}`) {
		t.Errorf("metrics lack the schedules' last runs:\n%s", metrics)
	}
	resp, err = http.Get("http://" + a["admin"] + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); csp == "" {
		t.Error("admin page has no CSP")
	}
	if _, err := os.Stat(filepath.Join(dir, "esign.db")); err != nil {
		t.Errorf("SQLite database not created: %v", err)
	}
	pwFile := filepath.Join(dir, initialPasswordFile)
	if fi, err := os.Stat(pwFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("initial admin password file: %v %v", fi, err)
	}

	cancel() // Ctrl-C
	select {
	case r := <-done:
		if r.code != 0 {
			t.Errorf("exit status %d after Ctrl-C: %s", r.code, r.err)
		}
		if !strings.Contains(r.out, "Admin UI") || !strings.Contains(r.out, "Customer UI") || !strings.Contains(r.out, `user "admin", password in `) {
			t.Errorf("banner lacks the URLs:\n%s", r.out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("esign all did not stop after Ctrl-C")
	}
}

func TestBadConfiguration(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		args    []string
		code    int
		want    string
	}{
		{"unknown_key", []string{"ESIGN_LISTEN_ADMN=1"}, []string{"all"}, 2, "ESIGN_LISTEN_ADMN"},
		{"bad_port", []string{"ESIGN_LISTEN_ADMIN=127.0.0.1:99999"}, []string{"all"}, 2, `listen.admin (from ESIGN_LISTEN_ADMIN): invalid port "99999"`},
		{"unreachable_postgres", []string{"ESIGN_DATABASE_DRIVER=postgres", "ESIGN_DATABASE_URL=postgres://esign:pw@127.0.0.1:1/esign?connect_timeout=2", testKeys}, []string{"oss"}, 1, "127.0.0.1:1"},
		{"unknown_command", nil, []string{"frobnicate"}, 2, "unknown command"},
		{"bad_flag", nil, []string{"all", "--nope"}, 2, "flag provided but not defined"},
		{"migrate_without_action", nil, []string{"migrate"}, 2, "usage: esign migrate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append(testEnviron(t.TempDir()), tt.environ...)
			code, _, errs := run(t, t.Context(), env, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit status %d, want %d (stderr %q)", code, tt.code, errs)
			}
			if !strings.Contains(errs, tt.want) {
				t.Errorf("stderr %q lacks %q", errs, tt.want)
			}
			if lines := strings.Count(strings.TrimSpace(errs), "\n"); lines > 3 && tt.name != "bad_flag" {
				t.Errorf("error is not short:\n%s", errs)
			}
			if strings.Contains(errs, "goroutine ") || strings.Contains(errs, ":pw@") {
				t.Errorf("stderr has a stack trace or a secret:\n%s", errs)
			}
		})
	}
}

func TestConfigCommandMasksSecrets(t *testing.T) {
	env := append(testEnviron(t.TempDir()), "ESIGN_BUS_AMQP_URL=amqp://esign:hunter2@127.0.0.1:5672/", "ESIGN_TSA_PASSWORD=tsa-pass")
	code, out, errs := run(t, t.Context(), env, nil, "config")
	if code != 0 {
		t.Fatalf("status %d: %s", code, errs)
	}
	if strings.Contains(out, "hunter2") || strings.Contains(out, "tsa-pass") {
		t.Errorf("secrets shown:\n%s", out)
	}
	if !strings.Contains(out, "bus.amqp_url = amqp://esign:********@127.0.0.1:5672/") {
		t.Errorf("masked URL missing:\n%s", out)
	}
}

// testEngines are the two database columns: the environment each adds.
var testEngines = []struct {
	name    string
	environ func(t *testing.T) []string
}{
	{"sqlite", func(t *testing.T) []string { return nil }},
	{"postgres", func(t *testing.T) []string {
		return []string{"ESIGN_DATABASE_DRIVER=postgres", "ESIGN_DATABASE_URL=" + esigntest.PostgresSchemaURL(t), testKeys}
	}},
}

func TestMigrate(t *testing.T) {
	for _, e := range testEngines {
		t.Run(e.name, func(t *testing.T) {
			env := append(testEnviron(t.TempDir()), e.environ(t)...)
			for _, action := range []string{"up", "status", "down", "up", "up"} {
				code, out, errs := run(t, t.Context(), env, nil, "migrate", action)
				if code != 0 {
					t.Fatalf("migrate %s: status %d: %s", action, code, errs)
				}
				if out == "" {
					t.Errorf("migrate %s printed no status", action)
				}
			}
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	code, out, _ := run(t, t.Context(), nil, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "esign ") {
		t.Errorf("version: %d %q", code, out)
	}
	code, out, _ = run(t, t.Context(), nil, nil, "help")
	if code != 0 || !strings.Contains(out, "migrate") {
		t.Errorf("help: %d %q", code, out)
	}
}

func TestUserCreate(t *testing.T) {
	env := testEnviron(t.TempDir())
	var out, errb bytes.Buffer
	code := Run(t.Context(), Env{Args: []string{"user", "create", "--username", "anna", "--role", "auditor", "--password-stdin"}, Stdin: strings.NewReader("correct horse battery\n"), Stdout: &out, Stderr: &errb, Environ: env})
	if code != 0 {
		t.Fatalf("status %d: %s", code, errb.String())
	}
	if strings.Contains(out.String(), "correct horse") {
		t.Error("a given password was echoed")
	}
	code, out2, errs := run(t, t.Context(), env, nil, "user", "create", "--username", "anna")
	if code != 1 || !strings.Contains(errs, "exists already") {
		t.Errorf("duplicate: %d %q", code, errs)
	}
	code, out2, errs = run(t, t.Context(), env, nil, "user", "create", "--username", "bela", "--role", "root")
	if code == 0 || !strings.Contains(errs, "unknown role") {
		t.Errorf("unknown role: %d %q", code, errs)
	}
	code, out2, errs = run(t, t.Context(), env, nil, "user", "create", "--username", "csaba")
	if code != 0 || !strings.Contains(out2, "password: ") {
		t.Errorf("generated password: %d %q %q", code, out2, errs)
	}
}

// TestUserReset2FA: an operator who lost the authenticator app enrols
// again at the next sign-in, unlocked.
func TestUserReset2FA(t *testing.T) {
	dir := t.TempDir()
	env := testEnviron(dir)
	if code, _, errs := run(t, t.Context(), env, nil, "user", "create", "--username", "dora"); code != 0 {
		t.Fatal(errs)
	}
	db, err := sqlstore.Open(t.Context(), sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(dir, "esign.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.GetUserByUsername(t.Context(), "dora")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.BeginSecondFactor(t.Context(), u.ID, []byte("sealed secret")); err != nil {
		t.Fatal(err)
	}
	if err := db.ConfirmSecondFactor(t.Context(), u.ID, 42, []string{"h1"}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := db.AddUserLoginFailure(t.Context(), u.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errs := run(t, t.Context(), env, nil, "user", "reset-2fa", "--username", "dora")
	if code != 0 || !strings.Contains(out, "sets up the authenticator app again") {
		t.Fatalf("reset-2fa: %d %q %q", code, out, errs)
	}
	f, err := db.UserSecondFactor(t.Context(), u.ID)
	if err != nil || f.Enrolled() {
		t.Errorf("second factor after the reset: %+v %v", f, err)
	}
	if n, _, _ := db.UserLoginFailures(t.Context(), u.ID); n != 0 {
		t.Errorf("%d failures after the reset", n)
	}
	logs, err := db.ListAuditLogs(t.Context(), esign.AuditLogFilter{Action: "user.second_factor_reset", ObjectID: u.ID})
	if err != nil || len(logs) != 1 {
		t.Errorf("audit %+v %v", logs, err)
	}
	code, _, errs = run(t, t.Context(), env, nil, "user", "reset-2fa", "--username", "nobody")
	if code == 0 || !strings.Contains(errs, "no operator named") {
		t.Errorf("unknown user: %d %q", code, errs)
	}
}

func TestEnsureInitialAdmin(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlstore.Open(t.Context(), sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(dir, "esign.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.MigrateUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	file, err := ensureInitialAdmin(t.Context(), db, dir)
	if err != nil || file == "" {
		t.Fatalf("first start: %q, %v", file, err)
	}
	pw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.GetUserByUsername(t.Context(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := password.Verify(strings.TrimSpace(string(pw)), u.PasswordHash); err != nil {
		t.Errorf("the password in the file does not log in: %v", err)
	}
	perms, err := db.UserPermissions(t.Context(), u.ID)
	if err != nil || len(perms) == 0 {
		t.Errorf("admin has no permissions: %v %v", perms, err)
	}
	// A second start creates nobody and keeps pointing at the file.
	if again, err := ensureInitialAdmin(t.Context(), db, dir); err != nil || again != file {
		t.Errorf("second start: %q, %v", again, err)
	}
	os.Remove(file)
	if again, err := ensureInitialAdmin(t.Context(), db, dir); err != nil || again != "" {
		t.Errorf("after the file was deleted: %q, %v", again, err)
	}
	users, _ := db.ListUsers(t.Context(), esign.UserFilter{})
	if len(users) != 1 {
		t.Errorf("%d operators, want 1", len(users))
	}
}

// testKeys is an envelope key for tests that run the production column.
const testKeys = "ESIGN_CRYPTO_KEYS=test:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// startProcess runs `esign <name>` until the test ends and returns the bound
// listener addresses.
func startProcess(t testing.TB, name string, environ []string) map[string]string {
	t.Helper()
	return startTracedProcess(t, name, environ, nil)
}

// startTracedProcess is startProcess with the process's spans sent to
// spans (none when nil).
func startTracedProcess(t testing.TB, name string, environ []string, spans sdktrace.SpanExporter) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	addrs := make(chan map[string]string, 1)
	done := make(chan string, 1)
	go func() {
		var out, errb bytes.Buffer
		code := Run(ctx, Env{Args: []string{name}, Stdout: &out, Stderr: &errb, Environ: environ,
			Ready: func(a map[string]string) { addrs <- a }, Spans: spans})
		done <- fmt.Sprintf("exit %d: %s", code, errb.String())
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case r := <-done:
			if !strings.HasPrefix(r, "exit 0") {
				t.Errorf("esign %s: %s", name, r)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("esign %s did not stop", name)
		}
	})
	select {
	case a := <-addrs:
		return a
	case r := <-done:
		t.Fatalf("esign %s exited early: %s", name, r)
	case <-time.After(60 * time.Second):
		t.Fatalf("esign %s did not start", name)
	}
	return nil
}

func TestTSAProcessIssuesVerifiableTokens(t *testing.T) {
	dir := t.TempDir()
	a := startProcess(t, "tsa", testEnviron(dir))
	bundle, err := os.ReadFile(filepath.Join(dir, "pki", pki.FileCABundle))
	if err != nil {
		t.Fatalf("CA bundle not exported: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(bundle) {
		t.Fatal("CA bundle holds no certificate")
	}
	digest := sha256.Sum256([]byte("offer.pdf"))
	// docs/tsa.md names POST /tsa; / answers too (earlier configurations)
	for _, path := range []string{"/tsa", "/"} {
		c := &tsa.Client{URL: "http://" + a["tsa"] + path, Roots: roots}
		tok, err := c.Timestamp(t.Context(), digest[:], crypto.SHA256)
		if err != nil {
			t.Fatalf("timestamp from the built-in TSA at %s: %v", path, err)
		}
		if tok.Info.Policy.String() != "1.3.6.1.4.1.32473.1" {
			t.Errorf("%s: policy %v", path, tok.Info.Policy)
		}
	}
	if resp, err := http.Post("http://"+a["tsa"]+"/other", tsa.QueryMediaType, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /other: %d, want 404", resp.StatusCode)
	}
	resp, err := http.Get("http://" + a["tsa"] + "/pki/ca.crl")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pkix-crl" {
		t.Errorf("CRL: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The keys at rest are sealed with the envelope, not plain PEM.
	key, err := os.ReadFile(filepath.Join(dir, "pki", pki.FileSignerKey))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(key), "BEGIN PRIVATE KEY") || strings.Contains(string(key), "BEGIN RSA PRIVATE KEY") {
		t.Error("the signer key is stored in the clear")
	}
}

// TestProductionProcesses runs oss, css and cron as separate processes on
// PostgreSQL and RabbitMQ, as a bank deploys them, and checks that they find
// each other over the bus.
func TestProductionProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes against PostgreSQL and RabbitMQ")
	}
	amqpURL := esigntest.ServerURL(t, esigntest.AMQPURLEnv)
	pgURL := esigntest.PostgresSchemaURL(t)
	redisURL := esigntest.ServerURL(t, esigntest.RedisURLEnv)
	ns := testBusNamespace(t, amqpURL)
	env := append(testEnviron(t.TempDir()), "ESIGN_DATABASE_DRIVER=postgres", "ESIGN_DATABASE_URL="+pgURL, testKeys, "ESIGN_BUS_AMQP_URL="+amqpURL, "ESIGN_REDIS_URL="+redisURL, "ESIGN_BUS_NAMESPACE="+ns)
	if code, _, errs := run(t, t.Context(), env, nil, "migrate", "up"); code != 0 {
		t.Fatalf("migrate up: %s", errs)
	}
	oss := startProcess(t, "oss", env)
	css := startProcess(t, "css", env)
	cron := startProcess(t, "cron", env)
	pdfsvc := startProcess(t, "pdfservice", env)
	ready := func(addr string, checks ...string) error {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var body struct {
			Status string            `json:"status"`
			Checks map[string]string `json:"checks"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			return err
		}
		for _, c := range checks {
			if body.Checks[c] != "ok" {
				return fmt.Errorf("%s: %d %+v", c, resp.StatusCode, body)
			}
		}
		if resp.StatusCode != 200 || body.Status != "ok" {
			return fmt.Errorf("%d %+v", resp.StatusCode, body)
		}
		return nil
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		errOSS := ready(oss["ops"], "database", "redis", "css", "cron")
		errCSS := ready(css["ops"], "system_config")
		errCron := ready(cron["ops"], "database", "schedules")
		if errOSS == nil && errCSS == nil && errCron == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 30 s: oss %v; css %v; cron %v", errOSS, errCSS, errCron)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// pdfservice on PostgreSQL has no development fallback: it is not
	// ready until the bank's certificate is imported.
	if err := ready(pdfsvc["ops"], "signing_certificate"); err == nil || !strings.Contains(err.Error(), "no active signing certificate") {
		t.Fatalf("pdfservice without a certificate: %v", err)
	}
	// Its own listener says only that it is not ready.
	if err := ready(pdfsvc["pdfservice"]); err == nil || strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), "503") {
		t.Fatalf("pdfservice's bare /readyz without a certificate: %v", err)
	}
	dev, _, err := pki.OpenDev(filepath.Join(t.TempDir(), "pki"), pki.DevOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p12, err := pkcs12.Modern.Encode(dev.Signer.Key, dev.Signer.Certificate, dev.Signer.Chain, "bank-p12-pw")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bank.p12"), p12, 0o600)
	os.WriteFile(filepath.Join(dir, "pw"), []byte("bank-p12-pw\n"), 0o600)
	code, out, errs := run(t, t.Context(), env, nil, "cert", "import", "--p12", filepath.Join(dir, "bank.p12"), "--password-file", filepath.Join(dir, "pw"), "--activate")
	if code != 0 || !strings.Contains(out, "imported and activated") {
		t.Fatalf("cert import: %d %q %q", code, out, errs)
	}
	if code, _, errs := run(t, t.Context(), env, nil, "cert", "import", "--p12", filepath.Join(dir, "bank.p12"), "--password-file", filepath.Join(dir, "pw")); code != 1 || !strings.Contains(errs, "imported already") {
		t.Errorf("second import: %d %q", code, errs)
	}
	if err := ready(pdfsvc["ops"], "signing_certificate"); err != nil {
		t.Fatalf("pdfservice after the import: %v", err)
	}

	// Seal a PDF through the pdfservice process over RabbitMQ.
	b, err := amqp.Dial(t.Context(), amqp.Options{URL: amqpURL, Name: "cli-test-preparer", Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	in, outPDF := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	os.WriteFile(in, pdftest.Minimal(1), 0o600)
	if err := pades.SignFile(t.Context(), in, outPDF, pades.SignOptions{Level: pades.LevelBB, CMS: &seal.Client{Bus: b}}); err != nil {
		t.Fatalf("seal through pdfservice: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(dev.CA.Certificate)
	rep, err := pades.VerifyFile(t.Context(), outPDF, pades.VerifyOptions{Roots: roots})
	if err != nil || !rep.Valid() {
		t.Fatalf("sealed PDF: %v\n%v", err, rep)
	}

	// Every process serves the metric names of the golden list.
	tsaProc := startProcess(t, "tsa", testEnviron(t.TempDir()))
	if err := ready(tsaProc["ops"]); err != nil {
		t.Fatalf("tsa: %v", err)
	}
	checkMetricNames(t, scrapeNames(t, oss["ops"], css["ops"], cron["ops"], pdfsvc["ops"], tsaProc["ops"]))
}

// testBusNamespace returns a bus namespace of t's own for the processes of
// a test on the shared broker, and deletes the queues and exchanges of the
// specification's names in it when t ends (after the processes stopped).
func testBusNamespace(t testing.TB, amqpURL string) string {
	t.Helper()
	ns := bustest.Namespace(t)
	t.Cleanup(func() {
		names := map[string]bool{}
		for _, q := range bus.Queues {
			names[bus.Qualify(ns, q)] = false
		}
		for _, s := range bus.Streams {
			names[bus.Qualify(ns, s)] = true
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := amqp.DeleteTopology(ctx, amqpURL, names); err != nil {
			t.Errorf("delete the test's queues: %v", err)
		}
	})
	return ns
}

func TestSeparateProcessNeedsRabbitMQ(t *testing.T) {
	code, _, errs := run(t, t.Context(), testEnviron(t.TempDir()), nil, "css")
	if code != 2 || !strings.Contains(errs, "bus.amqp_url must be set") {
		t.Errorf("css without a bus: %d %q", code, errs)
	}
}

func TestCronRun(t *testing.T) {
	env := testEnviron(t.TempDir())
	if code, _, errs := run(t, t.Context(), env, nil, "migrate", "up"); code != 0 {
		t.Fatalf("migrate: %s", errs)
	}
	for _, name := range []string{"OfferTimeout", "DeleteDocuments", "DeleteExpiredURL", "AuditAnchor", "ArchiveRenewal"} {
		t.Run(name, func(t *testing.T) {
			code, out, errs := run(t, t.Context(), env, nil, "cron", "run", name)
			if code != 0 || !strings.Contains(out, name+" succeeded") {
				t.Errorf("status %d, stdout %q, stderr %q", code, out, errs)
			}
		})
	}
	if code, _, errs := run(t, t.Context(), env, nil, "cron", "run", "Nope"); code != 2 || !strings.Contains(errs, "OfferTimeout|DeleteDocuments|DeleteExpiredURL|AuditAnchor|ArchiveRenewal") {
		t.Errorf("unknown job: %d %q", code, errs)
	}
	if code, _, errs := run(t, t.Context(), append(env, "ESIGN_CRON_OFFER_TIMEOUT=every monday"), nil, "cron", "run", "OfferTimeout"); code != 2 || !strings.Contains(errs, "cron.offer_timeout") {
		t.Errorf("bad schedule: %d %q", code, errs)
	}
	if code, _, errs := run(t, t.Context(), append(env, "ESIGN_CRON_ARCHIVE_RENEWAL=0 4 * *"), nil, "cron", "run", "ArchiveRenewal"); code != 2 || !strings.Contains(errs, "cron.archive_renewal") {
		t.Errorf("bad schedule: %d %q", code, errs)
	}
}

func TestProcessRefusesAnOldSchema(t *testing.T) {
	env := testEnviron(t.TempDir())
	code, _, errs := run(t, t.Context(), env, nil, "cron")
	if code != 1 || !strings.Contains(errs, "run 'esign migrate up'") {
		t.Errorf("cron on an empty database: %d %q", code, errs)
	}
}

// TestOutboxAcrossProcesses: `esign cron run OfferTimeout` expires an offer
// and enqueues the customer's notification in the same transaction; the
// running `esign all` delivers it to the development inbox.
func TestOutboxAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for an offer to expire")
	}
	dir := t.TempDir()
	env := testEnviron(dir)
	startProcess(t, "all", env)
	db, err := sqlstore.Open(t.Context(), sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(dir, "esign.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := &esign.Customer{ExternalRef: "C-1", Name: "Kovács Anna", Phone: "+36301234567", Locale: "hu-HU", Status: esign.CustomerActive}
	if err := db.CreateCustomer(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	o := &esign.Offer{CustomerID: c.ID, Title: "Lakáshitel", ExpiresAt: time.Now().Add(1500 * time.Millisecond)}
	if err := db.CreateOffer(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	code, out, errs := run(t, t.Context(), env, nil, "cron", "run", "OfferTimeout")
	if code != 0 || !strings.Contains(out, "OfferTimeout succeeded") {
		t.Fatalf("cron run: %d %q %q", code, out, errs)
	}
	got, err := db.GetOffer(t.Context(), o.ID)
	if err != nil || got.State != esign.OfferExpired {
		t.Fatalf("offer after OfferTimeout: %+v, %v", got, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		msgs, err := db.Inbox().ListInboxMessages(t.Context(), inbox.Filter{Channel: notify.SMS, To: c.Phone})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 1 {
			if !strings.Contains(msgs[0].Text, "Lakáshitel") {
				t.Errorf("SMS body %q does not name the offer", msgs[0].Text)
			}
			break
		}
		if len(msgs) > 1 || time.Now().After(deadline) {
			t.Fatalf("%d SMS in the inbox, want exactly 1", len(msgs))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestBadBusNamespace(t *testing.T) {
	code, _, errs := run(t, t.Context(), testEnviron(t.TempDir(), "ESIGN_BUS_NAMESPACE=Bank A"), nil, "css")
	if code != 2 || !strings.Contains(errs, "bus.namespace") {
		t.Errorf("css with a bad bus.namespace: %d %q", code, errs)
	}
}

func TestCertList(t *testing.T) {
	env := testEnviron(t.TempDir())
	if code, _, errs := run(t, t.Context(), env, nil, "cert", "list"); code != 1 || !strings.Contains(errs, "run 'esign migrate up'") {
		t.Errorf("before migrating: %d %q", code, errs)
	}
	if code, _, errs := run(t, t.Context(), env, nil, "migrate", "up"); code != 0 {
		t.Fatalf("migrate: %s", errs)
	}
	code, out, errs := run(t, t.Context(), env, nil, "cert", "list")
	if code != 0 || out != "no certificates; import one with: esign cert import --p12 FILE --password-file FILE --activate\n" {
		t.Errorf("empty list: %d %q %q", code, out, errs)
	}
	if code, _, errs := run(t, t.Context(), env, nil, "cert", "import", "--dev", "--activate"); code != 0 {
		t.Fatalf("cert import --dev: %s", errs)
	}
	code, out, errs = run(t, t.Context(), env, nil, "cert", "list")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, "(active)") {
		t.Errorf("one certificate: %d %q %q", code, out, errs)
	}
}
