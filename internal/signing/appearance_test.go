package signing_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"regexp"
	"strings"
	"testing"

	"esign/internal/bus"
	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/pades"
	"esign/internal/pdf"
	"esign/internal/signing"
)

// TestSealAppearanceLine: the bank's visible line (branding.seal_line) and
// its logo are drawn in the seal's appearance, read back from the sealed
// PDF's signature widget.
func TestSealAppearanceLine(t *testing.T) {
	// The appearance does not depend on the database: SQLite only.
	const driver = "sqlite"
	ctx := context.Background()
	img := image.NewRGBA(image.Rect(0, 0, 30, 10))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	img.Set(0, 0, color.Black)
	var logo bytes.Buffer
	if err := jpeg.Encode(&logo, img, nil); err != nil {
		t.Fatal(err)
	}
	var lineFor string
	e := newEnv(t, driver, signing.Config{Sealing: &signing.Sealing{Seal: pades.SignOptions{Level: pades.LevelBT},
		Stream: bus.StreamContractUpdates, Logo: logo.Bytes(),
		Line: func(id string) string {
			lineFor = id
			return "Sealed by Példa Bank. Verify at https://sign.example/verify"
		}}})
	d := newDevice(t, signing.ECDSAP256)
	r1, err := e.svc.M1(ctx, e.p, e.m1(t, d, e.offer.ID))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := e.svc.M2(ctx, e.p, e.m2(t, d, r1.SignatureID, m2opts{}), customers.Meta{})
	if err != nil || r2.ContractID == "" {
		t.Fatalf("M2: %+v, %v", r2, err)
	}
	if lineFor != r2.ContractID {
		t.Errorf("line asked for contract %q, want %q", lineFor, r2.ContractID)
	}
	docs, err := e.ce.DB.ListDocuments(ctx, esign.DocumentFilter{ContractID: r2.ContractID})
	if err != nil || len(docs) == 0 {
		t.Fatalf("%d documents, %v", len(docs), err)
	}
	r, err := e.ce.Docs.Open(ctx, docs[0].StorageKey)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	lines, images := appearance(t, b)
	want := []string{"Sealed by P\xe9lda Bank. Verify at https://sign.example/verify", "Signed by "}
	if len(lines) != 3 || lines[0] != want[0] || !strings.HasPrefix(lines[1], want[1]) {
		t.Fatalf("appearance lines %q", lines)
	}
	if images != 1 {
		t.Fatalf("%d images in the appearance, want the logo", images)
	}
}

// appearance returns the text lines (Latin-1 bytes) and the number of
// images of the signature widget's normal appearance.
func appearance(t *testing.T, b []byte) ([]string, int) {
	t.Helper()
	doc, err := pdf.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	cat, _, err := doc.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	form, err := doc.ResolveDict(cat["AcroForm"])
	if err != nil {
		t.Fatal(err)
	}
	fields, _ := doc.Resolve(form["Fields"])
	for _, f := range fields.(pdf.Array) {
		field, err := doc.ResolveDict(f)
		if err != nil || field["FT"] != pdf.Name("Sig") {
			continue
		}
		ap, err := doc.ResolveDict(field["AP"])
		if err != nil {
			t.Fatal(err)
		}
		n, err := doc.Resolve(ap["N"])
		if err != nil {
			t.Fatal(err)
		}
		s, ok := n.(*pdf.Stream)
		if !ok {
			t.Fatalf("appearance %T", n)
		}
		data, err := doc.StreamData(s, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, m := range regexp.MustCompile(`\(((?:[^()\\]|\\.)*)\) Tj`).FindAllSubmatch(data, -1) {
			lines = append(lines, strings.NewReplacer(`\(`, "(", `\)`, ")", `\\`, `\`).Replace(string(m[1])))
		}
		return lines, bytes.Count(data, []byte(" Do "))
	}
	t.Fatal("no signature field")
	return nil, 0
}
