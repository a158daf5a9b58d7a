package pdf

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"strconv"
)

// MaxSamplePages bounds the pages of a sample document.
const MaxSamplePages = 100

// sampleText is the body of every page of a sample document.
var sampleText = []string{
	"This is a sample offer made by esign for trying out signing and",
	"verification. It has no legal meaning.",
	"",
	"Customer: Sample Customer (C-0001)",
	"Subject:  personal loan of 1,000,000 HUF over 36 months",
	"",
	"By signing, the customer accepts the terms on every page of this",
	"document. The bank seals the signed document with a PAdES signature",
	"and a trusted timestamp; anyone can verify it later with",
	"'esign pdf verify', pdfsig or any PAdES validator.",
}

// WriteSample writes a small valid PDF 1.7 document of pages pages (1 to
// MaxSamplePages) to w: a sample offer with a title, a few lines of text
// and a page number on each page, in the standard Helvetica font, with a
// classic cross-reference table. The output depends only on its arguments.
func WriteSample(w io.Writer, title string, pages int) error {
	if pages < 1 || pages > MaxSamplePages {
		return fmt.Errorf("pdf: a sample has 1 to %d pages, not %d", MaxSamplePages, pages)
	}
	if title == "" {
		title = "Sample offer"
	}
	// Objects 1-4: catalog, page tree, font, document information; then a
	// page and its content stream for each page.
	objs := []Object{
		Dict{"Type": Name("Catalog"), "Pages": Ref{Num: 2}},
		nil, // the page tree, once the kids are known
		Dict{"Type": Name("Font"), "Subtype": Name("Type1"), "BaseFont": Name("Helvetica"), "Encoding": Name("WinAnsiEncoding")},
		Dict{"Title": String{Value: []byte(title)}, "Producer": String{Value: []byte("esign pdf sample")}},
	}
	var kids Array
	for i := 1; i <= pages; i++ {
		page := Ref{Num: len(objs) + 1}
		kids = append(kids, page)
		objs = append(objs,
			Dict{"Type": Name("Page"), "Parent": Ref{Num: 2}, "MediaBox": Array{Int(0), Int(0), Int(595), Int(842)},
				"Resources": Dict{"Font": Dict{"F1": Ref{Num: 3}}}, "Contents": Ref{Num: page.Num + 1}},
			&Stream{Dict: Dict{}, Data: samplePage(title, i, pages)})
	}
	objs[1] = Dict{"Type": Name("Pages"), "Kids": kids, "Count": Int(pages)}
	return writeFile(w, objs, Dict{"Root": Ref{Num: 1}, "Info": Ref{Num: 4}})
}

// samplePage returns the content stream of page n of total.
func samplePage(title string, n, total int) []byte {
	var b []byte
	text := func(size, x, y int, s string) {
		b = append(b, "BT /F1 "...)
		b = strconv.AppendInt(b, int64(size), 10)
		b = append(b, " Tf "...)
		b = strconv.AppendInt(b, int64(x), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(y), 10)
		b = append(b, " Td "...)
		b = Format(b, String{Value: []byte(s)})
		b = append(b, " Tj ET\n"...)
	}
	text(20, 72, 760, title)
	for i, line := range sampleText {
		if line != "" {
			text(11, 72, 720-16*i, line)
		}
	}
	text(9, 72, 48, fmt.Sprintf("Page %d of %d", n, total))
	return b
}

// writeFile writes a complete PDF file whose objects are objs, numbered
// from 1, with a classic cross-reference table. The trailer gets /Size and
// an /ID derived from the body.
func writeFile(w io.Writer, objs []Object, trailer Dict) error {
	var body []byte
	offsets := make([]int, len(objs))
	body = append(body, "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"...)
	for i, o := range objs {
		offsets[i] = len(body)
		body = strconv.AppendInt(body, int64(i+1), 10)
		body = append(body, " 0 obj\n"...)
		body = Format(body, o)
		body = append(body, "\nendobj\n"...)
	}
	sum := sha256.Sum256(body)
	id := String{Value: sum[:16], Hex: true}
	t := trailer.Clone()
	t["Size"] = Int(len(objs) + 1)
	t["ID"] = Array{id, id}

	bw := bufio.NewWriter(w)
	bw.Write(body)
	xref := len(body)
	fmt.Fprintf(bw, "xref\n0 %d\n0000000000 65535 f\r\n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(bw, "%010d 00000 n\r\n", off)
	}
	bw.WriteString("trailer\n")
	bw.Write(Format(nil, t))
	fmt.Fprintf(bw, "\nstartxref\n%d\n%%%%EOF\n", xref)
	return bw.Flush()
}
