package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
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
			args := []string{"upload", "--url", url, "--format", format, "--size", "65536", "--concurrency", "2", "--uploads", "2"}
			if err := run(t.Context(), args, &out, &errOut); err != nil {
				t.Fatalf("run: %v\n%s", err, errOut.String())
			}
			var s uploadSummary
			if err := json.Unmarshal(out.Bytes(), &s); err != nil {
				t.Fatalf("output %q is not one JSON summary: %v", out.String(), err)
			}
			// A fixed count, not a duration: a loaded machine (-race, CI)
			// may finish no upload in a short window.
			if s.Uploads != 4 || s.Errors != 0 || s.P50Ms <= 0 || s.P99Ms < s.P50Ms || s.PDFBytes < 65536-1024 || s.Format != format {
				t.Errorf("implausible summary %+v", s)
			}
		})
	}
	// A fixed number of uploads, with the peak memory of the process
	// under test (here the test's own: esign all runs in it).
	t.Run("uploads_pid", func(t *testing.T) {
		var out, errOut bytes.Buffer
		args := []string{"upload", "--url", url, "--size", "65536", "--concurrency", "2", "--uploads", "3", "--pid", strconv.Itoa(os.Getpid())}
		if err := run(t.Context(), args, &out, &errOut); err != nil {
			t.Fatalf("run: %v\n%s", err, errOut.String())
		}
		var s uploadSummary
		if err := json.Unmarshal(out.Bytes(), &s); err != nil {
			t.Fatalf("output %q is not one JSON summary: %v", out.String(), err)
		}
		if s.Uploads != 6 || s.Errors != 0 || s.DurationS <= 0 || s.RSSBeforeM <= 0 || s.PeakRSSM <= 0 || s.BodyBytes < 65536 {
			t.Errorf("implausible summary %+v", s)
		}
	})
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
		{"upload", "--uploads", "-1"},
		{"upload"}, // no credentials
	} {
		var out, errOut bytes.Buffer
		if err := run(t.Context(), args, &out, &errOut); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
