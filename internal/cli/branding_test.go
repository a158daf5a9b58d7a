package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
