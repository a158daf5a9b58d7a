package pades_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"esign/internal/pades"
	"esign/internal/pdf"
	"esign/internal/pdf/pdftest"
)

// withTextField returns Minimal(1) plus an update that adds an AcroForm
// with a text field on page 1 (a two-revision input with a form).
func withTextField(t *testing.T) ([]byte, pdf.Ref) {
	var field pdf.Ref
	b := appendUpdate(t, pdftest.Minimal(1), func(d *pdf.Document, u *pdf.Update) {
		pageRef, pg := firstPage(t, d)
		field = u.Add(pdf.Dict{"FT": pdf.Name("Tx"), "T": pdf.String{Value: []byte("name")}, "Type": pdf.Name("Annot"),
			"Subtype": pdf.Name("Widget"), "Rect": pdf.Array{pdf.Int(72), pdf.Int(600), pdf.Int(300), pdf.Int(620)},
			"P": pageRef, "DA": pdf.String{Value: []byte("/Helv 12 Tf 0 g")}})
		acro := u.Add(pdf.Dict{"Fields": pdf.Array{field}, "DA": pdf.String{Value: []byte("/Helv 12 Tf 0 g")}})
		np := pg.Clone()
		np["Annots"] = pdf.Array{field}
		u.Set(pageRef, np)
		cat, catRef, _ := d.Catalog()
		nc := cat.Clone()
		nc["AcroForm"] = acro
		u.Set(catRef, nc)
	})
	return b, field
}

func TestSignForm(t *testing.T) {
	e := env(t)
	in, field := withTextField(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "form.pdf")
	os.WriteFile(p, in, 0o644)
	qpdfCheck(t, p)
	out := signFile(t, p, e.signOptions(pades.LevelBB))
	qpdfCheck(t, out)
	pdfsigCheck(t, e, nssDB(t, e), out, pades.LevelBB)
	rep := verifyOK(t, e, out)
	if rep.Signatures[0].Field != "Signature1" {
		t.Fatalf("field %q", rep.Signatures[0].Field)
	}
	signed, _ := os.ReadFile(out)

	t.Run("formFillAllowed", func(t *testing.T) {
		b := appendUpdate(t, signed, func(d *pdf.Document, u *pdf.Update) {
			f, _ := d.ResolveDict(field)
			nf := f.Clone()
			nf["V"] = pdf.String{Value: []byte("Kovács Éva")}
			u.Set(field, nf)
		})
		rep := verifyBytes(t, b)
		if !rep.Valid() {
			t.Fatalf("form fill after signing reported invalid:\n%s", rep.Summary())
		}
		if c := rep.Signatures[0].Changes; len(c) != 1 || c[0].Kind != "form_fill" || !c[0].Allowed {
			t.Fatalf("changes %+v", c)
		}
	})
	t.Run("fieldRectMovedNotAllowed", func(t *testing.T) {
		b := appendUpdate(t, signed, func(d *pdf.Document, u *pdf.Update) {
			f, _ := d.ResolveDict(field)
			nf := f.Clone()
			nf["Rect"] = pdf.Array{pdf.Int(0), pdf.Int(0), pdf.Int(595), pdf.Int(842)}
			u.Set(field, nf)
		})
		rep := verifyBytes(t, b)
		if rep.Valid() || !slices.Contains(rep.Signatures[0].Attacks, pades.AttackShadow) {
			t.Fatalf("moved field not flagged:\n%s", rep.Summary())
		}
	})
}
