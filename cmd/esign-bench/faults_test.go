package main

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"esign/internal/device"
	"esign/internal/esign"
	"esign/internal/netfault"
)

func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"503", device.AsError(&device.Error{Status: 503, Kind: "unavailable"}), true},
		{"429", device.AsError(&device.Error{Status: 429, Kind: "too_many"}), true},
		{"500", device.AsError(&device.Error{Status: 500, Kind: "internal"}), true},
		{"claim held", device.AsError(&device.Error{Status: 409, Kind: "conflict", Code: "signature_state"}), true},
		{"signature pending", device.AsError(&device.Error{Status: 409, Kind: "conflict", Code: "signature_pending"}), true},
		{"offer state", device.AsError(&device.Error{Status: 409, Kind: "conflict", Code: "offer_state"}), false},
		{"rejected", device.AsError(&device.Error{Status: 400, Kind: "invalid", Code: "sms_token"}), false},
		{"unauthorized", device.AsError(&device.Error{Status: 401, Kind: "unauthorized"}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := transient(tc.err); got != tc.want {
				t.Errorf("transient(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestRetry(t *testing.T) {
	ctx := t.Context()
	t.Run("until success", func(t *testing.T) {
		var rec flowRecord
		rec.step = "GET /x"
		n := 0
		err := retry(ctx, 10*time.Second, &rec, func() error {
			n++
			switch n {
			case 1:
				return device.AsError(&device.Error{Status: 503, Kind: "unavailable"})
			case 2:
				return device.AsError(&device.Error{Status: 500, Kind: "internal", Message: "boom"})
			}
			return nil
		})
		if err != nil || n != 3 || rec.transient != 2 || rec.internal500 != 1 || !strings.HasPrefix(rec.first500, "GET /x: ") {
			t.Errorf("err %v after %d calls, record %+v", err, n, rec)
		}
	})
	t.Run("a final answer stops", func(t *testing.T) {
		n := 0
		err := retry(ctx, 10*time.Second, nil, func() error {
			n++
			return device.AsError(&device.Error{Status: 400, Kind: "invalid", Code: "sms_token"})
		})
		if esign.ErrorCode(err) != "sms_token" || n != 1 {
			t.Errorf("err %v after %d calls", err, n)
		}
	})
	t.Run("a lost session logs in again", func(t *testing.T) {
		n, logins := 0, 0
		err := retry(ctx, 10*time.Second, nil, func() error {
			n++
			if logins == 0 {
				return device.AsError(&device.Error{Status: 401, Kind: "unauthorized"})
			}
			return nil
		}, func() error { logins++; return nil })
		if err != nil || n != 2 || logins != 1 {
			t.Errorf("err %v after %d calls and %d logins", err, n, logins)
		}
	})
	t.Run("gives up after the limit", func(t *testing.T) {
		err := retry(ctx, 300*time.Millisecond, nil, func() error { return errors.New("connection reset") })
		if err == nil || !strings.Contains(err.Error(), "still failing") {
			t.Errorf("err %v", err)
		}
	})
}

func TestRecovered(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	from, end := at(10), at(20) // the fault
	for _, tc := range []struct {
		name    string
		records []*flowRecord
		want    time.Time
		ok      bool
	}{
		{"a caught flow still runs", []*flowRecord{{start: at(9)}, {start: at(21), end: at(22)}}, time.Time{}, false},
		{"no new flow yet", []*flowRecord{{start: at(9), end: at(25)}}, time.Time{}, false},
		{"caught flow ends last", []*flowRecord{{start: at(9), end: at(70)}, {start: at(21), end: at(23)}}, at(70), true},
		{"first new success", []*flowRecord{{start: at(5), end: at(8)}, {start: at(9), end: at(15)},
			{start: at(21), end: at(30), err: errors.New("x")}, {start: at(22), end: at(26)}, {start: at(23), end: at(24)}}, at(24), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &load{records: tc.records}
			got, ok := l.recovered(from, end)
			if ok != tc.ok || !got.Equal(tc.want) {
				t.Errorf("recovered = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestProcessHelpers(t *testing.T) {
	if got := pidOf("oss-vm-4242"); got != 4242 {
		t.Errorf("pidOf = %d", got)
	}
	if !alive(os.Getpid()) {
		t.Error("this process is not alive")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	if alive(cmd.Process.Pid) {
		t.Error("a reaped process is alive")
	}
	if got := readyAddr("cron", []string{"ESIGN_LISTEN_CRON=127.0.0.1:1", "ESIGN_LISTEN_CRON=127.0.0.1:2"}); got != "127.0.0.1:2" {
		t.Errorf("readyAddr = %q, want the last setting", got)
	}
}

func TestProxyControl(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer backend.Close()
	p, err := netfault.Listen("127.0.0.1:0", strings.TrimPrefix(backend.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctl := httptest.NewServer(proxyControl(map[string]*netfault.Proxy{"pg": p}))
	defer ctl.Close()
	for _, tc := range []struct {
		method, path string
		status       int
		mode         netfault.Mode
	}{
		{"POST", "/pg/stall", 204, netfault.Stall},
		{"POST", "/pg/restore", 204, netfault.Pass},
		{"POST", "/pg/cut", 204, netfault.Cut},
		{"POST", "/pg/terminate", 204, netfault.Cut},
		{"POST", "/pg/restore", 204, netfault.Pass},
		{"POST", "/pg/explode", 404, netfault.Pass},
		{"POST", "/redis/cut", 404, netfault.Pass},
		{"GET", "/pg", 200, netfault.Pass},
	} {
		req, _ := http.NewRequest(tc.method, ctl.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || p.Mode() != tc.mode {
			t.Errorf("%s %s: HTTP %d, mode %s; want %d, %s", tc.method, tc.path, resp.StatusCode, p.Mode(), tc.status, tc.mode)
		}
		if tc.method == "GET" && strings.TrimSpace(b.String()) != string(tc.mode) {
			t.Errorf("GET %s = %q", tc.path, b.String())
		}
	}
}

func TestFaultsNeedsTheDeployment(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"faults"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "bench/faults.sh") {
		t.Errorf("run faults without flags: %v", err)
	}
}
