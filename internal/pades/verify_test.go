package pades_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"esign/internal/pades"
	"esign/internal/pdf"
	"esign/internal/pdf/pdftest"
)

// signBytes signs in at level and returns the signed bytes.
func signBytes(t *testing.T, in []byte, level pades.Level) []byte {
	t.Helper()
	e := env(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(p, in, 0o644); err != nil {
		t.Fatal(err)
	}
	out := signFile(t, p, e.signOptions(level))
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func verifyBytes(t *testing.T, b []byte) *pades.Report {
	t.Helper()
	rep, err := pades.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{Roots: env(t).roots})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

// appendUpdate applies f to an incremental update of b.
func appendUpdate(t *testing.T, b []byte, f func(d *pdf.Document, u *pdf.Update)) []byte {
	t.Helper()
	d, err := pdf.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	u := d.NewUpdate()
	f(d, u)
	built, err := u.Build()
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte(nil), b...), built.Tail...)
}

func firstPage(t *testing.T, d *pdf.Document) (pdf.Ref, pdf.Dict) {
	pages, err := d.Pages()
	if err != nil {
		t.Fatal(err)
	}
	pg, err := d.ResolveDict(pages[0])
	if err != nil {
		t.Fatal(err)
	}
	return pages[0], pg
}

// patch replaces the first match of re in b with repl padded to the same
// length (so that every offset stays valid).
func patch(t *testing.T, b []byte, re, repl string) []byte {
	t.Helper()
	loc := regexp.MustCompile(re).FindIndex(b)
	if loc == nil {
		t.Fatalf("%q not found", re)
	}
	n := loc[1] - loc[0]
	if len(repl) > n {
		t.Fatalf("replacement longer than %d bytes", n)
	}
	out := append([]byte(nil), b...)
	copy(out[loc[0]:], repl+strings.Repeat(" ", n-len(repl)))
	return out
}

