package pades_test

import (
	"bytes"
	"context"
	"testing"

	"esign/internal/pades"
	"esign/internal/pdf/pdftest"
)

// FuzzVerify feeds arbitrary files to the verifier: it must return an
// error or a report, never panic or hang.
func FuzzVerify(f *testing.F) {
	f.Add(pdftest.Minimal(1))
	// a signature field whose values are garbage
	sig := bytes.Replace(pdftest.Minimal(1), []byte("/Type /Catalog /Pages 2 0 R"),
		[]byte("/Type /Catalog /Pages 2 0 R /AcroForm << /Fields [<< /FT /Sig /T (S) /V << /Type /Sig /SubFilter /ETSI.CAdES.detached /ByteRange [0 10 20 30] /Contents <3080> >> >>] >>"), 1)
	f.Add(sig)
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := pades.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{})
		if err != nil {
			return
		}
		_ = rep.Summary()
		if rep.Valid() {
			t.Fatal("a fuzzed file cannot carry a valid signature")
		}
	})
}

// FuzzPrepare prepares a signature on arbitrary input: an error or a
// prepared file, never a panic.
func FuzzPrepare(f *testing.F) {
	f.Add(pdftest.Minimal(1))
	f.Fuzz(func(t *testing.T, b []byte) {
		var out bytes.Buffer
		p, err := pades.Prepare(context.Background(), bytes.NewReader(b), int64(len(b)), &out, pades.PrepareOptions{ContentsSize: 64})
		if err != nil {
			return
		}
		if !bytes.HasPrefix(out.Bytes(), b) || p.ByteRange[2]+p.ByteRange[3] != int64(out.Len()) {
			t.Fatal("prepared output does not extend the input")
		}
	})
}
