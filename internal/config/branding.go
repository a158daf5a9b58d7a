package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"reflect"
	"unicode/utf8"

	"esign/internal/branding"
)

// BrandingFile is the file of branding.dir that holds the branding settings.
const BrandingFile = "branding.json"

func defaultBranding() Branding {
	c := branding.DefaultColors()
	return Branding{ProductName: "esign", BankName: "esign development bank", ColorPrimary: c.Primary,
		ColorOnPrimary: c.OnPrimary, ColorAccent: c.Accent, ColorText: c.Text, ColorBackground: c.Background,
		SealLine: branding.DefaultSealLine}
}

// contrastPartner maps a colour whose contrast is checked to the colour it
// is checked against, so that a refused pair names the one that was set.
var contrastPartner = map[string]string{
	"branding.color_on_primary": "branding.color_primary",
	"branding.color_text":       "branding.color_background",
	"branding.color_accent":     "branding.color_background",
}

// loadBrandingDir applies <branding.dir>/branding.json over the branding
// section.
func loadBrandingDir(cfg *Config, sources map[string]string) error {
	dir := cfg.Branding.Dir
	path := filepath.Join(dir, BrandingFile)
	f, err := os.Open(path)
	if err != nil {
		return &FieldError{Key: "branding.dir", Source: sources["branding.dir"], Reason: fmt.Sprintf("read %s: %v", path, errors.Unwrap(err))}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil || len(data) > maxFileSize {
		return &FieldError{Key: "branding.dir", Source: sources["branding.dir"], Reason: fmt.Sprintf("read %s: too large or unreadable", path)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		return fmt.Errorf("config: %s: not valid JSON: %s", path, jsonErrorPosition(data, err))
	}
	if _, ok := tree["dir"]; ok {
		return &FieldError{Key: "branding.dir", Source: path, Reason: "branding.json cannot name another directory"}
	}
	return applyTree(reflect.ValueOf(&cfg.Branding).Elem(), tree, "branding.", path, sources)
}

// LogoPath is where the logo file is read from: branding.logo, relative to
// branding.dir when that is set.
func (b Branding) LogoPath() string {
	if b.Logo == "" || filepath.IsAbs(b.Logo) || b.Dir == "" {
		return b.Logo
	}
	return filepath.Join(b.Dir, b.Logo)
}

// Brand is the checked branding, the logo read. Errors are *FieldError.
func (b Branding) Brand() (branding.Brand, error) {
	out := branding.Brand{ProductName: b.ProductName, BankName: b.BankName,
		Colors: branding.Colors{Primary: b.ColorPrimary, OnPrimary: b.ColorOnPrimary, Accent: b.ColorAccent,
			Text: b.ColorText, Background: b.ColorBackground},
		SupportPhone: b.SupportPhone, SupportEmail: b.SupportEmail, SupportURL: b.SupportURL,
		LegalFooter: b.LegalFooter, SealLine: b.SealLine, SMSSender: b.SMSSender, PushTitle: b.PushTitle}
	for _, n := range []struct{ key, val string }{{"branding.product_name", b.ProductName}, {"branding.bank_name", b.BankName}} {
		if n.val == "" || utf8.RuneCountInString(n.val) > 100 {
			return out, &FieldError{Key: n.key, Reason: "must be 1 to 100 characters"}
		}
	}
	if err := branding.CheckColors(out.Colors); err != nil {
		var p *branding.Problem
		if errors.As(err, &p) {
			return out, &FieldError{Key: "branding." + p.Field, Reason: p.Reason}
		}
		return out, &FieldError{Key: "branding.color_primary", Reason: err.Error()}
	}
	if b.Logo != "" {
		l, err := branding.ReadLogo(b.LogoPath())
		if err != nil {
			return out, &FieldError{Key: "branding.logo", Reason: fmt.Sprintf("%s: %v", b.LogoPath(), err)}
		}
		out.Logo = l
	}
	if b.LogoURL != "" {
		if err := checkURL(b.LogoURL, "https", "http"); err != nil {
			return out, &FieldError{Key: "branding.logo_url", Reason: err.Error()}
		}
	}
	if b.SupportURL != "" {
		if err := checkURL(b.SupportURL, "https", "http"); err != nil {
			return out, &FieldError{Key: "branding.support_url", Reason: err.Error()}
		}
	}
	if b.SupportEmail != "" {
		if a, err := mail.ParseAddress(b.SupportEmail); err != nil || a.Name != "" {
			return out, &FieldError{Key: "branding.support_email", Reason: fmt.Sprintf("%q is not an e-mail address", b.SupportEmail)}
		}
	}
	if utf8.RuneCountInString(b.LegalFooter) > 500 {
		return out, &FieldError{Key: "branding.legal_footer", Reason: "longer than 500 characters"}
	}
	if err := branding.CheckSealLine(b.SealLine); err != nil {
		return out, &FieldError{Key: "branding.seal_line", Reason: err.Error()}
	}
	if err := branding.CheckSealLine(out.SealText(branding.SealFields{})); err != nil {
		return out, &FieldError{Key: "branding.seal_line", Reason: "with the bank's and product's names filled in: " + err.Error()}
	}
	if err := branding.CheckSMSSender(b.SMSSender); err != nil {
		return out, &FieldError{Key: "branding.sms_sender", Reason: err.Error()}
	}
	if utf8.RuneCountInString(b.PushTitle) > 100 {
		return out, &FieldError{Key: "branding.push_title", Reason: "longer than 100 characters"}
	}
	return out, nil
}
