package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"
)

func TestMobile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts esign all")
	}
	url := "http://" + startAll(t, "ESIGN_MOBILE_LOGIN_PER_APP_PER_10MIN=1000000")["mobile"]
	for _, op := range []string{"login", "offers"} {
		t.Run(op, func(t *testing.T) {
			var out, errOut bytes.Buffer
			// A login is an Argon2id verification: hundreds of ms under
			// -race on a busy machine, so its window is longer.
			dur := map[string]string{"login": "3s", "offers": "300ms"}[op]
			args := []string{"mobile", "--url", url, "--op", op, "--concurrency", "2", "--offers", "3", "--duration", dur, "--warmup", "50ms"}
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
