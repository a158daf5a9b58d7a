package cli

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBrandingStopsStart: a missing logo or a colour below the contrast
// AA asks for stops esign with the setting named and exit status 2.
func TestBrandingStopsStart(t *testing.T) {
	for _, tt := range []struct {
		name, json, want string
	}{
		{"missing_logo", `{"logo": "logo.svg"}`, "branding.logo"},
		{"low_contrast", `{"color_primary": "#ffd700"}`, "branding.color_primary"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "branding.json"), []byte(tt.json), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errs := run(t, t.Context(), testEnviron(t.TempDir(), "ESIGN_BRANDING_DIR="+dir), nil, "all")
			if code != 2 || !strings.Contains(errs, tt.want) || !strings.Contains(errs, filepath.Join(dir, "branding.json")) {
				t.Fatalf("exit %d, stderr %q; want 2 naming %s and the file", code, errs, tt.want)
			}
		})
	}
}

// TestAllServesBranding: esign all gives both web UIs the branding of
// branding.dir: the stylesheet with its colours and the logo.
func TestAllServesBranding(t *testing.T) {
	if testing.Short() {
		t.Skip("starts esign all")
	}
	bdir := t.TempDir()
	logo := `<svg xmlns="http://www.w3.org/2000/svg"><rect width="4" height="4" fill="#7a0019"/></svg>`
	for name, data := range map[string]string{"branding.json": `{"logo": "logo.svg", "color_primary": "#7a0019"}`, "logo.svg": logo} {
		if err := os.WriteFile(filepath.Join(bdir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addrs := make(chan map[string]string, 1)
	done := make(chan string, 1)
	go func() {
		_, _, errs := run(t, ctx, testEnviron(filepath.Join(t.TempDir(), "data"), "ESIGN_BRANDING_DIR="+bdir), func(a map[string]string) { addrs <- a }, "all")
		done <- errs
	}()
	var a map[string]string
	select {
	case a = <-addrs:
	case errs := <-done:
		t.Fatalf("esign all exited early: %s", errs)
	case <-time.After(60 * time.Second):
		t.Fatal("esign all did not start")
	}
	for _, ui := range []string{"customer", "admin"} {
		for path, want := range map[string]string{"/branding.css": "--brand: #7a0019;", "/branding/logo": logo} {
			resp, err := http.Get("http://" + a[ui] + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
				t.Errorf("%s %s: %d %q", ui, path, resp.StatusCode, body)
			}
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("esign all did not stop")
	}
}
