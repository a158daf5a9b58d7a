package adminui

import (
	"strings"
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

// FuzzParseUpload: the upload forms' bodies come from the browser. They
// parse into fields and files, or into an Invalid error, never a panic;
// no text field is longer than its limit and no more files than parts.
func FuzzParseUpload(f *testing.F) {
	const boundary = "xYzZY"
	f.Add("--xYzZY\r\nContent-Disposition: form-data; name=\"customer\"\r\n\r\nC-1\r\n--xYzZY\r\n" +
		"Content-Disposition: form-data; name=\"document\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\r\n--xYzZY--\r\n")
	f.Add("--xYzZY\r\nContent-Disposition: form-data; name=\"document\"; filename=\"\"\r\n\r\n\r\n--xYzZY--\r\n")
	f.Add("--xYzZY\r\nContent-Disposition: form-data; name=\"evil\"; filename=\"x\"\r\n\r\nx\r\n--xYzZY--\r\n")
	f.Add("--xYzZY\r\n\r\n--xYzZY")
	f.Fuzz(func(t *testing.T, body string) {
		ct := "multipart/form-data; boundary=" + boundary
		u, err := parseOfferUpload(ct, strings.NewReader(body))
		if err != nil {
			if !esign.IsKind(err, esign.Invalid) {
				t.Fatalf("parseOfferUpload: %v", err)
			}
		} else {
			for _, v := range []string{u.Customer, u.Reference, u.Title, u.Description, u.Expires, u.Channel} {
				if len(v) > maxFieldBytes {
					t.Fatalf("a field of %d bytes passed", len(v))
				}
			}
			if len(u.Files) > maxParts {
				t.Fatalf("%d files passed", len(u.Files))
			}
			_, _ = u.upload()
		}
		if _, err := parseVerifyUpload(ct, strings.NewReader(body)); err != nil && !esign.IsKind(err, esign.Invalid) {
			t.Fatalf("parseVerifyUpload: %v", err)
		}
	})
}
