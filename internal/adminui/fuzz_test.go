package adminui

import (
	"testing"

	"esign/internal/esign"
)

// FuzzParseCursor: the "after" parameter comes from the address bar; it
// parses into a cursor that formats back to itself, or into an Invalid
// error, never a panic.
func FuzzParseCursor(f *testing.F) {
	f.Add("")
	f.Add("1796547600000000.01a24284-3828-7a7b-a078-5f0d15c3ca48")
	f.Add("-1.x")
	f.Add("99999999999999999999.01a24284-3828-7a7b-a078-5f0d15c3ca48")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCursor(s)
		if err != nil {
			if !esign.IsKind(err, esign.Invalid) {
				t.Fatalf("parseCursor(%q): %v", s, err)
			}
			return
		}
		if s == "" {
			if !c.IsZero() {
				t.Fatal("empty parameter, non-zero cursor")
			}
			return
		}
		if again, err := parseCursor(formatCursor(c)); err != nil || again != c {
			t.Fatalf("round trip of %q: %v %v", s, again, err)
		}
	})
}
