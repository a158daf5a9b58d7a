package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/cli"
)

// startAllForFlows is startAll with the built-in TSA on a fixed loopback
// port: the mobile API's /api/timestamp asks the TSA at its configured
// address.
func startAllForFlows(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tsaAddr := l.Addr().String()
	l.Close()
	environ := []string{"ESIGN_DATA_DIR=" + filepath.Join(t.TempDir(), "data"), "ESIGN_LOG_LEVEL=warn", "ESIGN_LISTEN_TSA=" + tsaAddr}
	for _, k := range []string{"ADMIN", "WEBHOOK", "REALTIME", "MOBILE", "CUSTOMER", "CUSTOMER_REALTIME", "PDFSERVICE", "CRON"} {
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

func TestFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts esign all and waits between time-stamps")
	}
	url := startAllForFlows(t)
	var out, errOut bytes.Buffer
	args := []string{"flow", "--url", url, "--concurrency", "2", "--duration", "1s"}
	if err := run(t.Context(), args, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	var s flowSummary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("output %q is not one JSON summary: %v", out.String(), err)
	}
	if s.Flows < 2 || s.Errors != 0 || s.M2P50Ms <= 0 || s.M2P99Ms < s.M2P50Ms || s.FlowP50Ms < s.M2P50Ms {
		t.Errorf("implausible summary %+v", s)
	}
}
