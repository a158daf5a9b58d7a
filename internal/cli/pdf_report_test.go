package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/pdf/pdftest"
)

// TestPDFVerifyReport: esign pdf verify --report writes the validation
// report in the format its extension or --report-format names, whatever
// the verdict, and refuses a format it cannot tell.
func TestPDFVerifyReport(t *testing.T) {
	dir := t.TempDir()
	env := testEnviron(dir)
	in, signed := filepath.Join(dir, "offer.pdf"), filepath.Join(dir, "signed.pdf")
	if err := os.WriteFile(in, pdftest.Minimal(1), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, t.Context(), env, nil, "pdf", "sign", "--level", "B-B", in, signed); code != 0 {
		t.Fatalf("sign: status %d: %s", code, errs)
	}
	data, err := os.ReadFile(signed)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(data), "/MediaBox")
	data[i+1] = 'X'
	tampered := filepath.Join(dir, "tampered.pdf")
	if err := os.WriteFile(tampered, data, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, report string
		flags              []string
		code               int
		want               string // the indication, in the report and on standard error
	}{
		// B-B by the development signer: intact and trusted, but the file
		// holds no revocation data and online checking is off.
		{"json", signed, "r.json", nil, 0, "INDETERMINATE/TRY_LATER"},
		{"html", signed, "r.html", nil, 0, "INDETERMINATE/TRY_LATER"},
		{"pdf", signed, "r.pdf", nil, 0, "INDETERMINATE/TRY_LATER"},
		{"format_flag", tampered, "r.out", []string{"--report-format", "json"}, 1, "TOTAL-FAILED/HASH_FAILURE"},
		{"unknown_extension", signed, "r.txt", nil, 2, ""},
		{"format_without_report", signed, "", []string{"--report-format", "json"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"pdf", "verify"}, tt.flags...)
			report := filepath.Join(dir, tt.name+"-"+tt.report)
			if tt.report != "" {
				args = append(args, "--report", report)
			}
			code, _, errs := run(t, t.Context(), env, nil, append(args, tt.file)...)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, errs)
			}
			if tt.want == "" {
				if _, err := os.Stat(report); err == nil {
					t.Error("a report was written")
				}
				return
			}
			if !strings.Contains(errs, tt.want) {
				t.Errorf("standard error lacks %s: %s", tt.want, errs)
			}
			b, err := os.ReadFile(report)
			if err != nil {
				t.Fatal(err)
			}
			ind, sub, _ := strings.Cut(tt.want, "/")
			switch {
			case strings.HasSuffix(report, ".pdf"):
				if _, err := exec.LookPath("pdftotext"); err != nil {
					t.Skip("pdftotext not installed")
				}
				out, err := exec.Command("pdftotext", report, "-").Output()
				if err != nil || !strings.Contains(string(out), "Result: "+ind+" / "+sub) {
					t.Errorf("pdftotext: %v\n%s", err, out)
				}
			case strings.HasSuffix(report, ".html"):
				if !strings.Contains(string(b), ind+" / "+sub) {
					t.Errorf("HTML lacks %s", tt.want)
				}
			default:
				var m map[string]any
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatalf("%v\n%s", err, b)
				}
				if m["schema"] != "esign-validation-report/1" || m["indication"] != ind || m["sub_indication"] != sub {
					t.Errorf("report: schema %v, indication %v/%v", m["schema"], m["indication"], m["sub_indication"])
				}
			}
		})
	}
}