func TestVerifyValid(t *testing.T) {
	b := signBytes(t, pdftest.Minimal(2), pades.LevelBT)
	rep := verifyBytes(t, b)
	if !rep.Valid() || len(rep.Signatures) != 1 {
		t.Fatalf("want one valid signature:\n%s", rep.Summary())
	}
	s := rep.Signatures[0]
	if !s.CoversWholeFile || s.Level != "B-T" || !s.Integrity.OK || !s.Chain.OK || s.Timestamp == nil || !s.Timestamp.Check.OK {
		t.Fatalf("unexpected report: %+v", s)
	}
	j, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"signed":true`, `"level":"B-T"`, `"covers_whole_file":true`, `"attacks":[]`, `"valid":true`, `"integrity":{"ok":true}`} {
		if !strings.Contains(string(j), want) {
			t.Errorf("JSON report lacks %s:\n%s", want, j)
		}
	}
	for _, want := range []string{"VALID: 1 signature", "level:      PAdES B-T", "covers:     the whole file"} {
		if !strings.Contains(rep.Summary(), want) {
			t.Errorf("summary lacks %q:\n%s", want, rep.Summary())
		}
	}
}

func TestVerifyUnsigned(t *testing.T) {
	rep := verifyBytes(t, pdftest.Minimal(1))
	if rep.Signed || rep.Valid() || !strings.Contains(rep.Summary(), "not signed") {
		t.Fatalf("unsigned file: %+v", rep)
	}
}

func TestVerifyUntrusted(t *testing.T) {
	b := signBytes(t, pdftest.Minimal(1), pades.LevelBB)
	rep, err := pades.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{Roots: x509Pool()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Valid() || rep.Signatures[0].Chain.OK || !rep.Signatures[0].Integrity.OK {
		t.Fatalf("want integrity ok but chain untrusted:\n%s", rep.Summary())
	}
}

// TestVerifyAttacks tampers with signed files, one case per attack class,
// and checks that the verifier flags each.
func TestVerifyAttacks(t *testing.T) {
	signed := signBytes(t, pdftest.Minimal(2), pades.LevelBB)
	tests := []struct {
		name   string
		tamper func(t *testing.T) []byte
		attack string
	}{
		{"incrementalSavingContent", func(t *testing.T) []byte {
			return appendUpdate(t, signed, func(d *pdf.Document, u *pdf.Update) {
				_, pg := firstPage(t, d)
				u.Set(pg["Contents"].(pdf.Ref), &pdf.Stream{Dict: pdf.Dict{}, Data: []byte("BT /F1 24 Tf 72 720 Td (Pay 1,000,000 EUR) Tj ET")})
			})
		}, pades.AttackIncrementalSaving},
		{"incrementalSavingNewPageContents", func(t *testing.T) []byte {
			return appendUpdate(t, signed, func(d *pdf.Document, u *pdf.Update) {
				ref, pg := firstPage(t, d)
				np := pg.Clone()
				np["Contents"] = u.Add(&pdf.Stream{Dict: pdf.Dict{}, Data: []byte("BT /F1 24 Tf 72 600 Td (changed) Tj ET")})
				u.Set(ref, np)
			})
		}, pades.AttackIncrementalSaving},
		{"shadowReplaceFont", func(t *testing.T) []byte {
			return appendUpdate(t, signed, func(d *pdf.Document, u *pdf.Update) {
				u.Set(pdf.Ref{Num: 3}, pdf.Dict{"Type": pdf.Name("Font"), "Subtype": pdf.Name("Type1"), "BaseFont": pdf.Name("Courier")})
			})
		}, pades.AttackShadow},
		{"shadowHideWithAnnotation", func(t *testing.T) []byte {
			return appendUpdate(t, signed, func(d *pdf.Document, u *pdf.Update) {
				ref, pg := firstPage(t, d)
				annot := u.Add(pdf.Dict{"Type": pdf.Name("Annot"), "Subtype": pdf.Name("FreeText"),
					"Rect": pdf.Array{pdf.Int(60), pdf.Int(700), pdf.Int(500), pdf.Int(760)}, "Contents": pdf.String{Value: []byte("overlay")}})
				np := pg.Clone()
				annots, _ := pdf.AsArray(np["Annots"])
				np["Annots"] = append(append(pdf.Array(nil), annots...), annot)
				u.Set(ref, np)
			})
		}, pades.AttackShadow},
		{"wrappingByteRangeNotAtZero", func(t *testing.T) []byte {
			return patch(t, signed, `/ByteRange \[0 `, "/ByteRange [1 ")
		}, pades.AttackSignatureWrapping},
		{"wrappingGapNotContents", func(t *testing.T) []byte {
			m := regexp.MustCompile(`/ByteRange \[0 (\d+) (\d+) (\d+)\]`).FindSubmatch(signed)
			return patch(t, signed, `/ByteRange \[0 \d+ \d+ \d+\] *`, "/ByteRange [0 "+dec(m[1], -1)+" "+string(m[2])+" "+string(m[3])+"]")
		}, pades.AttackSignatureWrapping},
		{"wrappingNotWholeRevision", func(t *testing.T) []byte {
			m := regexp.MustCompile(`/ByteRange \[0 (\d+) (\d+) (\d+)\]`).FindSubmatch(signed)
			return patch(t, signed, `/ByteRange \[0 \d+ \d+ \d+\] *`, "/ByteRange [0 "+string(m[1])+" "+string(m[2])+" "+dec(m[3], -100)+"]")
		}, pades.AttackSignatureWrapping},
		{"wrappingTwoContents", func(t *testing.T) []byte {
			return patch(t, signed, `/Prop_Build <</App <</Name /esign>>>>`, "/Contents<3000>")
		}, pades.AttackSignatureWrapping},
		{"usfEmptyContents", func(t *testing.T) []byte {
			return zeroContents(t, signed)
		}, pades.AttackUSF},
		{"usfNoByteRange", func(t *testing.T) []byte {
			return patch(t, signed, `/ByteRange`, "/ByteRangX")
		}, pades.AttackUSF},
		{"usfByteRangeNull", func(t *testing.T) []byte {
			return patch(t, signed, `/ByteRange \[0 \d+ \d+ \d+\] *`, "/ByteRange null")
		}, pades.AttackUSF},
		{"usfGarbageContents", func(t *testing.T) []byte {
			return patch(t, signed, `/Contents <3082`, "/Contents <3181")
		}, pades.AttackUSF},
		{"digestMismatch", func(t *testing.T) []byte {
			return patch(t, signed, `Page 1 of a test contract`, "Page 1 of a fake contract")
		}, pades.AttackUSF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.tamper(t)
			rep, err := pades.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{Roots: env(t).roots})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if rep.Valid() {
				t.Fatalf("tampered file reported valid:\n%s", rep.Summary())
			}
			if len(rep.Signatures) == 0 || !slices.Contains(rep.Signatures[0].Attacks, tt.attack) {
				t.Fatalf("attack %s not flagged:\n%s", tt.attack, rep.Summary())
			}
		})
	}
}

// TestVerifyRevealedObject: the signed revision refers to an object it does
// not define (read as null); a later update defines it.
func TestVerifyRevealedObject(t *testing.T) {
	in := bytes.Replace(pdftest.Minimal(1), []byte("/Resources << /Font << /F1 3 0 R >> >>"),
		[]byte("/Resources << /Font << /F1 3 0 R >> /XObject << /X 40 0 R >> >>"), 1)
	in = fixXref(t, in)
	signed := signBytes(t, in, pades.LevelBB)
	if rep := verifyBytes(t, signed); !rep.Valid() {
		t.Fatalf("signed input not valid:\n%s", rep.Summary())
	}
	b := appendUpdate(t, signed, func(d *pdf.Document, u *pdf.Update) {
		u.Set(pdf.Ref{Num: 40}, &pdf.Stream{Dict: pdf.Dict{"Type": pdf.Name("XObject"), "Subtype": pdf.Name("Form"),
			"BBox": pdf.Array{pdf.Int(0), pdf.Int(0), pdf.Int(595), pdf.Int(842)}}, Data: []byte("1 g 0 0 595 842 re f")})
	})
	rep := verifyBytes(t, b)
	if rep.Valid() || !slices.Contains(rep.Signatures[0].Attacks, pades.AttackShadow) {
		t.Fatalf("revealed object not flagged:\n%s", rep.Summary())
	}
}
