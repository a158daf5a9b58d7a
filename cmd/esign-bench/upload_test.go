package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"
	"time"

	"esign/internal/cli"
)

const benchCred = "bench:0123456789abcdef-bench"

// startAllWebhook runs `esign all` with the upload and bootstrap endpoints
// enabled and returns the webhook API's base URL.
func startAllWebhook(t *testing.T) string {
	t.Helper()
	environ := []string{"ESIGN_DATA_DIR=" + filepath.Join(t.TempDir(), "data"), "ESIGN_LOG_LEVEL=warn",
		"ESIGN_WEBHOOK_OFFER_UPLOAD=" + benchCred, "ESIGN_WEBHOOK_CUSTOMER_BOOTSTRAP=" + benchCred}
	for _, k := range []string{"ADMIN", "WEBHOOK", "REALTIME", "MOBILE", "CUSTOMER", "CUSTOMER_REALTIME", "TSA", "PDFSERVICE", "CRON"} {
		environ = append(environ, "ESIGN_LISTEN_"+k+"=127.0.0.1:0")
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan map[string]string, 1)
	done := make(chan int, 1)
	var errb bytes.Buffer
	go func() {
		done <- cli.Run(ctx, cli.Env{Args: []string{"all"}, Stdout: io.Discard, Stderr: &errb, Environ: environ,
			Ready: func(a map[string]string) { addrs <- a }})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("esign all exited with %d: %s", code, errb.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("esign all did not stop")
		}
	})
	select {
	case a := <-addrs:
		return "http://" + a["webhook"]
	case code := <-done:
		t.Fatalf("esign all exited early with %d: %s", code, errb.String())
	case <-time.After(60 * time.Second):
		t.Fatal("esign all did not start")
	}
	return ""
}

func TestUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("starts esign all")
	}
	url := startAllWebhook(t)
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
