package branding

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"strings"
)

// Size limits of a logo file.
const (
	MaxPNGBytes   = 256 << 10
	MaxSVGBytes   = 64 << 10
	MaxLogoPixels = 2048 // width and height of a PNG
)

// Logo is a checked logo file.
type Logo struct {
	ContentType string // image/png or image/svg+xml
	Data        []byte
	ETag        string // quoted SHA-256 prefix of Data
}

// LogoCSP is the Content-Security-Policy a logo is served with: an SVG
// opened on its own can run no script, load nothing and submit nothing.
const LogoCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"

// ReadLogo reads and checks the logo at path: a PNG of at most
// MaxPNGBytes and MaxLogoPixels a side, or an SVG of at most MaxSVGBytes
// with no script, event handler, foreign object, DTD or reference outside
// the file (ParseLogo).
func ReadLogo(path string) (*Logo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read logo: %w", errors.Unwrap(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxPNGBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read logo: %w", err)
	}
	return ParseLogo(data)
}

// ParseLogo checks the bytes of a logo, PNG or SVG by content.
func ParseLogo(data []byte) (*Logo, error) {
	var ct string
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		if len(data) > MaxPNGBytes {
			return nil, fmt.Errorf("the PNG logo is larger than %d KiB", MaxPNGBytes>>10)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("the PNG logo does not decode: %v", err)
		}
		if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxLogoPixels || cfg.Height > MaxLogoPixels {
			return nil, fmt.Errorf("the PNG logo is %d×%d pixels; at most %d a side", cfg.Width, cfg.Height, MaxLogoPixels)
		}
		ct = "image/png"
	default:
		if len(data) > MaxSVGBytes {
			return nil, fmt.Errorf("the logo is neither a PNG nor an SVG of at most %d KiB", MaxSVGBytes>>10)
		}
		if err := checkSVG(data); err != nil {
			return nil, fmt.Errorf("the SVG logo is refused: %v", err)
		}
		ct = "image/svg+xml"
	}
	sum := sha256.Sum256(data)
	return &Logo{ContentType: ct, Data: data, ETag: `"` + hex.EncodeToString(sum[:8]) + `"`}, nil
}

// svgElements are the elements a logo may hold: shapes, text, paint
// servers and grouping. Anything else (script, foreignObject, image,
// style, animation that could rewrite href, an editor's own elements such
// as Inkscape's namedview, …) is refused: export a plain SVG.
var svgElements = map[string]bool{
	"svg": true, "g": true, "defs": true, "title": true, "desc": true, "path": true, "rect": true, "circle": true,
	"ellipse": true, "line": true, "polyline": true, "polygon": true, "text": true, "tspan": true,
	"linearGradient": true, "radialGradient": true, "stop": true, "clipPath": true, "mask": true, "symbol": true,
	"use": true, "metadata": true,
}

// checkSVG refuses an SVG that could run a script or load anything when
// opened on its own: only the elements of svgElements, no on* attribute,
// no reference (href, url()) outside the document, no DTD or processing
// instruction other than the XML declaration.
func checkSVG(data []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	depth, root := 0, false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if root || t.Name.Local != "svg" {
					return errors.New("the root element is not <svg>")
				}
				root = true
			}
			depth++
			if !svgElements[t.Name.Local] {
				return fmt.Errorf("element <%s> is not allowed in a logo", t.Name.Local)
			}
			for _, a := range t.Attr {
				name := strings.ToLower(a.Name.Local)
				val := strings.ToLower(strings.TrimSpace(a.Value))
				switch {
				case strings.HasPrefix(name, "on"):
					return fmt.Errorf("event handler attribute %s on <%s>", a.Name.Local, t.Name.Local)
				case name == "href" && !strings.HasPrefix(val, "#"):
					return fmt.Errorf("<%s> refers outside the file (%s)", t.Name.Local, a.Value)
				case outsideRef(val):
					return fmt.Errorf("attribute %s of <%s> refers outside the file", a.Name.Local, t.Name.Local)
				}
			}
		case xml.EndElement:
			depth--
		case xml.Directive:
			return errors.New("a DTD or entity declaration is not allowed")
		case xml.ProcInst:
			if t.Target != "xml" {
				return fmt.Errorf("processing instruction <?%s?> is not allowed", t.Target)
			}
		}
	}
	if !root {
		return errors.New("no <svg> element")
	}
	return nil
}

// outsideRef reports whether an attribute value (lower case) loads or runs
// something: url() of anything but a fragment, a javascript: or data: URL,
// CSS expression() or @import.
func outsideRef(v string) bool {
	for rest := v; ; {
		i := strings.Index(rest, "url(")
		if i < 0 {
			break
		}
		rest = strings.TrimLeft(rest[i+4:], " '\"")
		if !strings.HasPrefix(rest, "#") {
			return true
		}
	}
	return strings.Contains(v, "javascript:") || strings.Contains(v, "expression(") || strings.Contains(v, "@import")
}

// SealJPEG is the logo as a JPEG on white for the seal's appearance (the
// PDF appearance draws baseline JPEGs); nil for an SVG logo, which would
// need a rasteriser, or one that does not decode.
func (l *Logo) SealJPEG() []byte {
	if l == nil || l.ContentType != "image/png" {
		return nil
	}
	src, err := png.Decode(bytes.NewReader(l.Data))
	if err != nil {
		return nil
	}
	b := src.Bounds()
	dst := image.NewRGBA(b)
	draw.Draw(dst, b, image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(dst, b, src, b.Min, draw.Over)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 90}); err != nil {
		return nil
	}
	return out.Bytes()
}
