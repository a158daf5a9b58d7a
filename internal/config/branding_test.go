package config

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/branding"
)

func writeBrandingDir(t *testing.T, json string, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, BrandingFile), []byte(json), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const testSVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 10"><rect width="40" height="10" fill="#7a0019"/></svg>`

// TestBrandingValidation: every bad branding stops Load with the setting
// named (the CLI turns a *FieldError into exit status 2).
func TestBrandingValidation(t *testing.T) {
	big := bytes.Repeat([]byte{0}, 300<<10)
	copy(big, testPNG(t, 10, 10))
	files := map[string][]byte{
		"logo.svg": []byte(testSVG), "logo.png": testPNG(t, 120, 40), "huge.png": big, "wide.png": testPNG(t, 4000, 10),
		"script.svg": []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>`),
		"onload.svg": []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`),
	}
	for _, tt := range []struct {
		name   string
		json   string
		env    []string
		key    string // "" when accepted
		reason string
	}{
		{"svg_logo", `{"logo": "logo.svg", "bank_name": "Példa Bank"}`, nil, "", ""},
		{"png_logo", `{"logo": "logo.png"}`, nil, "", ""},
		{"missing_logo", `{"logo": "nope.svg"}`, nil, "branding.logo", "no such file"},
		{"oversize_logo", `{"logo": "huge.png"}`, nil, "branding.logo", "larger than 256 KiB"},
		{"wide_logo", `{"logo": "wide.png"}`, nil, "branding.logo", "pixels"},
		{"svg_script", `{"logo": "script.svg"}`, nil, "branding.logo", "<script>"},
		{"svg_onload", `{"logo": "onload.svg"}`, nil, "branding.logo", "event handler"},
		{"bad_colour", `{"color_primary": "blue"}`, nil, "branding.color_primary", "#rrggbb"},
		{"short_colour", `{"color_accent": "#06c"}`, nil, "branding.color_accent", "#rrggbb"},
		{"low_contrast", `{"color_primary": "#ffd700"}`, nil, "branding.color_primary", "WCAG AA"},
		{"low_contrast_pair_set", `{"color_primary": "#ffd700", "color_on_primary": "#ffffff"}`, nil, "branding.color_on_primary", "WCAG AA"},
		{"fixed_contrast", `{"color_primary": "#ffd700", "color_on_primary": "#1b1f24"}`, nil, "", ""},
		{"env_wins", `{"color_primary": "#ffd700"}`, []string{"ESIGN_BRANDING_COLOR_ON_PRIMARY=#000000"}, "", ""},
		{"env_breaks", `{}`, []string{"ESIGN_BRANDING_COLOR_TEXT=#eeeeee"}, "branding.color_text", "WCAG AA"},
		{"unknown_key", `{"colour": "#000000"}`, nil, "branding.colour", "unknown setting"},
		{"nested_dir", `{"dir": "/etc"}`, nil, "branding.dir", "another directory"},
		{"seal_placeholder", `{"seal_line": "Check {verify}"}`, nil, "branding.seal_line", "unknown placeholder"},
		{"sms_sender", `{"sms_sender": "Példa Bank Zrt"}`, nil, "branding.sms_sender", "11 characters"},
		{"support_url", `{"support_url": "ftp://x"}`, nil, "branding.support_url", ""},
		{"support_email", `{"support_email": "not mail"}`, nil, "branding.support_email", "not an e-mail"},
		{"empty_bank", `{"bank_name": ""}`, nil, "branding.bank_name", "1 to 100"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeBrandingDir(t, tt.json, files)
			cfg, err := Load("", append([]string{"ESIGN_BRANDING_DIR=" + dir}, tt.env...))
			if tt.key == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if _, err := cfg.Branding.Brand(); err != nil {
					t.Fatal(err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Key != tt.key || !strings.Contains(fe.Reason, tt.reason) {
				t.Fatalf("got %v, want %s: …%s…", err, tt.key, tt.reason)
			}
		})
	}
}

func TestBrandingDirMissing(t *testing.T) {
	_, err := Load("", []string{"ESIGN_BRANDING_DIR=" + filepath.Join(t.TempDir(), "none")})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Key != "branding.dir" {
		t.Fatalf("got %v", err)
	}
}

// TestBrandingDirValues: branding.json's values and the logo relative to
// the directory reach the Brand, and the error names the file a bad value
// came from.
func TestBrandingDirValues(t *testing.T) {
	dir := writeBrandingDir(t, `{"bank_name": "Példa Bank", "logo": "logo.svg", "seal_line": "Pecsét: {bank}"}`, map[string][]byte{"logo.svg": []byte(testSVG)})
	cfg, err := Load("", []string{"ESIGN_BRANDING_DIR=" + dir})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cfg.Branding.Brand()
	if err != nil {
		t.Fatal(err)
	}
	if b.BankName != "Példa Bank" || b.Logo == nil || b.Logo.ContentType != "image/svg+xml" || b.SealText(brandingFields()) != "Pecsét: Példa Bank" {
		t.Fatalf("brand %+v", b)
	}
	bad := writeBrandingDir(t, `{"color_text": "#ffffff"}`, nil)
	_, err = Load("", []string{"ESIGN_BRANDING_DIR=" + bad})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(bad, BrandingFile)) {
		t.Fatalf("error does not name the file: %v", err)
	}
}

func brandingFields() branding.SealFields { return branding.SealFields{} }

// TestExampleBranding: the example directory of deploy/branding (and
// docs/customization.md) is a valid branding.
func TestExampleBranding(t *testing.T) {
	cfg, err := Load("", []string{"ESIGN_BRANDING_DIR=" + filepath.Join("..", "..", "deploy", "branding")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cfg.Branding.Brand()
	if err != nil || b.Logo == nil || b.BankName != "Példa Bank" {
		t.Fatalf("%+v, %v", b, err)
	}
}
