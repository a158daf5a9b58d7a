package pdf_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"esign/internal/esign"
	"esign/internal/pdf"
	"esign/internal/pdf/pdftest"
)

// withUpdate appends an empty-ish incremental update to b.
func withUpdate(t *testing.T, b []byte) []byte {
	t.Helper()
	d := openBytes(t, b)
	u := d.NewUpdate()
	u.Add(pdf.Dict{"X": pdf.Int(1)})
	built, err := u.Build()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := built.WriteTo(bytes.NewReader(b), &out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestOpenReasons(t *testing.T) {
	good := pdftest.Minimal(1)
	two := withUpdate(t, good)
	lastXref := bytes.LastIndex(two, []byte("\nxref")) + 1
	firstXref := bytes.Index(good, []byte("\nxref")) + 1
	loop := bytes.Replace(two, []byte(fmt.Sprintf("/Prev %d", firstXref)), []byte(fmt.Sprintf("/Prev %d", lastXref)), 1)
	badPrev := bytes.Replace(two, []byte(fmt.Sprintf("/Prev %d", firstXref)), []byte("/Prev 99999999"), 1)
	brokenTable := bytes.Replace(good, []byte("0000000000 65535 f"), []byte("00000000x0 65535 f"), 1)
	noRoot := bytes.Replace(good, []byte("/Root 1 0 R"), []byte("/Rooz 1 0 R"), 1)
	badCatalog := bytes.Replace(good, []byte("<< /Type /Catalog /Pages 2 0 R >>"), []byte("[  /Type /Catalog /Pages 2 0 R  ]"), 1)
	noPages := bytes.Replace(good, []byte("/Pages 2 0 R >>"), []byte("/Pagez 2 0 R >>"), 1)
	tests := []struct {
		name   string
		in     []byte
		reason pdf.Reason
		says   string // in the user message
		pages  bool   // the error comes from Pages, not Open
	}{
		{"tooShort", []byte("%PDF-1.4\n"), pdf.ReasonTooShort, "too short", false},
		{"noHeader", []byte(strings.Repeat("<html>not a pdf</html>\n", 10)), pdf.ReasonNoHeader, "no %PDF- header", false},
		{"truncated", good[:len(good)-40], pdf.ReasonNoStartXRef, "truncated", false},
		{"startxrefOutside", bytes.Replace(good, []byte("startxref\n"), []byte("startxref\n9"), 1), pdf.ReasonBadStartXRef, "startxref", false},
		{"brokenTable", brokenTable, pdf.ReasonBrokenXRef, "cross-reference section at offset", false},
		{"prevLoop", loop, pdf.ReasonPrevLoop, "loops back", false},
		{"prevOutside", badPrev, pdf.ReasonBrokenXRef, "/Prev 99999999", false},
		{"noRoot", noRoot, pdf.ReasonNoRoot, "/Root", false},
		{"badCatalog", badCatalog, pdf.ReasonBadCatalog, "catalog", true},
		{"noPageTree", noPages, pdf.ReasonBadPageTree, "page tree", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.pages && bytes.Equal(tt.in, good) {
				t.Fatal("input not modified")
			}
			d, err := pdf.Open(bytes.NewReader(tt.in), int64(len(tt.in)))
			if tt.pages {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				_, err = d.Pages()
			}
			if err == nil {
				t.Fatal("no error")
			}
			var ee *esign.Error
			if !errors.As(err, &ee) || ee.Code != pdf.CodeMalformed || ee.Kind != esign.Invalid {
				t.Fatalf("got %v, want Invalid/%s", err, pdf.CodeMalformed)
			}
			if got := pdf.ReasonOf(err); got != tt.reason {
				t.Errorf("reason %q, want %q (%v)", got, tt.reason, err)
			}
			msg := esign.ErrorMessage(err)
			if !strings.HasPrefix(msg, "the file is not a readable PDF: ") || !strings.Contains(msg, tt.says) {
				t.Errorf("message %q does not say %q", msg, tt.says)
			}
			if strings.Contains(msg, "syntax error at offset") {
				t.Errorf("message %q shows parser internals", msg)
			}
		})
	}
}

func TestOpenHeaderNotAtZero(t *testing.T) {
	good := pdftest.Minimal(2)
	prefix := []byte("GIF89a junk before the header\n")
	shifted := append(append([]byte(nil), prefix...), good...)
	d := openBytes(t, shifted)
	fr := d.Framing()
	if fr.Before != int64(len(prefix)) || !fr.Shifted || fr.After != 0 {
		t.Fatalf("framing %+v", fr)
	}
	pages, err := d.Pages()
	if err != nil || len(pages) != 2 {
		t.Fatalf("pages %v, %v", pages, err)
	}
	pg, _ := d.ResolveDict(pages[1])
	c, err := d.Resolve(pg["Contents"])
	if err != nil {
		t.Fatal(err)
	}
	data, err := d.StreamData(c.(*pdf.Stream), 1<<20)
	if err != nil || !bytes.Contains(data, []byte("Page 2 of a test contract")) {
		t.Fatalf("page 2 content %q, %v", data, err)
	}
	if got, _ := d.ReadPrefix(100); !bytes.Equal(got, prefix) {
		t.Errorf("prefix %q", got)
	}
	// appending to it would mix two offset origins
	u := d.NewUpdate()
	u.Add(pdf.Dict{})
	if _, err := u.Build(); pdf.ReasonOf(err) != pdf.ReasonUnsupportedPD {
		t.Errorf("Build on a shifted file: %v", err)
	}

	// a file whose offsets already count from byte 0 is not shifted
	d = openBytes(t, good)
	if fr := d.Framing(); fr.Before != 0 || fr.Shifted || fr.After != 0 {
		t.Errorf("plain file framing %+v", fr)
	}
}

func TestFramingAfterEOF(t *testing.T) {
	good := pdftest.Minimal(1)
	for _, tail := range []string{"", "\n\n\x00\x00 ", "<script>alert(1)</script>\n"} {
		b := append(append([]byte(nil), good...), tail...)
		d := openBytes(t, b)
		fr := d.Framing()
		if fr.After != int64(len(tail)) {
			t.Errorf("tail %q: After %d", tail, fr.After)
		}
		got, err := d.ReadTrailing(1024)
		if err != nil || string(got) != tail {
			t.Errorf("tail %q: ReadTrailing %q %v", tail, got, err)
		}
	}
}
