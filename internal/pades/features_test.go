package pades_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/cms"
	"esign/internal/esigntest"
	"esign/internal/pades"
	"esign/internal/pdf/pdftest"
)

func testJPEG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for x := 0; x < 40; x++ {
		for y := 0; y < 20; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 6), 80, uint8(y * 12), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSignVisibleWithAttachment signs page 2 visibly (text and image) with
// an embedded evidence file, and checks the result with qpdf, pdfsig, the
// verifier and qpdf's attachment listing.
func TestSignVisibleWithAttachment(t *testing.T) {
	e := env(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	os.WriteFile(in, pdftest.Minimal(2), 0o644)
	opt := e.signOptions(pades.LevelBT)
	opt.Prepare = pades.PrepareOptions{
		Name: "Bank Zrt.", Reason: "Contract sealed", Location: "Budapest",
		Appearance: &pades.Appearance{Page: 2, Rect: [4]float64{300, 50, 560, 120},
			Lines: []string{"Digitally signed by Bank Zrt.", "Ügyfél: Kovács Éva", "2026-11-27"}, JPEG: testJPEG(t)},
		Attachments: []pades.Attachment{{Name: "evidence.json", Description: "customer signature evidence",
			MIMEType: "application/json", Data: []byte(`{"customerSignatureHash":"abc"}`)}},
	}
	out := signFile(t, in, opt)
	qpdfCheck(t, out)
	pdfsigCheck(t, e, nssDB(t, e), out, pades.LevelBT)
	rep := verifyOK(t, e, out)
	if rep.Signatures[0].Level != "B-T" {
		t.Fatalf("level %q", rep.Signatures[0].Level)
	}
	qpdf := esigntest.Tool(t, "qpdf")
	list, err := exec.Command(qpdf, "--list-attachments", out).CombinedOutput()
	if err != nil || !strings.Contains(string(list), "evidence.json") {
		t.Fatalf("qpdf --list-attachments: %v\n%s", err, list)
	}
	got, err := exec.Command(qpdf, "--show-attachment=evidence.json", out).Output()
	if err != nil || string(got) != `{"customerSignatureHash":"abc"}` {
		t.Fatalf("attachment content %q, %v", got, err)
	}
	// a second signature on top of the visible one keeps both valid
	// (another certificate: poppler 22.12 fails to validate the same
	// certificate twice in one file, whoever signed)
	second := e.signOptions(pades.LevelBB)
	second.CMS = &pades.LocalSigner{Signer: e.other}
	out2 := signFile(t, out, second)
	if rep := verifyOK(t, e, out2); len(rep.Signatures) != 2 {
		t.Fatalf("%d signatures", len(rep.Signatures))
	}
	pdfsigCheck(t, e, nssDB(t, e), out2, pades.LevelBB)
	// gs renders the visible signature without complaint
	gs := esigntest.Tool(t, "gs")
	if msg, err := exec.Command(gs, "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=nullpage", out2).CombinedOutput(); err != nil || len(msg) > 0 {
		t.Fatalf("gs: %v\n%s", err, msg)
	}
}

// remoteSigner stands for pdfservice: it only ever sees the digest.
type remoteSigner struct {
	signer cms.Signer
	seen   [][]byte
}

func (r *remoteSigner) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	r.seen = append(r.seen, append([]byte(nil), digest...))
	return (&pades.LocalSigner{Signer: r.signer}).SignDigest(ctx, digest)
}

// TestHashBasedPath prepares where the document is, signs the digest
// elsewhere and embeds the returned CMS.
func TestHashBasedPath(t *testing.T) {
	e := env(t)
	in := pdftest.Minimal(1)
	f, err := os.Create(filepath.Join(t.TempDir(), "prepared.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	p, err := pades.Prepare(ctx, bytes.NewReader(in), int64(len(in)), f, pades.PrepareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Digest) != 32 {
		t.Fatalf("digest of %d bytes", len(p.Digest))
	}
	rs := &remoteSigner{signer: cms.Signer(e.dev.Signer)}
	der, err := rs.SignDigest(ctx, p.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Embed(f, der); err != nil {
		t.Fatal(err)
	}
	verifyOK(t, e, f.Name())
	t.Run("tooLarge", func(t *testing.T) {
		if err := p.Embed(f, make([]byte, p.ContentsSize+1)); err == nil {
			t.Fatal("oversized CMS accepted")
		}
	})
}

func TestSignBadInput(t *testing.T) {
	e := env(t)
	dir := t.TempDir()
	tests := []struct {
		name string
		in   []byte
	}{
		{"zeroByte", nil},
		{"notPDF", []byte("<html>hello</html>")},
		{"truncated", pdftest.Minimal(1)[:200]},
		{"encrypted", bytes.Replace(pdftest.Minimal(1), []byte("/Root 1 0 R"), []byte("/Root 1 0 R /Encrypt 9 0 R"), 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := filepath.Join(dir, tt.name+".pdf")
			out := filepath.Join(dir, tt.name+"-signed.pdf")
			os.WriteFile(in, tt.in, 0o644)
			if err := pades.SignFile(context.Background(), in, out, e.signOptions(pades.LevelBB)); err == nil {
				t.Fatal("no error")
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatal("output left behind after a failure")
			}
			if _, err := pades.VerifyFile(context.Background(), in, pades.VerifyOptions{}); err == nil {
				t.Fatal("verify: no error")
			}
		})
	}
}
