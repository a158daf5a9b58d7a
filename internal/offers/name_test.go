package offers_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"esign/internal/esign"
	"esign/internal/offers"
)

func TestSafeName(t *testing.T) {
	long := strings.Repeat("é", 300)
	tests := []struct {
		in, want string
	}{
		{"agreement.pdf", "agreement.pdf"},
		{"Agreement.PDF", "Agreement.pdf"},
		{"agreement", "agreement.pdf"},
		{"agreement.docx", "agreement.docx.pdf"},
		{"a\r\nSet-Cookie: x=1.pdf", "a Set-Cookie: x=1.pdf"},
		{`C:\offers\2026\agreement.pdf`, "agreement.pdf"},
		{"../../etc/passwd", "passwd.pdf"},
		{"  hitel   szerződés\t2026 .pdf ", "hitel szerződés 2026.pdf"},
		{"invoice\u202efdp.exe", "invoicefdp.exe.pdf"},
		{"bad\xffutf8.pdf", "badutf8.pdf"},
		{long + ".pdf", strings.Repeat("é", 196) + ".pdf"},
	}
	for _, tt := range tests {
		got, err := offers.SafeName("test", tt.in)
		if tt.want == "" {
			if esign.ErrorCode(err) != "file_name" {
				t.Errorf("SafeName(%q) = %q, %v; want file_name refused", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("SafeName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", " ", ".pdf", "...pdf", "/", "\r\n", "a/", "\u200b.pdf"} {
		if got, err := offers.SafeName("test", in); esign.ErrorCode(err) != "file_name" {
			t.Errorf("SafeName(%q) = %q, %v; want file_name refused", in, got, err)
		}
	}
}

// FuzzSafeName: whatever the bank sends, a stored name is valid UTF-8 of
// at most 200 characters, without control, format or path characters, and
// ends in .pdf; or it is refused with file_name.
func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"a.pdf", "a\r\nb", `x\y/z.PDF`, "\u202e", "..", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := offers.SafeName("fuzz", in)
		if err != nil {
			if esign.ErrorCode(err) != "file_name" {
				t.Fatalf("SafeName(%q): %v", in, err)
			}
			return
		}
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > 200 || !strings.HasSuffix(strings.ToLower(got), ".pdf") ||
			strings.ContainsAny(got, `/\`) || strings.TrimSpace(got) != got {
			t.Fatalf("SafeName(%q) = %q", in, got)
		}
		for _, r := range got {
			if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("SafeName(%q) = %q keeps %U", in, got, r)
			}
		}
		if again, err := offers.SafeName("fuzz", got); err != nil || again != got {
			t.Fatalf("not stable: %q → %q → %q, %v", in, got, again, err)
		}
	})
}
