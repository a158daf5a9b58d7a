package cli

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"esign/internal/pades/padestest"
	"esign/internal/pdf/pdftest"
	"esign/internal/pki"
)

// TestPDFSignSuppliedRevocation: esign pdf sign at B-LT and B-LTA with a
// signer of a PKI whose certificates name no OCSP responder or CRL
// distribution point, the revocation data given with --crl and
// --ocsp-response; the development PKI's signer with its CA's CRL given
// the same way (used instead of asking the responder); refused, naming the
// certificate, when a certificate has no data, and an expired CRL not used.
func TestPDFSignSuppliedRevocation(t *testing.T) {
	dir := t.TempDir()
	env := append(testEnviron(dir), "ESIGN_LISTEN_TSA="+freeAddr(t))
	addrs := startProcess(t, "tsa", env)
	now := time.Now()
	p := padestest.NewOutsidePKI(t, now)
	file := func(name string, b []byte) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	in := file("offer.pdf", pdftest.Minimal(1))
	p12 := file("bank.p12", p.P12(t, "p12-pw"))
	pw := file("pw", []byte("p12-pw\n"))
	rootCRL := file("root.crl", p.CRL(t, true, now.Add(-time.Hour), now.Add(7*24*time.Hour)))
	caCRL := file("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: p.CRL(t, false, now.Add(-time.Hour), now.Add(7*24*time.Hour))}))
	oldCRL := file("old.crl", p.CRL(t, false, now.Add(-48*time.Hour), now.Add(-time.Hour)))
	signerOCSP := file("signer.ocsp", p.OCSP(t, ocsp.Good, now.Add(-time.Hour), now.Add(24*time.Hour)))
	bankRoot := file("bank-root.pem", p.RootPEM())
	devRoot := filepath.Join(dir, "pki", pki.FileCABundle)
	resp, err := http.Get("http://" + addrs["tsa"] + "/pki/ca.crl")
	if err != nil {
		t.Fatal(err)
	}
	devCRLBytes, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	devCRL := file("dev-ca.crl", devCRLBytes)

	type dss struct{ Certs, OCSPs, CRLs int }
	verify := func(t *testing.T, out, level string) dss {
		t.Helper()
		code, stdout, errs := run(t, t.Context(), env, nil, "pdf", "verify", "--json", "--trust", bankRoot, "--trust", devRoot, out)
		if code != 0 {
			t.Fatalf("verify: %d %s\n%s", code, errs, stdout)
		}
		var rep struct {
			DSS        dss `json:"dss"`
			Signatures []struct {
				Level string `json:"level"`
			} `json:"signatures"`
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil || len(rep.Signatures) == 0 || rep.Signatures[0].Level != level {
			t.Fatalf("report %+v %v\n%s", rep, err, stdout)
		}
		return rep.DSS
	}
	ok := []struct {
		name  string
		args  []string
		level string
		want  func(dss) bool
	}{
		{"crls", []string{"--p12", p12, "--p12-password-file", pw, "--crl", rootCRL, "--crl", caCRL}, "B-LT",
			func(d dss) bool { return d.CRLs == 2 && d.OCSPs == 1 }}, // the TSA's OCSP from its responder
		{"ocsp", []string{"--p12", p12, "--p12-password-file", pw, "--crl", rootCRL, "--ocsp-response", signerOCSP}, "B-LTA",
			func(d dss) bool { return d.CRLs == 1 && d.OCSPs == 2 }},
		{"dev_pki_crl", []string{"--crl", devCRL}, "B-LT",
			func(d dss) bool { return d.CRLs == 1 && d.OCSPs == 0 }}, // the supplied CRL (once, for the signer and the TSA), not the responder
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "signed.pdf")
			args := append(append([]string{"pdf", "sign", "--level", tt.level}, tt.args...), in, out)
			code, stdout, errs := run(t, t.Context(), env, nil, args...)
			if code != 0 || !strings.Contains(stdout, "PAdES "+tt.level) {
				t.Fatalf("sign: %d %q %s", code, stdout, errs)
			}
			if d := verify(t, out, tt.level); !tt.want(d) {
				t.Errorf("DSS %+v", d)
			}
		})
	}
	refused := []struct {
		name  string
		args  []string
		code  int
		wants []string
	}{
		{"no_data", nil, 1, []string{`"CN=Example Bank Seal,O=Example Bank"`, "names no OCSP responder or CRL", "--crl or --ocsp-response"}},
		{"issuing_ca_missing", []string{"--crl", caCRL}, 1, []string{`"CN=Example Bank Issuing CA,O=Example Bank"`}},
		{"expired_crl", []string{"--crl", rootCRL, "--crl", oldCRL}, 1, []string{"warning: CRL " + oldCRL + " expired at",
			`"CN=Example Bank Seal,O=Example Bank"`}},
		{"not_a_crl", []string{"--crl", signerOCSP}, 2, []string{"--crl: CRL " + signerOCSP + ": not a CRL"}},
		{"wrong_level", []string{"--level", "B-T", "--crl", rootCRL}, 2, []string{"for --level B-LT or B-LTA"}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "signed.pdf")
			args := append(append([]string{"pdf", "sign", "--level", "B-LT", "--p12", p12, "--p12-password-file", pw}, tt.args...), in, out)
			code, stdout, errs := run(t, t.Context(), env, nil, args...)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %q %s", code, tt.code, stdout, errs)
			}
			for _, w := range tt.wants {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output left behind: %v", err)
			}
		})
	}
}
