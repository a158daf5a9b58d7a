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
	// The limits bench/flow.sh raises: each client signs offer after
	// offer, two SMS a flow.
	addrs := startAll(t, "ESIGN_LISTEN_TSA="+freeLoopbackAddr(t), "ESIGN_TSA_ACCURACY=10ms",
		"ESIGN_NOTIFY_SMS_PER_HOUR=0", "ESIGN_MOBILE_SMS_PER_NUMBER_PER_HOUR=1000")
	url := "http://" + addrs["mobile"]
	for _, onboardEach := range []bool{false, true} {
		t.Run(map[bool]string{false: "signed_in", true: "onboard_each"}[onboardEach], func(t *testing.T) {
			var out, errOut bytes.Buffer
			// esign all runs in the test's process: its counters, not
			// its CPU time (that is the test's, esign-bench's own).
			args := []string{"flow", "--url", url, "--concurrency", "2", "--duration", "2s",
				"--process", "all=,http://" + addrs["ops"]}
			if onboardEach {
				args = append(args, "--onboard-each")
			} else {
				// The costs' first snapshot at the warm-up's end (an
				// onboarding flow is longer than the whole run).
				args = append(args, "--warmup", "1s")
			}
			if err := run(t.Context(), args, &out, &errOut); err != nil {
				t.Fatalf("run: %v\n%s", err, errOut.String())
			}
			var s flowSummary
			if err := json.Unmarshal(out.Bytes(), &s); err != nil {
				t.Fatalf("output %q is not one JSON summary: %v", out.String(), err)
			}
			if s.Flows < 2 || s.Errors != 0 || s.OnboardEach != onboardEach || s.M2P50Ms <= 0 || s.M2P99Ms < s.M2P50Ms || s.FlowP50Ms < s.M2P50Ms {
				t.Errorf("implausible summary %+v", s)
			}
			// A flow: tens of statements and requests, the seal's RPC (one
			// a flow; the flows that straddle a 2-s window's ends move
			// the ratio either way).
			if s.SQLPerFlow < 20 || s.SQLSource != "counters" || s.SQLPerFlowByProcess["all"] <= 0 || s.SQLPerFlowByProcess["esign-bench"] <= 0 ||
				s.HTTPPerFlow < 10 || s.BusPerFlow <= 0 || s.CPUMsPerFlow <= 0 || s.CPUMsByProcess["esign-bench"] != s.CPUMsPerFlow {
				t.Errorf("implausible costs %+v", s.flowCosts)
			}
		})
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
