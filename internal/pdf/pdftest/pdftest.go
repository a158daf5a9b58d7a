// Package pdftest builds PDF files for tests: a minimal generator and
// variants produced by external tools (qpdf, ghostscript).
package pdftest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/esigntest"
)

// Minimal returns a PDF 1.4 file with a classic xref table and the given
// number of pages, each showing a line of text.
func Minimal(pages int) []byte {
	return MinimalPadded(pages, 0)
}

// MinimalPadded is Minimal with an extra uncompressed stream object of pad
// bytes, to make files of a chosen size.
func MinimalPadded(pages int, pad int) []byte {
	var b bytes.Buffer
	WriteMinimal(&b, pages, pad)
	return b.Bytes()
}

// WriteMinimal streams MinimalPadded(pages, pad) to w without holding the
// padding in memory (for 100 MB benchmark inputs).
func WriteMinimal(w io.Writer, pages int, pad int) error {
	cw := &countWriter{w: w}
	var offs []int64
	obj := func(body string) {
		offs = append(offs, cw.n)
		fmt.Fprintf(cw, "%d 0 obj\n%s\nendobj\n", len(offs), body)
	}
	io.WriteString(cw, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	kids := ""
	for i := 0; i < pages; i++ {
		kids += fmt.Sprintf("%d 0 R ", 4+2*i)
	}
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids, pages))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	for i := 0; i < pages; i++ {
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i))
		content := fmt.Sprintf("BT /F1 24 Tf 72 720 Td (Page %d of a test contract) Tj ET", i+1)
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	}
	if pad > 0 {
		offs = append(offs, cw.n)
		fmt.Fprintf(cw, "%d 0 obj\n<< /Length %d >>\nstream\n", len(offs), pad)
		chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
		for left := pad; left > 0; {
			n := min(left, len(chunk))
			cw.Write(chunk[:n])
			left -= n
		}
		io.WriteString(cw, "\nendstream\nendobj\n")
	}
	xref := cw.n
	fmt.Fprintf(cw, "xref\n0 %d\n0000000000 65535 f\r\n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(cw, "%010d 00000 n\r\n", o)
	}
	fmt.Fprintf(cw, "trailer\n<< /Size %d /Root 1 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>] >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return cw.err
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(b []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
	return n, err
}

// Hybrid returns Minimal(2) plus a hybrid-reference update: a classic
// table whose trailer has /XRefStm pointing at an xref stream that lists an
// object stored in an object stream (the catalog's /Hybrid entry).
func Hybrid() []byte {
	const pages = 2
	orig := Minimal(pages)
	i := bytes.LastIndex(orig, []byte("startxref\n"))
	var prev int
	fmt.Sscanf(string(orig[i+len("startxref\n"):]), "%d", &prev)
	stm, obj, xr := 3+2*pages+1, 3+2*pages+2, 3+2*pages+3
	var b bytes.Buffer
	b.Write(orig)
	catOff := b.Len()
	fmt.Fprintf(&b, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R /Hybrid %d 0 R >>\nendobj\n", obj)
	objs := "<< /Hybrid true >>"
	hdr := fmt.Sprintf("%d 0 ", obj)
	stmOff := b.Len()
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /ObjStm /N 1 /First %d /Length %d >>\nstream\n%s%s\nendstream\nendobj\n", stm, len(hdr), len(hdr)+len(objs), hdr, objs)
	xrOff := b.Len()
	row := func(typ byte, f2 int, f3 int) []byte {
		return []byte{typ, byte(f2 >> 24), byte(f2 >> 16), byte(f2 >> 8), byte(f2), byte(f3 >> 8), byte(f3)}
	}
	data := append(row(1, stmOff, 0), row(2, stm, 0)...)
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /XRef /W [1 4 2] /Index [%d 2] /Size %d /Length %d >>\nstream\n", xr, stm, xr+1, len(data))
	b.Write(data)
	b.WriteString("\nendstream\nendobj\n")
	x := b.Len()
	fmt.Fprintf(&b, "xref\n1 1\n%010d 00000 n\r\n%d 1\n%010d 00000 n\r\n", catOff, xr, xrOff)
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Prev %d /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n", xr+1, prev, xrOff, x)
	return b.Bytes()
}

const contractHTML = `<!doctype html><html><head><meta charset="utf-8"><title>Contract</title></head>
<body><h1>Szerződés</h1><p>Test contract printed by Chromium. Árvíztűrő tükörfúrógép.</p>
<p style="page-break-before: always">Second page.</p></body></html>`

const officeHTML = `<!doctype html><html><head><meta charset="utf-8"><title>Contract</title></head>
<body><h1>Szerződés</h1><p>Test contract exported by LibreOffice. Árvíztűrő tükörfúrógép.</p>
<p style="page-break-before: always">Second page.</p></body></html>`

// Variant is a named test input.
type Variant struct {
	Name string
	Path string
}

// Variants writes Minimal(2) to dir and converts it with external
// producers: qpdf (object and xref streams, linearized), Chromium's
// print-to-PDF and LibreOffice's PDF export, plain and PDF/A-2b (not in
// -short mode), and ghostscript.
// Missing tools skip (or fail under ESIGN_TEST_REQUIRE=1) the test.
func Variants(tb testing.TB, dir string) []Variant {
	tb.Helper()
	src := filepath.Join(dir, "classic.pdf")
	if err := os.WriteFile(src, Minimal(2), 0o644); err != nil {
		tb.Fatal(err)
	}
	vs := []Variant{{"classic", src}}
	hyb := filepath.Join(dir, "hybrid.pdf")
	if err := os.WriteFile(hyb, Hybrid(), 0o644); err != nil {
		tb.Fatal(err)
	}
	qpdf := esigntest.Tool(tb, "qpdf")
	gs := esigntest.Tool(tb, "gs")
	run := func(name string, args ...string) {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			tb.Fatalf("%s: %v\n%s", name, err, out)
		}
	}
	add := func(name string, args ...string) {
		p := filepath.Join(dir, name+".pdf")
		full := append([]string(nil), args...)
		for i, a := range full {
			full[i] = strings.ReplaceAll(a, "OUT", p)
		}
		run(name, full...)
		vs = append(vs, Variant{name, p})
	}
	add("qpdf-objstm", qpdf, "--object-streams=generate", src, "OUT")
	add("qpdf-linearized", qpdf, "--linearize", src, "OUT")
	add("qpdf-linearized-objstm", qpdf, "--linearize", "--object-streams=generate", src, "OUT")
	add("qpdf-pdf20", qpdf, "--force-version=2.0", "--object-streams=generate", src, "OUT")
	add("qpdf-pdf13", qpdf, "--force-version=1.3", "--object-streams=disable", src, "OUT")
	vs = append(vs, Variant{"hybrid", hyb})
	if !testing.Short() { // a headless browser takes a few seconds
		chromium := esigntest.Tool(tb, "chromium")
		html := filepath.Join(dir, "contract.html")
		if err := os.WriteFile(html, []byte(contractHTML), 0o644); err != nil {
			tb.Fatal(err)
		}
		add("chromium", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
			"--user-data-dir="+filepath.Join(dir, "chromium-profile"), "--print-to-pdf=OUT", "file://"+html)
		soffice := esigntest.Tool(tb, "soffice")
		for _, v := range []struct{ name, filter string }{
			{"libreoffice", "pdf:writer_pdf_Export"},
			{"libreoffice-pdfa2b", `pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}`},
		} {
			// soffice names the output after the input, in --outdir
			out := filepath.Join(dir, v.name)
			src := filepath.Join(out, "contract.html")
			if err := os.MkdirAll(out, 0o755); err != nil {
				tb.Fatal(err)
			}
			if err := os.WriteFile(src, []byte(officeHTML), 0o644); err != nil {
				tb.Fatal(err)
			}
			run(v.name, soffice, "--headless", "-env:UserInstallation=file://"+filepath.Join(dir, "libreoffice-profile"),
				"--convert-to", v.filter, "--outdir", out, src)
			p := filepath.Join(dir, v.name+".pdf")
			if err := os.Rename(filepath.Join(out, "contract.pdf"), p); err != nil {
				tb.Fatalf("%s: %v", v.name, err)
			}
			vs = append(vs, Variant{v.name, p})
		}
	}
	add("ghostscript", gs, "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite", "-sOutputFile=OUT", src)
	return vs
}
