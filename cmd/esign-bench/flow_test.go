package main

import (
	"bytes"
	"encoding/json"
	"net"
	"testing"
)

func TestFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts esign all and waits between time-stamps")
	}
	url := "http://" + startAll(t, "ESIGN_LISTEN_TSA="+freeLoopbackAddr(t))["mobile"]
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

// freeLoopbackAddr returns a loopback address whose port was free a moment
// ago: the built-in TSA needs a fixed address, which the mobile API's
// /api/timestamp is configured with.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
