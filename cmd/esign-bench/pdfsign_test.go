package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
)

func TestRunPDFSign(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	tests := []struct {
		name    string
		args    []string
		key     string
		wantErr bool
	}{
		{"rsa-concurrent", []string{"--size", "100000", "--duration", "300ms", "--concurrency", "2"}, "rsa2048", false},
		{"ecdsa-profiled", []string{"--size", "100000", "--duration", "300ms", "--key", "ecdsa-p256", "--cpuprofile", prof}, "ecdsa-p256", false},
		{"unknown-key", []string{"--duration", "300ms", "--key", "dsa"}, "", true},
		{"unmeasured-level", []string{"--duration", "300ms", "--level", "B-LTA"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := runPDFSignTo(context.Background(), tt.args, &out, &errb)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("no error; output %s", out.String())
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, errb.String())
			}
			var sum pdfSignSummary
			if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
				t.Fatalf("summary %q: %v", out.String(), err)
			}
			if sum.Signatures == 0 || sum.Errors != 0 || sum.SignaturesPerS <= 0 || sum.PeakRSSMB <= 0 || sum.CPUMsPerSig <= 0 || sum.Key != tt.key {
				t.Fatalf("summary %+v", sum)
			}
		})
	}
}
