package branding

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestContrast(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#ffffff", 1},
		{"#0b4f8a", "#ffffff", 8.40},
		{"#777777", "#ffffff", 4.48},
	} {
		if got := Contrast(c.a, c.b); got < c.want-0.01 || got > c.want+0.01 {
			t.Errorf("Contrast(%s, %s) = %.3f, want %.2f", c.a, c.b, got, c.want)
		}
	}
}

func TestCheckColors(t *testing.T) {
	ok := DefaultColors()
	for _, c := range []struct {
		name  string
		edit  func(*Colors)
		field string // "" when accepted
	}{
		{"default", func(*Colors) {}, ""},
		{"uppercase", func(c *Colors) { c.Primary = "#0B4F8A" }, ""},
		{"short_hex", func(c *Colors) { c.Primary = "#fff" }, "color_primary"},
		{"name", func(c *Colors) { c.Accent = "red" }, "color_accent"},
		{"not_hex", func(c *Colors) { c.Text = "#12345g" }, "color_text"},
		{"css_injection", func(c *Colors) { c.Background = "#fff;}" }, "color_background"},
		{"low_contrast_on_primary", func(c *Colors) { c.Primary = "#ffcc00" }, "color_on_primary"},
		{"grey_on_white", func(c *Colors) { c.Primary, c.OnPrimary = "#ffffff", "#777777" }, "color_on_primary"},
		{"dark_theme", func(c *Colors) { c.Primary, c.OnPrimary = "#ffcc00", "#000000" }, ""},
		{"pale_text", func(c *Colors) { c.Text = "#aaaaaa" }, "color_text"},
		{"pale_accent", func(c *Colors) { c.Accent = "#99ccff" }, "color_accent"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cols := ok
			c.edit(&cols)
			err := CheckColors(cols)
			p, _ := err.(*Problem)
			switch {
			case c.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.field != "" && (p == nil || p.Field != c.field):
				t.Fatalf("got %v, want a problem with %s", err, c.field)
			}
		})
	}
}

func pngOf(t testing.TB, w, h int, noisy bool) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			c := color.NRGBA{0x0b, 0x4f, 0x8a, 0xff}
			if noisy {
				c = color.NRGBA{uint8(r.Uint32()), uint8(r.Uint32()), uint8(r.Uint32()), 0xff}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestParseLogo(t *testing.T) {
	const ns = `xmlns="http://www.w3.org/2000/svg"`
	for _, c := range []struct {
		name string
		data []byte
		ok   bool
		why  string
	}{
		{"png", pngOf(t, 120, 40, false), true, ""},
		{"png_too_many_pixels", pngOf(t, 3000, 10, false), false, "pixels"},
		{"png_too_large", pngOf(t, 400, 400, true), false, "larger than"},
		{"svg", []byte(`<?xml version="1.0"?><svg ` + ns + ` viewBox="0 0 10 10"><defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs><rect width="10" height="10" fill="url(#g)"/><text x="1" y="8">Bank</text></svg>`), true, ""},
		{"svg_script", []byte(`<svg ` + ns + `><script>alert(1)</script></svg>`), false, "<script>"},
		{"svg_onload", []byte(`<svg ` + ns + ` onload="alert(1)"><rect/></svg>`), false, "event handler"},
		{"svg_foreign_object", []byte(`<svg ` + ns + `><foreignObject><div/></foreignObject></svg>`), false, "foreignObject"},
		{"svg_external_href", []byte(`<svg ` + ns + ` xmlns:x="http://www.w3.org/1999/xlink"><use x:href="https://evil.example/a.svg#x"/></svg>`), false, "outside"},
		{"svg_javascript_href", []byte(`<svg ` + ns + `><use href="javascript:alert(1)"/></svg>`), false, "outside"},
		{"svg_external_fill", []byte(`<svg ` + ns + `><rect fill="url( 'https://evil.example/x' )"/></svg>`), false, "outside"},
		{"svg_style_element", []byte(`<svg ` + ns + `><style>@import url(x)</style></svg>`), false, "<style>"},
		{"svg_entity", []byte(`<!DOCTYPE svg [<!ENTITY a "b">]><svg ` + ns + `/>`), false, "DTD"},
		{"svg_image", []byte(`<svg ` + ns + `><image href="#x"/></svg>`), false, "<image>"},
		{"not_svg_root", []byte(`<html><svg/></html>`), false, "root"},
		{"html", []byte(`<script>alert(1)</script>`), false, "root"},
		{"garbage", []byte("GIF89a...."), false, "no <svg>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := ParseLogo(c.data)
			if c.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if l.ContentType == "" || l.ETag == "" {
					t.Fatalf("logo %+v", l)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.why) {
				t.Fatalf("got %v, want an error saying %q", err, c.why)
			}
		})
	}
}

func TestSealJPEG(t *testing.T) {
	l, err := ParseLogo(pngOf(t, 60, 20, false))
	if err != nil {
		t.Fatal(err)
	}
	j := l.SealJPEG()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(j))
	if err != nil || format != "jpeg" || cfg.Width != 60 || cfg.Height != 20 {
		t.Fatalf("SealJPEG: %v %s %+v", err, format, cfg)
	}
	svg, _ := ParseLogo([]byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`))
	if svg.SealJPEG() != nil {
		t.Fatal("an SVG logo gave a JPEG")
	}
}

func TestSealText(t *testing.T) {
	b := Default()
	b.BankName = "Példa Bank"
	got := b.SealText(SealFields{VerifyURL: "https://sign.example/verify"})
	if got != "Sealed by Példa Bank. Verify at https://sign.example/verify" {
		t.Fatalf("SealText = %q", got)
	}
	for line, ok := range map[string]bool{
		DefaultSealLine:                   true,
		"Contract {contract_id}":          true,
		"Verify at {verify_link}":         false,
		"Verify at {verify_url":           false,
		"Pecsételte: {bank} – ellenőrzés": false, // the en dash is not Latin-1
		"Pecsételte: {bank}":              true,
	} {
		if err := CheckSealLine(line); (err == nil) != ok {
			t.Errorf("CheckSealLine(%q) = %v", line, err)
		}
	}
}

func TestCSS(t *testing.T) {
	b := Default()
	b.Colors.Primary = "#123456"
	css := string(b.CSS())
	if !strings.Contains(css, "--brand: #123456;") || !strings.Contains(css, "--brand-fg: #ffffff;") {
		t.Fatalf("CSS:\n%s", css)
	}
	b.Colors.Primary = "#000;} body{display:none"
	if strings.Contains(string(b.CSS()), "display:none") {
		t.Fatal("an unchecked colour reached the stylesheet")
	}
}

func FuzzParseLogo(f *testing.F) {
	f.Add([]byte(`<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(#a)"/></svg>`))
	f.Add([]byte(`<svg onload="x"/>`))
	f.Add(pngOf(f, 4, 4, false))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLogo(data)
		if err != nil {
			return
		}
		if l.ContentType == "image/svg+xml" {
			low := strings.ToLower(string(data))
			if strings.Contains(low, "<script") || strings.Contains(low, "javascript:") {
				t.Fatalf("accepted an SVG with a script: %q", data)
			}
		}
	})
}
