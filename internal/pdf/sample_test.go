package pdf_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/esigntest"
	"esign/internal/pdf"
)

func TestWriteSample(t *testing.T) {
	tests := []struct {
		name  string
		title string
		pages int
	}{
		{"onePage", "", 1},
		{"threePages", "Sample offer", 3},
		{"escapedTitle", `Loan (2026) \ draft`, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := pdf.WriteSample(&b, tt.title, tt.pages); err != nil {
				t.Fatal(err)
			}
			d := openBytes(t, b.Bytes())
			pages, err := d.Pages()
			if err != nil || len(pages) != tt.pages {
				t.Fatalf("Pages: %d, %v; want %d", len(pages), err, tt.pages)
			}
			for i, p := range pages {
				pd, err := d.ResolveDict(p)
				if err != nil {
					t.Fatal(err)
				}
				o, err := d.Resolve(pd["Contents"])
				if err != nil {
					t.Fatal(err)
				}
				s, ok := o.(*pdf.Stream)
				if !ok {
					t.Fatalf("page %d: contents %T", i+1, o)
				}
				data, err := d.StreamData(s, 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				if want := fmt.Sprintf("Page %d of %d", i+1, tt.pages); !strings.Contains(string(data), want) {
					t.Errorf("page %d does not say %q:\n%s", i+1, want, data)
				}
			}
			var again bytes.Buffer
			pdf.WriteSample(&again, tt.title, tt.pages)
			if !bytes.Equal(again.Bytes(), b.Bytes()) {
				t.Error("the same arguments gave different files")
			}

			qpdf := esigntest.Tool(t, "qpdf")
			file := filepath.Join(t.TempDir(), "sample.pdf")
			if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(qpdf, "--check", file).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "No syntax or stream encoding errors found") {
				t.Errorf("qpdf --check: %v\n%s", err, out)
			}
		})
	}
}

func TestWriteSampleRefusesBadPageCounts(t *testing.T) {
	for _, n := range []int{0, -1, pdf.MaxSamplePages + 1} {
		if err := pdf.WriteSample(&bytes.Buffer{}, "", n); err == nil {
			t.Errorf("%d pages: no error", n)
		}
	}
}
