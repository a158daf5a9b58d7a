package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/esigntest"
	"esign/internal/pades"
	"esign/internal/pades/padestest"
	"esign/internal/pki"
)

// startStoppable is startProcess with a stop function that ends the
// process and waits for it (its listeners closed): what is checked after
// stop runs with the TSA, the development CA's OCSP responder and CRL
// server, pdfservice and every other listener of the process gone.
func startStoppable(t testing.TB, name string, environ []string) (map[string]string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	addrs := make(chan map[string]string, 1)
	done := make(chan string, 1)
	go func() {
		code, _, errs := run(t, ctx, environ, func(a map[string]string) { addrs <- a }, name)
		done <- fmt.Sprintf("exit %d: %s", code, errs)
	}()
	stopped := false
	stop := func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case r := <-done:
			if !strings.HasPrefix(r, "exit 0") {
				t.Errorf("esign %s: %s", name, r)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("esign %s did not stop", name)
		}
	}
	t.Cleanup(stop)
	select {
	case a := <-addrs:
		return a, stop
	case r := <-done:
		t.Fatalf("esign %s exited early: %s", name, r)
	case <-time.After(60 * time.Second):
		t.Fatalf("esign %s did not start", name)
	}
	return nil, stop
}

// checkOffline validates a sealed B-LTA contract with nothing to ask:
// the DSS the document time-stamp covers holds the validation data of the
// seal and of the time-stamps (padestest.CheckLTA), esign pdf verify
// reports B-LTA, openssl ts verifies the document time-stamp. The caller
// has stopped every server; tsaAddr is checked to refuse connections.
func checkOffline(t *testing.T, env []string, tsaAddr, path, caFile string, b []byte) {
	t.Helper()
	if c, err := net.DialTimeout("tcp", tsaAddr, time.Second); err == nil {
		c.Close()
		t.Fatalf("something still answers at the TSA's address %s", tsaAddr)
	}
	padestest.CheckLTA(t, b)
	code, stdout, errs := run(t, t.Context(), env, nil, "pdf", "verify", "--trust", caFile, path)
	if code != 0 || !strings.Contains(stdout, "B-LTA") {
		t.Fatalf("esign pdf verify: %d\n%s\n%s", code, stdout, errs)
	}
	n := 0
	for _, s := range padestest.Signatures(t, b) {
		if !s.DocTimeStamp {
			continue
		}
		n++
		dir := t.TempDir()
		os.WriteFile(dir+"/data", s.Signed, 0o600)
		os.WriteFile(dir+"/tok.der", s.CMS, 0o600)
		out, err := exec.Command(esigntest.Tool(t, "openssl"), "ts", "-verify", "-data", dir+"/data", "-in", dir+"/tok.der",
			"-token_in", "-CAfile", caFile).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl ts -verify (document time-stamp): %v\n%s", err, out)
		}
	}
	if n != 1 {
		t.Fatalf("%d document time-stamps, want 1", n)
	}
	// the DSS's revocation data, checked by openssl against the CA alone
	_, ocsps, crls := padestest.DSS(t, b)
	if len(ocsps)+len(crls) == 0 {
		t.Fatal("no revocation data in the DSS")
	}
	dir := t.TempDir()
	for i, der := range ocsps {
		f := fmt.Sprintf("%s/ocsp%d.der", dir, i)
		os.WriteFile(f, der, 0o600)
		out, err := exec.Command(esigntest.Tool(t, "openssl"), "ocsp", "-respin", f, "-CAfile", caFile, "-verify_other", caFile, "-resp_text").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Response verify OK") || !strings.Contains(string(out), "Cert Status: good") {
			t.Fatalf("openssl ocsp -respin (DSS OCSP response %d): %v\n%s", i, err, out)
		}
	}
	for i, der := range crls {
		f := fmt.Sprintf("%s/crl%d.der", dir, i)
		os.WriteFile(f, der, 0o600)
		out, err := exec.Command(esigntest.Tool(t, "openssl"), "crl", "-inform", "DER", "-in", f, "-CAfile", caFile, "-noout").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "verify OK") {
			t.Fatalf("openssl crl (DSS CRL %d): %v\n%s", i, err, out)
		}
	}
}

// TestDemoOffline: the contract `esign demo` gets sealed at B-LTA (the
// default seal.level) validates later with nothing to ask. esign all is
// stopped — the built-in TSA, the development CA's OCSP responder and CRL
// and pdfservice with it, their port checked to refuse connections — and
// then each sealed PDF verifies in our verifier (pades.Verify and esign pdf
// verify: B-LTA), pdfsig (with -no-ocsp: poppler reads no DSS, and with
// OCSP on the refused connection makes poppler 22.12 report "Unknown
// issue", docs/pades.md), qpdf --check, openssl cms on the extracted seal,
// openssl ts on the document time-stamp, openssl ocsp/crl on the DSS's
// revocation data, and padestest.CheckLTA on what the document time-stamp
// covers.
func TestDemoOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo through esign all")
	}
	dir := t.TempDir()
	env := demoEnviron(t, dir)
	addrs, stop := startStoppable(t, "all", env)
	out := filepath.Join(dir, "out")
	code, stdout, stderr := run(t, t.Context(), env, nil, demoFlags(addrs, "--out", out)...)
	if code != 0 || strings.Count(stdout, "valid, PAdES B-LTA") != 2 {
		t.Fatalf("esign demo: exit %d\n%s\n%s", code, stdout, stderr)
	}
	files, err := filepath.Glob(filepath.Join(out, "esign-demo-*.pdf"))
	if err != nil || len(files) != 2 {
		t.Fatalf("files %v, %v", files, err)
	}
	stop()
	caFile := filepath.Join(dir, "pki", pki.FileCABundle)
	ca, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := pades.Verify(t.Context(), bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{Roots: roots})
		if err != nil || !rep.Valid() || rep.Signatures[0].Level != "B-LTA" {
			t.Fatalf("%s: %v\n%s", f, err, rep.Summary())
		}
		checkOffline(t, env, addrs["tsa"], f, caFile, b)
		validateElsewhere(t, f, b, caFile, rep.Signatures[0].ByteRange, "-no-ocsp")
	}
}
