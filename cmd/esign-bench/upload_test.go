package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

const benchCred = "bench:0123456789abcdef-bench"

func TestUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("starts esign all")
	}
	url := "http://" + startAll(t, "ESIGN_WEBHOOK_OFFER_UPLOAD="+benchCred, "ESIGN_WEBHOOK_CUSTOMER_BOOTSTRAP="+benchCred)["webhook"]
	t.Setenv("ESIGN_BENCH_WEBHOOK_AUTH", benchCred)
	for _, format := range []string{"json", "multipart"} {
		t.Run(format, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := []string{"upload", "--url", url, "--format", format, "--size", "65536", "--concurrency", "2", "--duration", "300ms", "--warmup", "50ms"}
			if err := run(t.Context(), args, &out, &errOut); err != nil {
				t.Fatalf("run: %v\n%s", err, errOut.String())
			}
			var s uploadSummary
			if err := json.Unmarshal(out.Bytes(), &s); err != nil {
				t.Fatalf("output %q is not one JSON summary: %v", out.String(), err)
			}
			if s.Uploads == 0 || s.Errors != 0 || s.P50Ms <= 0 || s.P99Ms < s.P50Ms || s.PDFBytes < 65536-1024 || s.Format != format {
				t.Errorf("implausible summary %+v", s)
			}
		})
	}
	// Wrong credentials fail the run.
	t.Setenv("ESIGN_BENCH_WEBHOOK_AUTH", "bench:wrong-password-000000")
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"upload", "--url", url, "--duration", "100ms"}, &out, &errOut); err == nil {
		t.Error("a run with wrong credentials succeeded")
	}
}

func TestUploadUsage(t *testing.T) {
	t.Setenv("ESIGN_BENCH_WEBHOOK_AUTH", "")
	for _, args := range [][]string{
		{"upload", "--format", "xml"},
		{"upload", "--size", "10"},
		{"upload"}, // no credentials
	} {
		var out, errOut bytes.Buffer
		if err := run(t.Context(), args, &out, &errOut); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
