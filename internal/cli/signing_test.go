package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"esign/internal/demo"
	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pki"
	"esign/internal/webhookapi"
)

// demoEnviron is testEnviron for `esign all` under the demo: the customer
// service asks the built-in TSA at its configured address, so that one
// needs a fixed port.
func demoEnviron(t testing.TB, dir string, extra ...string) []string {
	t.Helper()
	return append(testEnviron(dir, extra...), "ESIGN_LISTEN_TSA="+freeAddr(t))
}

// demoFlags points esign demo at the listeners of a started process.
func demoFlags(addrs map[string]string, extra ...string) []string {
	return append([]string{"demo", "--webhook", "http://" + addrs["webhook"], "--mobile", "http://" + addrs["mobile"],
		"--inbox", "http://" + addrs["webhook"] + webhookapi.DevInboxPath}, extra...)
}

// TestDemoOnAll runs `esign demo` against `esign all`, through the public
// interfaces only: the webhook API with the credentials `esign all`
// enabled for it creates and approves the customer and files the offer,
// the reference device client onboards and signs with M1/M2 through the
// mobile API and the built-in TSA, the SMS codes are read from the
// development inbox API, pdfservice seals over the in-process bus; the
// sealed PDFs it writes verify (PAdES B-LTA, seal.level's default: the
// development CA answers OCSP at the built-in TSA) in our verifier and in
// pdfsig, qpdf and openssl. (TestDemoOffline validates them with the
// servers stopped.)
func TestDemoOnAll(t *testing.T) {
	if testing.Short() {
		t.Skip("waits between time-stamps for the TSA's accuracy")
	}
	dir := t.TempDir()
	env := demoEnviron(t, dir)
	addrs := startProcess(t, "all", env)
	if fi, err := os.Stat(filepath.Join(dir, demoCredentialsFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("demo credentials: %v %v", fi, err)
	}
	out := filepath.Join(dir, "out")
	code, stdout, stderr := run(t, t.Context(), env, nil, demoFlags(addrs, "--out", out)...)
	if code != 0 || !strings.HasSuffix(stdout, "signed.\n") || strings.Count(stdout, "valid, PAdES B-LT") != 2 ||
		!strings.Contains(stdout, "customer esign-demo created") {
		t.Fatalf("esign demo: exit %d\n%s\n%s", code, stdout, stderr)
	}
	caFile := filepath.Join(dir, "pki", pki.FileCABundle)
	ca, err := os.ReadFile(filepath.Join(dir, "pki", pki.FileCABundle))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	files, err := filepath.Glob(filepath.Join(out, "esign-demo-*.pdf"))
	if err != nil || len(files) != 2 {
		t.Fatalf("files %v, %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := pades.Verify(t.Context(), bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{Roots: roots})
		if err != nil || !rep.Valid() || rep.Signatures[0].Level != "B-LTA" {
			t.Fatalf("%s: %v\n%s", f, err, rep.Summary())
		}
		validateElsewhere(t, f, b, caFile, rep.Signatures[0].ByteRange)
		// Offline, from the PDF alone: every Phase-4 check and the seal.
		code, stdout, stderr := run(t, t.Context(), env, nil, "evidence", "verify", "--trust", caFile, f)
		if code != 0 || !strings.Contains(stdout, "every check passed") || !strings.Contains(stdout, "signature2") {
			t.Fatalf("evidence verify %s: exit %d\n%s\n%s", f, code, stdout, stderr)
		}
		// A copy with one byte of the document changed fails, naming it.
		bad := bytes.Clone(b)
		bad[bytes.Index(bad, []byte("stream"))+10] ^= 1
		badFile := filepath.Join(dir, "tampered.pdf")
		if err := os.WriteFile(badFile, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		code, stdout, _ = run(t, t.Context(), env, nil, "evidence", "verify", "--trust", caFile, "--json", badFile)
		var er struct {
			OK     bool `json:"ok"`
			Checks []struct{ Name, Result string }
		}
		if code != 1 || json.Unmarshal([]byte(stdout), &er) != nil || er.OK {
			t.Fatalf("tampered copy: exit %d\n%s", code, stdout)
		}
		for _, c := range er.Checks {
			if (c.Name == "document" || c.Name == "seal") && c.Result != "FAIL" {
				t.Errorf("tampered copy: %s %s", c.Name, c.Result)
			}
		}
	}
	// The audit log the demo wrote (the customer's sign-ins among it) is
	// one intact chain.
	if code, stdout, stderr := run(t, t.Context(), env, nil, "audit", "verify"); code != 0 || !strings.Contains(stdout, "intact") {
		t.Fatalf("audit verify: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestDemoNothingAnswers: with no system running, esign demo says at once
// to start esign all (before it looks for credentials or waits for an SMS)
// and makes nothing.
func TestDemoNothingAnswers(t *testing.T) {
	closed := "http://" + freeAddr(t) // nobody listens there
	tests := []struct {
		name  string
		flags []string
	}{
		{"defaults", nil}, // the listeners of testEnviron: port 0
		{"urls", []string{"--webhook", closed, "--mobile", closed, "--inbox", closed + webhookapi.DevInboxPath}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			code, stdout, stderr := run(t, t.Context(), testEnviron(dir), nil, append([]string{"demo", "--out", dir}, tt.flags...)...)
			if code != 1 || !strings.Contains(stderr, "nothing answers at") || !strings.Contains(stderr, "start `esign all` first") {
				t.Fatalf("exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q: the demo did something", stdout)
			}
		})
	}
}

// TestDemoRerun: a run that fails after filing its offer revokes the offer
// and removes its device; an offer a killed run left open is revoked by
// the next run, which reuses the customer (created, credentials set and
// approved already) and signs.
func TestDemoRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("signs twice through esign all")
	}
	dir := t.TempDir()
	env := demoEnviron(t, dir, "ESIGN_TSA_ACCURACY=10ms")
	addrs := startProcess(t, "all", env)
	cfg, err := loadConfig(Env{Environ: env}, "")
	if err != nil {
		t.Fatal(err)
	}
	cred, err := readCredentials(filepath.Join(dir, demoCredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	user, pw, _ := strings.Cut(cred, ":")
	db, err := openToolDB(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// A run cancelled once its offer is filed.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out bytes.Buffer
	_, err = demo.Run(ctx, demo.Options{WebhookURL: "http://" + addrs["webhook"], MobileURL: "http://" + addrs["mobile"],
		InboxURL: "http://" + addrs["webhook"] + webhookapi.DevInboxPath, User: user, Password: pw, OutDir: t.TempDir(),
		Out: cancelOn{&out, "filed with two PDFs", cancel}})
	if !errors.Is(err, context.Canceled) || !strings.Contains(out.String(), "revoked: the run failed") || !strings.Contains(out.String(), "device removed") {
		t.Fatalf("cancelled run: %v\n%s", err, out.String())
	}
	cs, err := db.ListCustomers(t.Context(), esign.CustomerFilter{ExternalRef: demo.DefaultCustomerRef})
	if err != nil || len(cs) != 1 {
		t.Fatalf("customers %v %v", cs, err)
	}
	offers := func() []*esign.Offer {
		t.Helper()
		list, err := db.ListOffers(t.Context(), esign.OfferFilter{CustomerID: cs[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	if list := offers(); len(list) != 1 || list[0].State != esign.OfferRevoked {
		t.Fatalf("offers after the failed run: %+v", list)
	}
	apps, err := db.ListApps(t.Context(), esign.AppFilter{CustomerID: cs[0].ID})
	if err != nil || len(apps) != 1 || apps[0].Status != esign.AppRemoved {
		t.Fatalf("apps after the failed run: %+v %v", apps, err)
	}

	// What a killed run leaves: an open offer.
	up, _ := json.Marshal(map[string]any{"customer_ref": demo.DefaultCustomerRef, "title": "left open", "channel": "email",
		"expires_at": time.Now().Add(time.Hour), "documents": []map[string]string{{"name": "a.pdf",
			"content_base64": base64.StdEncoding.EncodeToString(pdftest.Minimal(1))}}})
	req, _ := http.NewRequest(http.MethodPost, "http://"+addrs["webhook"]+"/offer/upload", bytes.NewReader(up))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(user, pw)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %v %v", res, err)
	}
	res.Body.Close()

	code, stdout, stderr := run(t, t.Context(), env, nil, demoFlags(addrs, "--out", t.TempDir())...)
	if code != 0 || !strings.HasSuffix(stdout, "signed.\n") {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"customer esign-demo exists: reused", "credentials demo-", "exist: reused",
		"customer approved already", "revoked 1 offer(s) an earlier run left open"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("rerun output lacks %q:\n%s", want, stdout)
		}
	}
	states := map[esign.OfferState]int{}
	for _, o := range offers() {
		states[o.State]++
	}
	if states[esign.OfferRevoked] != 2 || states[esign.OfferSigned] != 1 || len(states) != 2 {
		t.Errorf("offers after the rerun: %v", states)
	}
}

// cancelOn cancels once a line with the text is written.
type cancelOn struct {
	w      io.Writer
	text   string
	cancel context.CancelFunc
}

func (c cancelOn) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(c.text)) {
		c.cancel()
	}
	return c.w.Write(p)
}

// TestDemoProduction runs `esign demo` against the production deployment:
// oss, pdfservice and the TSA as separate processes over RabbitMQ,
// PostgreSQL and Redis, with the bank's certificate imported and the
// webhook endpoints and the inbox API enabled with credentials from a file
// (as bench/demo.sh does).
func TestDemoProduction(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes against PostgreSQL, RabbitMQ and Redis")
	}
	p := startProduction(t)
	oss := startProcess(t, "oss", p.env)
	startProcess(t, "pdfservice", p.env)
	// Redis (rate limits per phone number) outlives the test: a customer
	// of its own, with a phone number of its own.
	ref := "esign-demo-" + strings.ToLower(rand.Text()[:10])
	code, stdout, stderr := run(t, t.Context(), p.env, nil, demoFlags(oss, "--webhook-credentials", p.credFile, "--customer-ref", ref, "--out", p.dir)...)
	if code != 0 || !strings.HasSuffix(stdout, "signed.\n") || strings.Count(stdout, "valid, PAdES B-LT") != 2 {
		t.Fatalf("esign demo: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// validateElsewhere checks a sealed PDF with tools nobody here wrote:
// qpdf's structure check, poppler's pdfsig with the CA trusted in an NSS
// database (OCSP checking on unless pdfsigFlags say -no-ocsp), and openssl
// cms over the signed byte ranges.
func validateElsewhere(t *testing.T, path string, pdf []byte, caFile string, br []int64, pdfsigFlags ...string) {
	t.Helper()
	runTool := func(name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(esigntest.Tool(t, name), args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	runTool("qpdf", "--check", path)
	nss := t.TempDir()
	runTool("certutil", "-N", "--empty-password", "-d", nss)
	runTool("certutil", "-A", "-n", "esign-ca", "-t", "CT,C,C", "-i", caFile, "-d", nss)
	out := runTool("pdfsig", append(append([]string{"-nssdir", nss}, pdfsigFlags...), path)...)
	if !strings.Contains(out, "Signature is Valid") || !strings.Contains(out, "Certificate is Trusted") {
		t.Fatalf("pdfsig:\n%s", out)
	}
	if len(br) != 4 {
		t.Fatalf("byte range %v", br)
	}
	// /Contents is the DER SignedData padded with zeros: cut it at the
	// length its outer SEQUENCE states.
	all, err := hex.DecodeString(strings.Trim(string(pdf[br[1]:br[2]]), "<>"))
	if err != nil {
		t.Fatal(err)
	}
	var outer asn1.RawValue
	if _, err := asn1.Unmarshal(all, &outer); err != nil {
		t.Fatalf("/Contents: %v", err)
	}
	sig := outer.FullBytes
	dir := t.TempDir()
	content := append(append([]byte{}, pdf[br[0]:br[0]+br[1]]...), pdf[br[2]:br[2]+br[3]]...)
	os.WriteFile(filepath.Join(dir, "content"), content, 0o600)
	os.WriteFile(filepath.Join(dir, "sig.der"), sig, 0o600)
	runTool("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", filepath.Join(dir, "sig.der"),
		"-content", filepath.Join(dir, "content"), "-CAfile", caFile, "-purpose", "any", "-out", os.DevNull)
}

// production is the environment of the production deployment's processes.
type production struct {
	env                    []string
	dataDir, dir, credFile string
}

// startProduction prepares the production deployment (PostgreSQL schema
// migrated, RabbitMQ namespace, Redis, the webhook endpoints and the inbox
// API with credentials from a file, as bench/demo.sh does), starts its TSA
// and imports the bank's certificate from the development PKI the TSA
// uses, so that one trust anchor (the data directory's) covers both. The
// caller starts oss, pdfservice and css.
func startProduction(t testing.TB) production {
	t.Helper()
	amqpURL := esigntest.ServerURL(t, esigntest.AMQPURLEnv)
	pgURL := esigntest.PostgresSchemaURL(t)
	redisURL := esigntest.ServerURL(t, esigntest.RedisURLEnv)
	dataDir := t.TempDir()
	dir := t.TempDir()
	credFile := filepath.Join(dir, "webhook-credentials")
	if err := os.WriteFile(credFile, []byte("demo:"+rand.Text()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var creds []string
	for _, k := range []string{"CUSTOMER_BOOTSTRAP", "CUSTOMER_SEND_ASSOCIATION_TOKEN", "CUSTOMER_APPROVE", "OFFER_UPLOAD", "OFFER_REVOKE", "DEV_INBOX"} {
		creds = append(creds, "ESIGN_WEBHOOK_"+k+"_FILE="+credFile)
	}
	env := demoEnviron(t, dataDir, append(creds, "ESIGN_DATABASE_DRIVER=postgres", "ESIGN_DATABASE_URL="+pgURL, testKeys,
		"ESIGN_BUS_AMQP_URL="+amqpURL, "ESIGN_BUS_NAMESPACE="+testBusNamespace(t, amqpURL), "ESIGN_REDIS_URL="+redisURL)...)
	if code, _, errs := run(t, t.Context(), env, nil, "migrate", "up"); code != 0 {
		t.Fatalf("migrate up: %s", errs)
	}
	startProcess(t, "tsa", env)
	// The bank's certificate from the development PKI the TSA uses, so
	// that one trust anchor (the data directory's) covers both.
	cfg, err := loadConfig(Env{Environ: env}, "")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := openKeyring(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := openDevPKI(cfg, keys, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	p12, err := pkcs12.Modern.Encode(dev.Signer.Key, dev.Signer.Certificate, dev.Signer.Chain, "bank-p12-pw")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "bank.p12"), p12, 0o600)
	os.WriteFile(filepath.Join(dir, "pw"), []byte("bank-p12-pw\n"), 0o600)
	if code, out, errs := run(t, t.Context(), env, nil, "cert", "import", "--p12", filepath.Join(dir, "bank.p12"),
		"--password-file", filepath.Join(dir, "pw"), "--activate"); code != 0 {
		t.Fatalf("cert import: %d %q %q", code, out, errs)
	}
	return production{env: env, dataDir: dataDir, dir: dir, credFile: credFile}
}
