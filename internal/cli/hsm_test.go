//go:build cgo

package cli

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/hsm/hsmtest"
	"esign/internal/pades"
	"esign/internal/pki"
	"esign/internal/tsa"
)

// TestDemoPKCS11 runs the demo with the bank's key in a SoftHSM2 token:
// the key is registered with esign cert import --key-label (its
// certificate read from the token), esign cert list says where it lives,
// the sealed contracts validate in our verifier, esign pdf verify, pdfsig
// and qpdf, and /readyz fails while the token is away.
func TestDemoPKCS11(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo (waits between time-stamps)")
	}
	tk := hsmtest.New(t, "bank", "2468")
	dir := t.TempDir()
	pinFile := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(pinFile, []byte(tk.PIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := demoEnviron(t, dir, "ESIGN_PKCS11_MODULE="+tk.Module, "ESIGN_PKCS11_PIN_FILE="+pinFile)
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
	pub := tk.GenerateECDSA(t, "seal", elliptic.P256())
	cert := tk.Issue(t, dev.CA, "seal", pub, dev.Signer.Certificate)
	chainFile := filepath.Join(t.TempDir(), "issuers.pem")
	os.WriteFile(chainFile, pki.CertificatesPEM(dev.Signer.Chain...), 0o600)

	if code, _, errs := run(t, t.Context(), env, nil, "migrate", "up"); code != 0 {
		t.Fatalf("migrate up: %s", errs)
	}
	// A wrong PIN is refused at import.
	badPIN := filepath.Join(t.TempDir(), "bad-pin")
	os.WriteFile(badPIN, []byte("0000\n"), 0o600)
	if code, _, errs := run(t, t.Context(), env, nil, "cert", "import", "--token-label", "bank", "--key-label", "seal", "--pin-file", badPIN); code == 0 || !strings.Contains(errs, "refused the PIN") {
		t.Fatalf("cert import with a wrong PIN: exit %d %s", code, errs)
	}
	if code, out, errs := run(t, t.Context(), env, nil, "cert", "import", "--token-label", "bank", "--key-label", "seal",
		"--chain", chainFile, "--activate"); code != 0 || !strings.Contains(out, "key pkcs11 token=bank;key=seal") {
		t.Fatalf("cert import: exit %d %s %s", code, out, errs)
	}
	if code, out, errs := run(t, t.Context(), env, nil, "cert", "list"); code != 0 || !strings.Contains(out, "key pkcs11 token=bank;key=seal (active)") {
		t.Fatalf("cert list: exit %d %s %s", code, out, errs)
	}

	addrs := startProcess(t, "all", env)
	outDir := filepath.Join(dir, "out")
	code, stdout, stderr := run(t, t.Context(), env, nil, demoFlags(addrs, "--out", outDir)...)
	if code != 0 || !strings.HasSuffix(stdout, "signed.\n") || strings.Count(stdout, "valid, PAdES B-LT") != 2 {
		t.Fatalf("esign demo: exit %d\n%s\n%s", code, stdout, stderr)
	}
	caFile := filepath.Join(dir, "pki", pki.FileCABundle)
	roots := x509.NewCertPool()
	roots.AddCert(dev.CA.Certificate)
	files, err := filepath.Glob(filepath.Join(outDir, "esign-demo-*.pdf"))
	if err != nil || len(files) != 2 {
		t.Fatalf("files %v, %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := pades.Verify(t.Context(), bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{Roots: roots})
		if err != nil || !rep.Valid() {
			t.Fatalf("%s: %v\n%s", f, err, rep.Summary())
		}
		if got := rep.Signatures[0].Signer.Subject; got != cert.Subject.String() {
			t.Fatalf("%s sealed by %q, want the HSM key's %q", f, got, cert.Subject)
		}
		// -no-ocsp: the development CA's OCSP responder knows only the
		// certificates of the development PKI and answers "unknown" for
		// the one this test issued to the token's key.
		validateElsewhere(t, f, b, caFile, rep.Signatures[0].ByteRange, "-no-ocsp")
		if code, out, errs := run(t, t.Context(), env, nil, "pdf", "verify", f); code != 0 {
			t.Errorf("esign pdf verify: exit %d\n%s%s", code, out, errs)
		}
	}

	// The token is pulled out: pdfservice is not ready; put back, it is.
	ready := func() (int, string) {
		resp, err := http.Get("http://" + addrs["ops"] + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Checks map[string]string }
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Checks["signing_certificate"]
	}
	if code, check := ready(); code != 200 {
		t.Fatalf("/readyz with the token: %d %s", code, check)
	}
	putBack := tk.Remove(t)
	if code, check := ready(); code == 200 || !strings.Contains(check, "PKCS#11") {
		t.Fatalf("/readyz without the token: %d %q", code, check)
	}
	putBack()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, check := ready()
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz with the token back: %d %q", code, check)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// A signing while the token is away: the seal fails (Unavailable),
	// its job waits and retries, and seals once the token is back.
	putBack = tk.Remove(t)
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	out2 := filepath.Join(dir, "out2")
	go func() {
		code, stdout, stderr := run(t, t.Context(), env, nil, demoFlags(addrs, "--out", out2)...)
		done <- result{code, stdout, stderr}
	}()
	// The token comes back once a seal job has failed for its absence.
	retries := func() string {
		resp, err := http.Get("http://" + addrs["ops"] + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		m, _ := io.ReadAll(resp.Body)
		return grepLines(string(m), `esign_job_attempts_total{kind="seal",outcome="retry"}`)
	}
	for deadline := time.Now().Add(90 * time.Second); strings.HasSuffix(retries(), " 0"); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			putBack()
			t.Fatalf("no seal job failed while the token was away: %s", retries())
		}
	}
	putBack()
	r := <-done
	if r.code != 0 || strings.Count(r.stdout, "valid, PAdES B-LT") != 2 {
		t.Fatalf("esign demo with the token away for a while: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	files, _ = filepath.Glob(filepath.Join(out2, "esign-demo-*.pdf"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		rep, err := pades.Verify(t.Context(), bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{Roots: roots})
		if err != nil || !rep.Valid() || rep.Signatures[0].Signer.Subject != cert.Subject.String() {
			t.Fatalf("%s: %v\n%s", f, err, rep.Summary())
		}
	}
	if len(files) != 2 {
		t.Fatalf("sealed files %v", files)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestTSAProcessPKCS11 runs esign tsa with its key in a SoftHSM2 token
// (tsa.pkcs11_key, tsa.certificate_file): its tokens verify and are signed
// by that certificate, and /readyz checks the token.
func TestTSAProcessPKCS11(t *testing.T) {
	tk := hsmtest.New(t, "tsa", "1357")
	dir := t.TempDir()
	pinFile := filepath.Join(t.TempDir(), "pin")
	os.WriteFile(pinFile, []byte(tk.PIN+"\n"), 0o600)
	env := testEnviron(dir)
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
	pub := tk.GenerateECDSA(t, "tsa-key", elliptic.P256())
	cert := tk.Issue(t, dev.CA, "tsa-key", pub, dev.TSA.Certificate)
	certFile := filepath.Join(t.TempDir(), "tsa.pem")
	os.WriteFile(certFile, pki.CertificatesPEM(append([]*x509.Certificate{cert}, dev.TSA.Chain...)...), 0o600)
	env = append(env, "ESIGN_PKCS11_MODULE="+tk.Module, "ESIGN_PKCS11_PIN_FILE="+pinFile,
		"ESIGN_TSA_PKCS11_KEY=token=tsa;key=tsa-key", "ESIGN_TSA_CERTIFICATE_FILE="+certFile)
	a := startProcess(t, "tsa", env)
	roots := x509.NewCertPool()
	roots.AddCert(dev.CA.Certificate)
	digest := sha256.Sum256([]byte("offer.pdf"))
	tok, err := (&tsa.Client{URL: "http://" + a["tsa"] + "/tsa", Roots: roots}).Timestamp(t.Context(), digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Signer.Equal(cert) {
		t.Fatalf("token signed by %s, want the token's key's certificate", tok.Signer.Subject)
	}
	ops := a["ops"]
	if ops == "" {
		ops = a["tsa"]
	}
	resp, err := http.Get("http://" + ops + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Checks map[string]string }
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 200 || body.Checks["tsa_key"] != "ok" {
		t.Fatalf("/readyz: %d %v", resp.StatusCode, body.Checks)
	}
}

// TestPDFServiceWrongPIN: pdfservice configured with a PIN the token
// refuses is not ready, and /readyz says why.
func TestPDFServiceWrongPIN(t *testing.T) {
	tk := hsmtest.New(t, "bank", "2468")
	dir := t.TempDir()
	goodPIN := filepath.Join(t.TempDir(), "pin")
	badPIN := filepath.Join(t.TempDir(), "bad-pin")
	os.WriteFile(goodPIN, []byte(tk.PIN+"\n"), 0o600)
	os.WriteFile(badPIN, []byte("1111\n"), 0o600)
	env := demoEnviron(t, dir, "ESIGN_PKCS11_MODULE="+tk.Module, "ESIGN_PKCS11_PIN_FILE="+badPIN)
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
	pub := tk.GenerateRSA(t, "seal", 2048)
	tk.Issue(t, dev.CA, "seal", pub, dev.Signer.Certificate)
	chainFile := filepath.Join(t.TempDir(), "issuers.pem")
	os.WriteFile(chainFile, pki.CertificatesPEM(dev.Signer.Chain...), 0o600)
	if code, _, errs := run(t, t.Context(), env, nil, "migrate", "up"); code != 0 {
		t.Fatalf("migrate up: %s", errs)
	}
	if code, out, errs := run(t, t.Context(), env, nil, "cert", "import", "--token-label", "bank", "--key-label", "seal",
		"--pin-file", goodPIN, "--chain", chainFile, "--activate"); code != 0 {
		t.Fatalf("cert import: exit %d %s %s", code, out, errs)
	}
	addrs := startProcess(t, "all", env)
	resp, err := http.Get("http://" + addrs["ops"] + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Checks map[string]string }
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode == 200 || !strings.Contains(body.Checks["signing_certificate"], "refused the PIN") {
		t.Fatalf("/readyz with a wrong PIN: %d %v", resp.StatusCode, body.Checks)
	}
}
