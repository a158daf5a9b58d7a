package cli

import (
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"testing"
)

func TestHealth(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.Write([]byte(`{"status":"ok"}`))
		case "/readyz":
			http.Error(w, `{"status":"unavailable"}`, http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"ok", []string{srv.URL + "/healthz"}, exitOK, ""},
		{"unavailable", []string{srv.URL + "/readyz"}, exitFailed, "status 503"},
		{"not_found", []string{srv.URL + "/nope"}, exitFailed, "status 404"},
		{"refused", []string{"--timeout", "1s", "http://127.0.0.1:1/healthz"}, exitFailed, "health check"},
		{"no_url", nil, exitUsage, "usage"},
		{"two_urls", []string{srv.URL, srv.URL}, exitUsage, "usage"},
		{"not_http", []string{"ftp://127.0.0.1/healthz"}, exitUsage, "not an http"},
		{"bad_flag", []string{"--nope", srv.URL}, exitUsage, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := run(t, t.Context(), nil, nil, append([]string{"health"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errs, tt.err) {
				t.Errorf("health %v: %d %q, want %d and %q", tt.args, code, errs, tt.code, tt.err)
			}
		})
	}
}

func TestRevision(t *testing.T) {
	const full = "0123456789abcdef0123456789abcdef01234567"
	vcs := func(kv ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{}
		for i := 0; i < len(kv); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return bi
	}
	tests := []struct {
		name    string
		ldflags string
		bi      *debug.BuildInfo
		want    string
	}{
		{"ldflags", full, vcs("vcs.revision", "ffffffffffffffff"), "0123456789ab"},
		{"ldflags_short", "abc123", nil, "abc123"},
		{"vcs", "", vcs("vcs.revision", full, "vcs.modified", "false"), "0123456789ab"},
		{"vcs_dirty", "", vcs("vcs.revision", full, "vcs.modified", "true"), "0123456789ab-dirty"},
		{"no_vcs", "", vcs("-trimpath", "true"), "unknown"},
		{"no_build_info", "", nil, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := revision(tt.ldflags, tt.bi); got != tt.want {
				t.Errorf("revision(%q) = %q, want %q", tt.ldflags, got, tt.want)
			}
		})
	}
}
