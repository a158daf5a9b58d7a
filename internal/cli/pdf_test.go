package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/esigntest"
	"esign/internal/pdf"
	"esign/internal/pdf/pdftest"
)

// freeAddr returns a loopback address with a port that was free a moment
// ago, for listeners whose URL must be known before they start (the dev
// PKI writes the TSA's URL into its certificates).
func freeAddr(t testing.TB) string { return esigntest.FreeAddr(t) }

func TestPDFSignAndVerify(t *testing.T) {
	dir := t.TempDir()
	env := append(testEnviron(dir), "ESIGN_LISTEN_TSA="+freeAddr(t))
	startProcess(t, "tsa", env)

	in := filepath.Join(dir, "offer.pdf")
	if err := os.WriteFile(in, pdftest.Minimal(2), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, _ := run(t, t.Context(), env, nil, "pdf", "verify", in)
	if code != 1 {
		t.Errorf("verify unsigned: status %d, want 1", code)
	}
	for _, level := range []string{"B-B", "B-T", "B-LT", "B-LTA"} {
		t.Run(level, func(t *testing.T) {
			out := filepath.Join(dir, "signed-"+level+".pdf")
			code, stdout, errs := run(t, t.Context(), env, nil, "pdf", "sign", "--level", level, "--visible", "--reason", "contract", in, out)
			if code != 0 {
				t.Fatalf("sign: status %d: %s", code, errs)
			}
			if !strings.Contains(stdout, "PAdES "+level) {
				t.Errorf("sign printed %q", stdout)
			}
			code, stdout, errs = run(t, t.Context(), env, nil, "pdf", "verify", "--json", out)
			if code != 0 {
				t.Fatalf("verify: status %d: %s\n%s", code, errs, stdout)
			}
			var rep struct {
				Signed     bool `json:"signed"`
				Signatures []struct {
					Level string `json:"level"`
				} `json:"signatures"`
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("--json output: %v\n%s", err, stdout)
			}
			if !rep.Signed || len(rep.Signatures) == 0 || rep.Signatures[0].Level != level {
				t.Errorf("report: %+v", rep)
			}

			// A byte changed inside the signed range breaks it.
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			i := strings.Index(string(data), "/MediaBox")
			data[i+1] = 'X'
			tampered := filepath.Join(dir, "tampered-"+level+".pdf")
			os.WriteFile(tampered, data, 0o600)
			if code, _, _ := run(t, t.Context(), env, nil, "pdf", "verify", tampered); code != 1 {
				t.Errorf("verify tampered: status %d, want 1", code)
			}
		})
	}
	// Not a PDF: 2, could not read.
	junk := filepath.Join(dir, "junk.pdf")
	os.WriteFile(junk, []byte("hello"), 0o600)
	if code, _, errs := run(t, t.Context(), env, nil, "pdf", "verify", junk); code != 2 || !strings.Contains(errs, "cannot read") {
		t.Errorf("verify junk: %d %q", code, errs)
	}
	// A foreign trust anchor: our signature does not chain to it.
	other := filepath.Join(t.TempDir(), "other-ca.pem")
	otherDir := t.TempDir()
	startProcess(t, "tsa", testEnviron(otherDir))
	bundle, _ := os.ReadFile(filepath.Join(otherDir, "pki", "ca-bundle.pem"))
	os.WriteFile(other, bundle, 0o600)
	if code, _, _ := run(t, t.Context(), env, nil, "pdf", "verify", "--trust", other, filepath.Join(dir, "signed-B-B.pdf")); code != 1 {
		t.Errorf("verify against another CA: status %d, want 1", code)
	}
}

func TestPDFSignErrors(t *testing.T) {
	dir := t.TempDir()
	env := append(testEnviron(dir), "ESIGN_LISTEN_TSA="+freeAddr(t)) // nobody listens there
	in := filepath.Join(dir, "in.pdf")
	os.WriteFile(in, pdftest.Minimal(1), 0o600)
	prefixed := filepath.Join(dir, "prefixed.pdf")
	os.WriteFile(prefixed, append([]byte("<html><script>alert(1)</script></html>\n"), pdftest.Minimal(1)...), 0o600)
	truncated := filepath.Join(dir, "truncated.pdf")
	os.WriteFile(truncated, pdftest.Minimal(1)[:300], 0o600)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"header_not_at_0", []string{"pdf", "sign", "--level", "B-B", prefixed, filepath.Join(dir, "o5.pdf")}, 1, "39 bytes precede the %PDF- header (HTML or script"},
		{"truncated", []string{"pdf", "sign", "--level", "B-B", truncated, filepath.Join(dir, "o6.pdf")}, 1, "not a readable PDF: its end has no startxref"},
		{"verify_truncated", []string{"pdf", "verify", truncated}, 2, "not a readable PDF: its end has no startxref"},
		{"tsa_down", []string{"pdf", "sign", in, filepath.Join(dir, "o1.pdf")}, 1, "is the TSA running?"},
		{"bad_level", []string{"pdf", "sign", "--level", "B-X", in, filepath.Join(dir, "o2.pdf")}, 2, "B-X"},
		{"missing_out", []string{"pdf", "sign", in}, 2, "usage"},
		{"wrong_p12", []string{"pdf", "sign", "--level", "B-B", "--p12", in, "--p12-password", "x", in, filepath.Join(dir, "o3.pdf")}, 1, ""},
		{"not_a_pdf", []string{"pdf", "sign", "--level", "B-B", filepath.Join(dir, "nothing.pdf"), filepath.Join(dir, "o4.pdf")}, 1, ""},
		{"encrypted_with_password", []string{"pdf", "sign", "--level", "B-B", encryptedFixture("aes256-user-password.pdf"), filepath.Join(dir, "o5.pdf")}, 1, "encrypted with a password: not supported"},
		{"encrypted_no_changes_allowed", []string{"pdf", "sign", "--level", "B-B", encryptedFixture("aes256-modify-none.pdf"), filepath.Join(dir, "o6.pdf")}, 1, "permission bit 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := run(t, t.Context(), env, nil, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.want) {
				t.Errorf("status %d (want %d), stderr %q (want %q)", code, tt.code, errs, tt.want)
			}
			if strings.Contains(errs, "syntax error") || strings.Contains(errs, "pdf_malformed") {
				t.Errorf("stderr shows parser internals: %q", errs)
			}
		})
	}
}

