package pades

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // JPEG images for visible signatures
	"strconv"

	"esign/internal/esign"
	"esign/internal/pdf"
)

// Appearance describes a visible signature.
type Appearance struct {
	Page     int        // 1-based page number; 0 means the first page
	Rect     [4]float64 // lower-left x, y, upper-right x, y in PDF points
	Lines    []string   // text lines, drawn in Helvetica (Latin-1 characters)
	FontSize float64    // default 9
	JPEG     []byte     // optional image (baseline JPEG) drawn on the left
}

func (a *Appearance) addTo(u *pdf.Update, widget pdf.Dict) error {
	const op = "pades.Prepare"
	w, h := a.Rect[2]-a.Rect[0], a.Rect[3]-a.Rect[1]
	if w <= 0 || h <= 0 || w > 14400 || h > 14400 {
		return esign.E(op, esign.Invalid, "the visible signature rectangle is empty or too large")
	}
	fs := a.FontSize
	if fs <= 0 {
		fs = 9
	}
	res := pdf.Dict{}
	var c bytes.Buffer
	fmt.Fprintf(&c, "q 0.5 G 0.5 w 0.25 0.25 %s %s re S Q\n", num(w-0.5), num(h-0.5))
	textX := 4.0
	if len(a.JPEG) > 0 {
		cfg, format, err := image.DecodeConfig(bytes.NewReader(a.JPEG))
		if err != nil || format != "jpeg" || cfg.Width <= 0 || cfg.Height <= 0 {
			return esign.E(op, esign.Invalid, "the signature image is not a readable JPEG")
		}
		cs := "DeviceRGB"
		if isGray(a.JPEG) {
			cs = "DeviceGray"
		}
		img := u.Add(&pdf.Stream{Dict: pdf.Dict{
			"Type": pdf.Name("XObject"), "Subtype": pdf.Name("Image"),
			"Width": pdf.Int(cfg.Width), "Height": pdf.Int(cfg.Height),
			"ColorSpace": pdf.Name(cs), "BitsPerComponent": pdf.Int(8),
			"Filter": pdf.Name("DCTDecode"),
		}, Data: a.JPEG})
		res["XObject"] = pdf.Dict{"Im1": img}
		ih := h - 4
		iw := ih * float64(cfg.Width) / float64(cfg.Height)
		if iw > w/2 {
			iw = w / 2
			ih = iw * float64(cfg.Height) / float64(cfg.Width)
		}
		fmt.Fprintf(&c, "q %s 0 0 %s 2 %s cm /Im1 Do Q\n", num(iw), num(ih), num((h-ih)/2))
		textX = iw + 6
	}
	if len(a.Lines) > 0 {
		font := u.Add(pdf.Dict{"Type": pdf.Name("Font"), "Subtype": pdf.Name("Type1"),
			"BaseFont": pdf.Name("Helvetica"), "Encoding": pdf.Name("WinAnsiEncoding")})
		res["Font"] = pdf.Dict{"F1": font}
		lead := fs * 1.2
		y := h - 2 - fs
		fmt.Fprintf(&c, "BT /F1 %s Tf 0 g %s TL %s %s Td\n", num(fs), num(lead), num(textX), num(y))
		for i, l := range a.Lines {
			if i > 0 {
				c.WriteString("T* ")
			}
			c.Write(pdf.Format(nil, pdf.String{Value: latin1(l)}))
			c.WriteString(" Tj\n")
		}
		c.WriteString("ET\n")
	}
	ap := u.Add(&pdf.Stream{Dict: pdf.Dict{
		"Type": pdf.Name("XObject"), "Subtype": pdf.Name("Form"),
		"BBox":      pdf.Array{pdf.Int(0), pdf.Int(0), pdf.Real(w), pdf.Real(h)},
		"Resources": res,
	}, Data: c.Bytes()})
	widget["Rect"] = pdf.Array{pdf.Real(a.Rect[0]), pdf.Real(a.Rect[1]), pdf.Real(a.Rect[2]), pdf.Real(a.Rect[3])}
	widget["AP"] = pdf.Dict{"N": ap}
	return nil
}

// isGray reports whether a JPEG has one component (from its SOF marker).
func isGray(b []byte) bool {
	for i := 2; i+9 < len(b); {
		if b[i] != 0xff {
			return false
		}
		m := b[i+1]
		l := int(b[i+2])<<8 | int(b[i+3])
		if m >= 0xc0 && m <= 0xc3 {
			return b[i+9] == 1
		}
		i += 2 + l
	}
	return false
}

func latin1(s string) []byte {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff || r < 0x20 {
			r = '?'
		}
		b = append(b, byte(r))
	}
	return b
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
