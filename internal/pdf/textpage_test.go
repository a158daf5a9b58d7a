package pdf

import (
	"bytes"
	"testing"
)

func TestWinAnsi(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain ASCII", "plain ASCII"},
		{"árvíztűrő tükörfúrógép", "\xe1rv\xedzt\xfcr\xf6 t\xfck\xf6rf\xfar\xf3g\xe9p"},
		{"ŐŰ — …", "\xd6\xdc \x97 \x85"},
		{"日本", "??"},
		{"tab\there", "tab?here"},
	}
	for _, tt := range tests {
		if got := string(WinAnsi(tt.in)); got != tt.want {
			t.Errorf("WinAnsi(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestWriteTextPage: one page that the package's own reader opens, with
// the lines in its content stream, and nothing drawn below the margin.
func TestWriteTextPage(t *testing.T) {
	var lines []TextLine
	for range 100 {
		lines = append(lines, TextLine{Text: "line (with parentheses)"})
	}
	lines[0] = TextLine{Text: "Title", Size: 16, Bold: true}
	var b bytes.Buffer
	if err := WriteTextPage(&b, "A report", lines); err != nil {
		t.Fatal(err)
	}
	d, err := Open(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	pages, err := d.Pages()
	if err != nil || len(pages) != 1 {
		t.Fatalf("%d pages, %v", len(pages), err)
	}
	pg, err := d.ResolveDict(pages[0])
	if err != nil {
		t.Fatal(err)
	}
	o, err := d.Resolve(pg["Contents"])
	if err != nil {
		t.Fatal(err)
	}
	data, err := d.StreamData(o.(*Stream), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("/F2 16 Tf")) || !bytes.Contains(data, []byte(`(line \(with parentheses\)) Tj`)) {
		t.Errorf("content stream:\n%s", data)
	}
	if n, fit := bytes.Count(data, []byte(" Tj")), TextLinesFit(lines); n != fit || fit >= 100 || fit < 50 {
		t.Errorf("%d lines drawn of 100, %d fit", n, fit)
	}
}