// encryptedFixture is a PDF encrypted by qpdf (internal/pdf/testdata/encrypted).
func encryptedFixture(name string) string {
	return filepath.Join("..", "pdf", "testdata", "encrypted", name)
}

// TestPDFSignEncrypted: a PDF encrypted with an empty open password is
// signed, and the verifier's report names its encryption.
func TestPDFSignEncrypted(t *testing.T) {
	dir := t.TempDir()
	env := testEnviron(dir)
	out := filepath.Join(dir, "signed.pdf")
	if code, _, errs := run(t, t.Context(), env, nil, "pdf", "sign", "--level", "B-B", encryptedFixture("aes128.pdf"), out); code != 0 {
		t.Fatalf("sign: status %d: %s", code, errs)
	}
	code, stdout, errs := run(t, t.Context(), env, nil, "pdf", "verify", out)
	if code != 0 || !strings.Contains(stdout, "encrypted: AES-128") {
		t.Fatalf("verify: status %d: %s\n%s", code, errs, stdout)
	}
}

// TestPDFSample follows the README: a sample document, signed at B-LT with
// the development signer and the built-in TSA, verifies.
func TestPDFSample(t *testing.T) {
	dir := t.TempDir()
	env := append(testEnviron(dir), "ESIGN_LISTEN_TSA="+freeAddr(t))
	sample := filepath.Join(dir, "offer.pdf")
	code, stdout, errs := run(t, t.Context(), env, nil, "pdf", "sample", "--pages", "3", sample)
	if code != 0 || !strings.Contains(stdout, "wrote "+sample+" (3 pages") {
		t.Fatalf("pdf sample: %d %q %q", code, stdout, errs)
	}
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	d, err := pdf.Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("our parser: %v", err)
	}
	if pages, err := d.Pages(); err != nil || len(pages) != 3 {
		t.Errorf("pages: %d, %v", len(pages), err)
	}
	if code, _, errs := run(t, t.Context(), env, nil, "pdf", "sample", "--pages", "0", sample); code != 2 || !strings.Contains(errs, "--pages") {
		t.Errorf("--pages 0: %d %q", code, errs)
	}

	startProcess(t, "tsa", env)
	signed := filepath.Join(dir, "signed.pdf")
	if code, _, errs := run(t, t.Context(), env, nil, "pdf", "sign", "--level", "B-LT", sample, signed); code != 0 {
		t.Fatalf("sign the sample: %d %s", code, errs)
	}
	if code, stdout, errs := run(t, t.Context(), env, nil, "pdf", "verify", signed); code != 0 {
		t.Fatalf("verify the signed sample: %d %s\n%s", code, errs, stdout)
	}
	qpdf := esigntest.Tool(t, "qpdf")
	for _, f := range []string{sample, signed} {
		if out, err := exec.Command(qpdf, "--check", f).CombinedOutput(); err != nil {
			t.Errorf("qpdf --check %s: %v\n%s", filepath.Base(f), err, out)
		}
	}
}
