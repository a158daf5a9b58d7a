package pdf_test

import (
	"os"
	"path/filepath"
	"testing"

	"esign/internal/pdf"
	"esign/internal/pdf/pdftest"
)

func TestHybridReference(t *testing.T) {
	b := pdftest.Hybrid()
	d := openBytes(t, b)
	cat, _, err := d.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	h, err := d.ResolveDict(cat["Hybrid"])
	if err != nil || h["Hybrid"] != pdf.Bool(true) {
		t.Fatalf("object in the hybrid xref stream: %v %v", h, err)
	}
	if d.Sections[0].Stream {
		t.Fatal("newest section should be the classic table")
	}
	p := filepath.Join(t.TempDir(), "hybrid.pdf")
	os.WriteFile(p, b, 0o644)
	testUpdate(t, p, b, d)
}
