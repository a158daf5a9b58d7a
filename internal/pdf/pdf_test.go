package pdf_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/pdf"
	"esign/internal/pdf/pdftest"
)

func openBytes(t testing.TB, b []byte) *pdf.Document {
	t.Helper()
	d, err := pdf.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return d
}

func TestParseObject(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want pdf.Object
	}{
		{"int", "42", pdf.Int(42)},
		{"negative", "-7", pdf.Int(-7)},
		{"real", "3.5", pdf.Real(3.5)},
		{"realLeadingDot", ".5", pdf.Real(0.5)},
		{"name", "/Type", pdf.Name("Type")},
		{"nameEscape", "/A#20B", pdf.Name("A B")},
		{"literal", "(a (b) \\) c\\n)", pdf.String{Value: []byte("a (b) ) c\n")}},
		{"octal", "(\\101\\1012)", pdf.String{Value: []byte("AA2")}},
		{"hex", "<48 65 6C6C6F>", pdf.String{Value: []byte("Hello"), Hex: true}},
		{"hexOdd", "<414>", pdf.String{Value: []byte("A@"), Hex: true}},
		{"ref", "12 0 R", pdf.Ref{Num: 12}},
		{"array", "[1 2 0 R /N (s) true null]", pdf.Array{pdf.Int(1), pdf.Ref{Num: 2}, pdf.Name("N"), pdf.String{Value: []byte("s")}, pdf.Bool(true), nil}},
		{"dict", "<</A 1/B[2 3]/C<</D/E>>/N null>>", pdf.Dict{"A": pdf.Int(1), "B": pdf.Array{pdf.Int(2), pdf.Int(3)}, "C": pdf.Dict{"D": pdf.Name("E")}}},
		{"comment", "% hello\n 5", pdf.Int(5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pdf.ParseObject([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !pdf.Equal(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
			// Format and parse again: same object.
			again, err := pdf.ParseObject(pdf.Format(nil, got))
			if err != nil || !pdf.Equal(again, got) {
				t.Fatalf("round trip: %#v, %v", again, err)
			}
		})
	}
}

func TestParseObjectErrors(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"unterminatedDict", "<< /A 1"},
		{"unterminatedString", "(abc"},
		{"badHex", "<4G>"},
		{"deepArrays", strings.Repeat("[", 10000)},
		{"deepDicts", strings.Repeat("<</A ", 1000)},
		{"keyNotName", "<< 1 2 >>"},
		{"keyword", "foo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := pdf.ParseObject([]byte(tt.in)); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestOpenVariants(t *testing.T) {
	for _, v := range pdftest.Variants(t, t.TempDir()) {
		t.Run(v.Name, func(t *testing.T) {
			b, err := os.ReadFile(v.Path)
			if err != nil {
				t.Fatal(err)
			}
			d := openBytes(t, b)
			pages, err := d.Pages()
			if err != nil {
				t.Fatal(err)
			}
			if len(pages) != 2 {
				t.Fatalf("got %d pages, want 2", len(pages))
			}
			pg, err := d.ResolveDict(pages[0])
			if err != nil {
				t.Fatal(err)
			}
			c, err := d.Resolve(pg["Contents"])
			if err != nil {
				t.Fatal(err)
			}
			var s *pdf.Stream
			switch c := c.(type) {
			case *pdf.Stream:
				s = c
			case pdf.Array:
				o, _ := d.Resolve(c[0])
				s, _ = o.(*pdf.Stream)
			}
			if s == nil {
				t.Fatalf("page contents %T", c)
			}
			if _, err := d.StreamData(s, 1<<20); err != nil {
				t.Fatalf("StreamData: %v", err)
			}
			testUpdate(t, v.Path, b, d)
		})
	}
}

// testUpdate appends an update (new object, changed catalog) and checks the
// prefix, our reader and qpdf --check.
func testUpdate(t *testing.T, path string, orig []byte, d *pdf.Document) {
	t.Helper()
	cat, catRef, err := d.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	origPages, err := d.Pages()
	if err != nil {
		t.Fatal(err)
	}
	u := d.NewUpdate()
	r := u.Add(pdf.Dict{"Test": pdf.String{Value: []byte("added (by) update")}})
	nc := cat.Clone()
	nc["EsignTest"] = r
	u.Set(catRef, nc)
	built, err := u.Build()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := built.WriteTo(bytes.NewReader(orig), &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out.Bytes(), orig) {
		t.Fatal("original is not a prefix of the output")
	}
	d2 := openBytes(t, out.Bytes())
	if d2.Sections[0].Stream != d.Sections[0].Stream {
		t.Errorf("new xref section stream=%v, previous %v", d2.Sections[0].Stream, d.Sections[0].Stream)
	}
	cat2, _, err := d2.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	o, err := d2.ResolveDict(cat2["EsignTest"])
	if err != nil || o == nil {
		t.Fatalf("added object: %v %v", o, err)
	}
	if pages, err := d2.Pages(); err != nil || len(pages) != len(origPages) {
		t.Fatalf("pages after update: %d %v", len(pages), err)
	}
	qpdf := esigntest.Tool(t, "qpdf")
	p := filepath.Join(t.TempDir(), "updated.pdf")
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(qpdf, "--check", p).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, msg)
	}
}

