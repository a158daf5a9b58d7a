package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/cli"
)

// startAll runs `esign all` on ephemeral loopback ports with its data in a
// temp dir, sets the same environment for the scenario's setup, and returns
// the mobile API's base URL.
func startAll(t *testing.T) string {
	t.Helper()
	environ := []string{"ESIGN_DATA_DIR=" + filepath.Join(t.TempDir(), "data"), "ESIGN_LOG_LEVEL=warn",
		"ESIGN_MOBILE_LOGIN_PER_APP_PER_10MIN=1000000"}
	for _, k := range []string{"ADMIN", "WEBHOOK", "REALTIME", "MOBILE", "CUSTOMER", "CUSTOMER_REALTIME", "TSA", "PDFSERVICE", "CRON"} {
		environ = append(environ, "ESIGN_LISTEN_"+k+"=127.0.0.1:0")
	}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
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
		return "http://" + a["mobile"]
	case code := <-done:
		t.Fatalf("esign all exited early with %d: %s", code, errb.String())
	case <-time.After(60 * time.Second):
		t.Fatal("esign all did not start")
	}
	return ""
}

func TestMobile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts esign all")
	}
	url := startAll(t)
	for _, op := range []string{"login", "offers"} {
		t.Run(op, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := []string{"mobile", "--url", url, "--op", op, "--concurrency", "2", "--offers", "3", "--duration", "300ms", "--warmup", "50ms"}
			if err := run(t.Context(), args, &out, &errOut); err != nil {
				t.Fatalf("run: %v\n%s", err, errOut.String())
			}
			var s mobileSummary
			if err := json.Unmarshal(out.Bytes(), &s); err != nil {
				t.Fatalf("output %q is not one JSON summary: %v", out.String(), err)
			}
			if s.Requests == 0 || s.Errors != 0 || s.P50Ms <= 0 || s.P99Ms < s.P50Ms || s.Op != op || s.Accounts != 2 {
				t.Errorf("implausible summary %+v", s)
			}
		})
	}
}

func TestMobileUsage(t *testing.T) {
	for _, args := range [][]string{
		{"mobile", "--op", "dance"},
		{"mobile", "--accounts", "51"},
		{"mobile", "--url", "http://127.0.0.1:1", "--config", filepath.Join(t.TempDir(), "missing.json")},
	} {
		var out, errOut bytes.Buffer
		if err := run(t.Context(), args, &out, &errOut); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
