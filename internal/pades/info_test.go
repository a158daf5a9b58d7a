package pades_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"esign/internal/pades"
	"esign/internal/pdf"
	"esign/internal/pdf/pdftest"
)

// TestSignAddsInfo: PrepareOptions.Info adds entries to the document
// information dictionary in the signature's own update, keeping the
// existing ones; a second update cannot change an entry already there.
func TestSignAddsInfo(t *testing.T) {
	e := env(t)
	in := filepath.Join(t.TempDir(), "in.pdf")
	os.WriteFile(in, pdftest.Minimal(1), 0o644)
	opt := e.signOptions(pades.LevelBB)
	opt.Prepare = pades.PrepareOptions{Info: map[string]string{"BankCaseNumber": "CASE-042-77", "Branch": "Győr"}}
	out := signFile(t, in, opt) // the input stays a byte-exact prefix
	qpdfCheck(t, out)
	verifyOK(t, e, out)
	b, _ := os.ReadFile(out)
	doc, err := pdf.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	info, err := doc.ResolveDict(doc.Trailer["Info"])
	if err != nil || info == nil {
		t.Fatalf("info %v, %v", info, err)
	}
	if s, _ := pdf.AsString(info["BankCaseNumber"]); string(s) != "CASE-042-77" {
		t.Errorf("BankCaseNumber %q", s)
	}
	if _, ok := info["Branch"]; !ok {
		t.Error("Branch missing")
	}

	// Changing an entry the document has is refused.
	second := e.signOptions(pades.LevelBB)
	second.Prepare = pades.PrepareOptions{Info: map[string]string{"BankCaseNumber": "CASE-other"}}
	w, err := os.Create(filepath.Join(t.TempDir(), "again.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	err = pades.Sign(context.Background(), bytes.NewReader(b), int64(len(b)), w, second)
	if !errors.Is(err, pades.ErrInfoExists) {
		t.Fatalf("changing an info entry: %v", err)
	}
}