func TestOpenBadInput(t *testing.T) {
	good := pdftest.Minimal(1)
	lying := bytes.Replace(pdftest.Minimal(1), []byte("/Length 56"), []byte("/Length 99"), 1)
	shortLen := bytes.Replace(pdftest.Minimal(1), []byte("/Length 56"), []byte("/Length 10"), 1)
	if bytes.Equal(lying, good) || bytes.Equal(shortLen, good) {
		t.Fatal("test input not modified")
	}
	encrypted := bytes.Replace(good, []byte("/Root 1 0 R"), []byte("/Root 1 0 R /Encrypt << /Filter /Standard >>"), 1)
	tests := []struct {
		name string
		in   []byte
		code string
	}{
		{"empty", nil, pdf.CodeMalformed},
		{"notPDF", []byte("hello world, this is not a pdf file at all"), pdf.CodeMalformed},
		{"truncated", good[:len(good)/2], pdf.CodeMalformed},
		{"brokenXref", bytes.Replace(good, []byte("startxref\n"), []byte("startxref\n9"), 1), pdf.CodeMalformed},
		{"encrypted", encrypted, pdf.CodeEncrypted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pdf.Open(bytes.NewReader(tt.in), int64(len(tt.in)))
			if err == nil {
				t.Fatal("no error")
			}
			var ee *esign.Error
			if !errors.As(err, &ee) || ee.Kind != esign.Invalid || ee.Code != tt.code {
				t.Fatalf("got %v, want Invalid/%s", err, tt.code)
			}
		})
	}
	for name, in := range map[string][]byte{"lyingLengthLong": lying, "lyingLengthShort": shortLen} {
		t.Run(name, func(t *testing.T) { checkContents(t, in) })
	}
}

func checkContents(t *testing.T, in []byte) {
	{
		d := openBytes(t, in)
		pages, err := d.Pages()
		if err != nil {
			t.Fatal(err)
		}
		pg, _ := d.ResolveDict(pages[0])
		c, err := d.Resolve(pg["Contents"])
		if err != nil {
			t.Fatal(err)
		}
		s := c.(*pdf.Stream)
		data, err := d.StreamData(s, 1<<20)
		if err != nil || string(data) != "BT /F1 24 Tf 72 720 Td (Page 1 of a test contract) Tj ET" {
			t.Fatalf("stream data %q %v", data, err)
		}
	}
}

func FuzzParseObject(f *testing.F) {
	for _, s := range []string{"<</A [1 2 0 R (x) <41>]>>", "(a\\(b)", "[[[/N]]]", "1 0 R", "<< /A 1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := pdf.ParseObject(b)
		if err != nil {
			return
		}
		if _, err := pdf.ParseObject(pdf.Format(nil, o)); err != nil {
			t.Fatalf("formatted object does not parse: %v", err)
		}
	})
}

func FuzzOpen(f *testing.F) {
	f.Add(pdftest.Minimal(1))
	f.Add(pdftest.Hybrid())
	// once looped forever: a table keyword followed by a delimiter
	f.Add([]byte("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\nxref>] >>\nstartxref\n39\n%%EOF0"))
	f.Add([]byte("%PDF-1.7\n1 0 obj<</Type/XRef/W[1 2 1]/Size 2/Length 4>>stream\n\x01\x00\x09\x00\nendstream\nendobj\nstartxref\n9\n%%EOF"))
	f.Add(append([]byte("<html><script>x</script>\n"), pdftest.Minimal(1)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := pdf.Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if pdf.ReasonOf(err) == "" {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if fr := d.Framing(); fr.Before < 0 || fr.After < 0 || fr.End > int64(len(b)) {
			t.Fatalf("framing %+v of %d bytes", fr, len(b))
		}
		d.ReadTrailing(64)
		d.ReadPrefix(64)
		if _, err := d.Pages(); err != nil && pdf.ReasonOf(err) == "" {
			t.Fatalf("unclassified Pages error: %v", err)
		}
		pages, _ := d.Pages()
		for _, p := range pages {
			pg, _ := d.ResolveDict(p)
			if c, _ := d.Resolve(pg["Contents"]); c != nil {
				if s, ok := c.(*pdf.Stream); ok {
					d.StreamData(s, 1<<20)
				}
			}
		}
		for num := 0; num <= min(d.MaxObjectNumber(), 200); num++ {
			d.Object(num)
		}
		u := d.NewUpdate()
		u.Add(pdf.Dict{})
		u.Build()
	})
}
