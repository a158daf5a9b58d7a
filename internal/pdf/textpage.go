package pdf

import (
	"io"
	"strconv"
)

// TextLine is a line of a text page: Size in points (default 10), Bold
// for the bold face, Gap extra points of space above it.
type TextLine struct {
	Text string
	Size int
	Bold bool
	Gap  int
}

// Text page geometry: the first baseline is below pageTop, none below
// pageBottom.
const (
	pageTop    = 800
	pageBottom = 40
)

// lineHeight is the vertical space a line takes.
func (l TextLine) lineHeight() int {
	size := l.Size
	if size <= 0 {
		size = 10
	}
	return size + size/3 + l.Gap
}

// TextLinesFit returns how many of lines, from the first, fit on a text
// page.
func TextLinesFit(lines []TextLine) int {
	y := pageTop
	for i, l := range lines {
		if y -= l.lineHeight(); y < pageBottom {
			return i
		}
	}
	return len(lines)
}

// WriteTextPage writes a one-page A4 PDF 1.7 document of lines in the
// standard Helvetica fonts, top to bottom from the upper margin; lines
// below the lower margin are not drawn. Text is written in
// WinAnsiEncoding: characters it lacks are replaced (ő by ö, ű by ü,
// others by '?'). title goes into the document information. The output
// depends only on the arguments.
func WriteTextPage(w io.Writer, title string, lines []TextLine) error {
	var b []byte
	y := pageTop
	for _, l := range lines[:TextLinesFit(lines)] {
		size := l.Size
		if size <= 0 {
			size = 10
		}
		y -= l.lineHeight()
		font := "/F1 "
		if l.Bold {
			font = "/F2 "
		}
		b = append(b, "BT "...)
		b = append(b, font...)
		b = strconv.AppendInt(b, int64(size), 10)
		b = append(b, " Tf 50 "...)
		b = strconv.AppendInt(b, int64(y), 10)
		b = append(b, " Td "...)
		b = Format(b, String{Value: WinAnsi(l.Text)})
		b = append(b, " Tj ET\n"...)
	}
	font := func(name string) Dict {
		return Dict{"Type": Name("Font"), "Subtype": Name("Type1"), "BaseFont": Name(name), "Encoding": Name("WinAnsiEncoding")}
	}
	objs := []Object{
		Dict{"Type": Name("Catalog"), "Pages": Ref{Num: 2}},
		Dict{"Type": Name("Pages"), "Kids": Array{Ref{Num: 3}}, "Count": Int(1)},
		Dict{"Type": Name("Page"), "Parent": Ref{Num: 2}, "MediaBox": Array{Int(0), Int(0), Int(595), Int(842)},
			"Resources": Dict{"Font": Dict{"F1": Ref{Num: 5}, "F2": Ref{Num: 6}}}, "Contents": Ref{Num: 4}},
		&Stream{Dict: Dict{}, Data: b},
		font("Helvetica"),
		font("Helvetica-Bold"),
		Dict{"Title": String{Value: WinAnsi(title)}, "Producer": String{Value: []byte("esign")}},
	}
	return writeFile(w, objs, Dict{"Root": Ref{Num: 1}, "Info": Ref{Num: 7}})
}

// winAnsiExtra maps the characters of WinAnsiEncoding outside Latin-1
// that text pages use, and the Hungarian letters it lacks.
var winAnsiExtra = map[rune]byte{
	'€': 0x80, '…': 0x85, '–': 0x96, '—': 0x97, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95,
	'ő': 0xf6, 'ű': 0xfc, 'Ő': 0xd6, 'Ű': 0xdc,
}

// WinAnsi encodes s in WinAnsiEncoding, replacing what it cannot encode
// (see WriteTextPage).
func WinAnsi(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7f, r >= 0xa0 && r <= 0xff:
			out = append(out, byte(r))
		case winAnsiExtra[r] != 0:
			out = append(out, winAnsiExtra[r])
		default:
			out = append(out, '?')
		}
	}
	return out
}
