package webui

import (
	"slices"
	"strings"
	"testing"
)

// FuzzAcceptLanguage: whatever the header, the answer is an offered
// language or "".
func FuzzAcceptLanguage(f *testing.F) {
	for _, s := range []string{"", "hu-HU,hu;q=0.9,en;q=0.8", "en;q=x", "*", "de;q=1e309,en", ";;,,"} {
		f.Add(s)
	}
	offered := []string{"hu", "en"}
	f.Fuzz(func(t *testing.T, h string) {
		if got := matchAcceptLanguage(h, offered); got != "" && !slices.Contains(offered, got) {
			t.Fatalf("matchAcceptLanguage(%q) = %q", h, got)
		}
	})
}

// FuzzLocalPath: a redirect target from a form never leaves the origin.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "//evil", "/\\evil", "https://x", "/ok?a=b", "/a\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got := LocalPath(p)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") || strings.ContainsAny(got, "\r\n") {
			t.Fatalf("LocalPath(%q) = %q", p, got)
		}
	})
}
