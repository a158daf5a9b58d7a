// Package branding holds the bank's look: names, colours, logo, support
// contact, legal footer and the texts its messages and seals carry. It
// checks colours (#rrggbb, WCAG AA contrast of text on the primary colour),
// reads and checks the logo (PNG, or SVG without scripts or outside
// references), and renders the stylesheet of CSS custom properties the web
// surfaces serve from their own origin (docs/customization.md, "Branding").
package branding

import (
	"fmt"
	"math"
	"strings"
)

// Brand is the checked branding of a deployment.
type Brand struct {
	ProductName  string
	BankName     string
	Colors       Colors
	Logo         *Logo // nil: no logo, the bank's name is shown instead
	SupportPhone string
	SupportEmail string
	SupportURL   string
	LegalFooter  string
	// SealLine is the visible line on sealed contracts, with the
	// placeholders of SealText.
	SealLine  string
	SMSSender string
	// PushTitle is the title of every push notification, {title} standing
	// for the message's own title; empty: the message's title.
	PushTitle string
}

// Colors are the colours of the web surfaces and e-mails, each #rrggbb.
type Colors struct {
	Primary    string // top bar, buttons, e-mail header
	OnPrimary  string // text on Primary
	Accent     string // links and highlights on Background
	Text       string // body text on Background
	Background string // page background
}

// Default is the look esign ships with.
func Default() Brand {
	return Brand{ProductName: "esign", BankName: "esign", Colors: DefaultColors(), SealLine: DefaultSealLine}
}

// DefaultColors are the colours of webui.css.
func DefaultColors() Colors {
	return Colors{Primary: "#0b4f8a", OnPrimary: "#ffffff", Accent: "#0b4f8a", Text: "#1b1f24", Background: "#f6f7f9"}
}

// DefaultSealLine is the visible line of a sealed contract when the bank
// sets none.
const DefaultSealLine = "Sealed by {bank}. Verify at {verify_url}"

// Minimum contrast ratios of WCAG 2.x level AA: normal text, and user
// interface components (1.4.11).
const (
	MinTextContrast = 4.5
	MinUIContrast   = 3.0
)

// Problem is what is wrong with one field of the branding; Field is the
// field's setting name (color_primary, logo, …).
type Problem struct {
	Field  string
	Reason string
}

func (p *Problem) Error() string { return p.Field + ": " + p.Reason }

// CheckColors checks the syntax of every colour and the contrast of text on
// the primary colour, of body text on the background, and of the accent on
// the background.
func CheckColors(c Colors) error {
	for _, f := range []struct{ name, v string }{
		{"color_primary", c.Primary}, {"color_on_primary", c.OnPrimary}, {"color_accent", c.Accent},
		{"color_text", c.Text}, {"color_background", c.Background},
	} {
		if _, err := ParseHex(f.v); err != nil {
			return &Problem{f.name, err.Error()}
		}
	}
	for _, p := range []struct {
		name, fg, bg, what string
		min                float64
	}{
		{"color_on_primary", c.OnPrimary, c.Primary, "text on color_primary", MinTextContrast},
		{"color_text", c.Text, c.Background, "text on color_background", MinTextContrast},
		{"color_accent", c.Accent, c.Background, "links on color_background", MinTextContrast},
	} {
		r := Contrast(p.fg, p.bg)
		if r < p.min {
			return &Problem{p.name, fmt.Sprintf("contrast of %s is %.2f:1, below the %.1f:1 of WCAG AA", p.what, r, p.min)}
		}
	}
	return nil
}

// RGB is a colour's 8-bit channels.
type RGB struct{ R, G, B uint8 }

// ParseHex parses #rrggbb.
func ParseHex(s string) (RGB, error) {
	if len(s) != 7 || s[0] != '#' {
		return RGB{}, fmt.Errorf("%q is not a colour #rrggbb", s)
	}
	var v [3]uint8
	for i := range 3 {
		hi, ok1 := hexVal(s[1+2*i])
		lo, ok2 := hexVal(s[2+2*i])
		if !ok1 || !ok2 {
			return RGB{}, fmt.Errorf("%q is not a colour #rrggbb", s)
		}
		v[i] = hi<<4 | lo
	}
	return RGB{v[0], v[1], v[2]}, nil
}

func hexVal(c byte) (uint8, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Luminance is the relative luminance of WCAG 2.x.
func (c RGB) Luminance() float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}

// Contrast is the WCAG contrast ratio of two #rrggbb colours (1 to 21); 0
// when either does not parse.
func Contrast(a, b string) float64 {
	ca, err1 := ParseHex(a)
	cb, err2 := ParseHex(b)
	if err1 != nil || err2 != nil {
		return 0
	}
	la, lb := ca.Luminance(), cb.Luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// CSS is the stylesheet of the brand: the custom properties webui.css and
// the surfaces' stylesheets use. The colours are checked (#rrggbb), so
// nothing else can reach the stylesheet.
func (b Brand) CSS() []byte {
	c := b.Colors
	var s strings.Builder
	s.WriteString("/* branding: generated from the branding settings */\n:root {\n")
	for _, v := range []struct{ name, val string }{
		{"--brand", c.Primary}, {"--brand-fg", c.OnPrimary}, {"--accent", c.Accent},
		{"--fg", c.Text}, {"--bg", c.Background},
	} {
		if _, err := ParseHex(v.val); err == nil {
			fmt.Fprintf(&s, "  %s: %s;\n", v.name, v.val)
		}
	}
	s.WriteString("}\na { color: var(--accent); }\n")
	return []byte(s.String())
}

// SealFields fill the placeholders of the seal line.
type SealFields struct {
	VerifyURL  string // {verify_url}: the public verify page
	ContractID string // {contract_id}
}

// SealText is the seal line with {bank}, {product}, {verify_url} and
// {contract_id} replaced.
func (b Brand) SealText(f SealFields) string {
	line := b.SealLine
	if line == "" {
		line = DefaultSealLine
	}
	return strings.NewReplacer("{bank}", b.BankName, "{product}", b.ProductName,
		"{verify_url}", f.VerifyURL, "{contract_id}", f.ContractID).Replace(line)
}

// CheckSealLine refuses a placeholder SealText does not know, so a typo
// does not reach every contract.
func CheckSealLine(line string) error {
	rest := line
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return fmt.Errorf("unclosed { in %q", line)
		}
		switch rest[i : i+j+1] {
		case "{bank}", "{product}", "{verify_url}", "{contract_id}":
		default:
			return fmt.Errorf("unknown placeholder %s (use {bank}, {product}, {verify_url}, {contract_id})", rest[i:i+j+1])
		}
		rest = rest[i+j+1:]
	}
	if len(line) > 200 {
		return fmt.Errorf("longer than 200 characters")
	}
	for _, r := range line {
		if r > 0xff || r < 0x20 {
			return fmt.Errorf("the seal is drawn in a Latin-1 font: %q cannot be shown", r)
		}
	}
	return nil
}

// CheckSMSSender accepts an alphanumeric SMS sender name: 1-11 of
// A-Z, a-z, 0-9, space, '.', '-'.
func CheckSMSSender(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > 11 {
		return fmt.Errorf("%q is longer than the 11 characters of an alphanumeric SMS sender", s)
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == ' ' || r == '.' || r == '-') {
			return fmt.Errorf("%q: an SMS sender name takes only A-Z, a-z, 0-9, space, '.' and '-'", s)
		}
	}
	return nil
}
