package pades_test

import (
	"bytes"
	"context"
	"os"
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
	// other signers' and other producers' files (testdata/inputs)
	addInputs(f, "legacy-noattr.pdf", "certified-p2.pdf", "polyglot-html-before-signed.pdf", "polyglot-zip-after.pdf")
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
	addInputs(f, "certified-p1.pdf", "polyglot-html-before.pdf", "padded-after-eof.pdf")
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

func addInputs(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile(inputPath(n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzEmbeddedFiles reads the attachments and the update offsets of
// arbitrary input (a contract someone hands to esign evidence verify):
// an error or an answer within bounds, never a panic.
func FuzzEmbeddedFiles(f *testing.F) {
	f.Add(pdftest.Minimal(1))
	f.Add(bytes.Replace(pdftest.Minimal(1), []byte("/Type /Catalog /Pages 2 0 R"),
		[]byte("/Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(evidence.json) << /EF << /F 2 0 R >> >>] >> >>"), 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		atts, err := pades.EmbeddedFiles(bytes.NewReader(b), int64(len(b)), 1<<16)
		if err == nil {
			for _, a := range atts {
				if len(a.Data) > 1<<16 {
					t.Fatalf("attachment of %d bytes over the limit", len(a.Data))
				}
			}
		}
		starts, err := pades.UpdateStarts(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, s := range starts {
			if s < 0 || s > int64(len(b)) {
				t.Fatalf("update start %d outside the file of %d bytes", s, len(b))
			}
		}
	})
}
