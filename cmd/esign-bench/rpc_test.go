package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"esign/internal/esigntest"
)

func TestRPC(t *testing.T) {
	tests := []struct {
		name string
		args []string
		amqp bool
	}{
		{"inproc", []string{"rpc", "--transport", "inproc", "--concurrency", "4", "--duration", "200ms", "--warmup", "50ms", "--payload", "100"}, false},
		{"amqp", []string{"rpc", "--transport", "amqp", "--concurrency", "4", "--duration", "300ms", "--warmup", "100ms", "--payload", "100"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.amqp {
				args = append(args, "--amqp-url", esigntest.ServerURL(t, esigntest.AMQPURLEnv))
			}
			var out, errOut bytes.Buffer
			if err := run(t.Context(), args, &out, &errOut); err != nil {
				t.Fatalf("run: %v\n%s", err, errOut.String())
			}
			var s rpcSummary
			if err := json.Unmarshal(out.Bytes(), &s); err != nil {
				t.Fatalf("output %q is not one JSON summary: %v", out.String(), err)
			}
			if s.Calls == 0 || s.Errors != 0 || s.P50Ms <= 0 || s.P99Ms < s.P50Ms || s.Concurrency != 4 || s.PayloadBytes != 100 {
				t.Errorf("implausible summary %+v", s)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"nope"}, {"rpc", "--transport", "carrier-pigeon", "--duration", "1ms"}} {
		var out, errOut bytes.Buffer
		if err := run(t.Context(), args, &out, &errOut); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
