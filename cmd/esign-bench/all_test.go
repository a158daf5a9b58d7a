package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/cli"
)

// startAll runs `esign all` in a fresh data directory until the test ends,
// every listener on an ephemeral loopback port unless extra names it, and
// returns the bound addresses. The environment is also set for the test, so
// that scenarios that open the system's database (--setup paths) find it.
func startAll(t *testing.T, extra ...string) map[string]string {
	t.Helper()
	environ := []string{"ESIGN_DATA_DIR=" + filepath.Join(t.TempDir(), "data"), "ESIGN_LOG_LEVEL=warn"}
	for _, k := range []string{"ADMIN", "WEBHOOK", "REALTIME", "MOBILE", "CUSTOMER", "CUSTOMER_REALTIME", "TSA", "PDFSERVICE", "CRON", "OPS"} {
		environ = append(environ, "ESIGN_LISTEN_"+k+"=127.0.0.1:0")
	}
	environ = append(environ, extra...) // later entries win
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
		return a
	case code := <-done:
		t.Fatalf("esign all exited early with %d: %s", code, errb.String())
	case <-time.After(60 * time.Second):
		t.Fatal("esign all did not start")
	}
	return nil
}
