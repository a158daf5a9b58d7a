package cli

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"esign/internal/esigntest"
	"esign/internal/pades"
	"esign/internal/pki"
)

// TestDemoOnAll runs `esign demo` against `esign all`: the reference
// device client onboards, signs an offer of two PDFs with M1/M2 through
// the mobile API and the built-in TSA, pdfservice seals over the
// in-process bus, the SMS codes pass through the job queue into the
// development inbox; the sealed PDFs it writes verify (PAdES B-LT: the
// development CA answers OCSP at the built-in TSA) in our verifier and in
// pdfsig, qpdf and openssl.
func TestDemoOnAll(t *testing.T) {
	if testing.Short() {
		t.Skip("waits between time-stamps for the TSA's accuracy")
	}
	dir := t.TempDir()
	// The customer service asks the built-in TSA at its configured
	// address, so it needs a fixed port.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tsaAddr := l.Addr().String()
	l.Close()
	var env []string
	for _, e := range testEnviron(dir) {
		if strings.HasPrefix(e, "ESIGN_LISTEN_TSA=") {
			e = "ESIGN_LISTEN_TSA=" + tsaAddr
		}
		env = append(env, e)
	}
	addrs := startProcess(t, "all", env)
	out := filepath.Join(dir, "out")
	code, stdout, stderr := run(t, t.Context(), env, nil, "demo", "--mobile", "http://"+addrs["mobile"], "--out", out)
	if code != 0 || !strings.HasSuffix(stdout, "signed.\n") || strings.Count(stdout, "valid, PAdES B-LT") != 2 {
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
		if err != nil || !rep.Valid() || rep.Signatures[0].Level != "B-LT" {
			t.Fatalf("%s: %v\n%s", f, err, rep.Summary())
		}
		validateElsewhere(t, f, b, caFile, rep.Signatures[0].ByteRange)
	}
	// Without a running system the demo fails with a message.
	if code, _, stderr := run(t, t.Context(), env, nil, "demo", "--mobile", "http://127.0.0.1:1"); code == 0 || stderr == "" {
		t.Fatalf("demo without a server: exit %d, %q", code, stderr)
	}
}

// TestDemoProduction runs `esign demo` against the production deployment:
// oss, pdfservice and the TSA as separate processes over RabbitMQ,
// PostgreSQL and Redis, with the bank's certificate imported.
func TestDemoProduction(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes against PostgreSQL, RabbitMQ and Redis")
	}
	amqpURL := esigntest.ServerURL(t, esigntest.AMQPURLEnv)
	pgURL := esigntest.PostgresSchemaURL(t)
	redisURL := esigntest.ServerURL(t, esigntest.RedisURLEnv)
	dataDir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tsaAddr := l.Addr().String()
	l.Close()
	var env []string
	for _, e := range testEnviron(dataDir) {
		if strings.HasPrefix(e, "ESIGN_LISTEN_TSA=") {
			e = "ESIGN_LISTEN_TSA=" + tsaAddr
		}
		env = append(env, e)
	}
	env = append(env, "ESIGN_DATABASE_DRIVER=postgres", "ESIGN_DATABASE_URL="+pgURL, testKeys,
		"ESIGN_BUS_AMQP_URL="+amqpURL, "ESIGN_BUS_NAMESPACE="+testBusNamespace(t, amqpURL), "ESIGN_REDIS_URL="+redisURL)
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
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bank.p12"), p12, 0o600)
	os.WriteFile(filepath.Join(dir, "pw"), []byte("bank-p12-pw\n"), 0o600)
	if code, out, errs := run(t, t.Context(), env, nil, "cert", "import", "--p12", filepath.Join(dir, "bank.p12"),
		"--password-file", filepath.Join(dir, "pw"), "--activate"); code != 0 {
		t.Fatalf("cert import: %d %q %q", code, out, errs)
	}
	oss := startProcess(t, "oss", env)
	startProcess(t, "pdfservice", env)
	code, stdout, stderr := run(t, t.Context(), env, nil, "demo", "--mobile", "http://"+oss["mobile"], "--out", dir)
	if code != 0 || !strings.HasSuffix(stdout, "signed.\n") || strings.Count(stdout, "valid, PAdES B-LT") != 2 {
		t.Fatalf("esign demo: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// validateElsewhere checks a sealed PDF with tools nobody here wrote:
// qpdf's structure check, poppler's pdfsig with the CA trusted in an NSS
// database (OCSP checking on), and openssl cms over the signed byte ranges.
func validateElsewhere(t *testing.T, path string, pdf []byte, caFile string, br []int64) {
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
	out := runTool("pdfsig", "-nssdir", nss, path)
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
