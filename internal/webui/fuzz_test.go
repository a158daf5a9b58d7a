package webui

import (
	"log/slog"

	"golang.org/x/text/feature/plural"
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

// FuzzParseMessages: a bank's message file never panics the parser, and
// what it accepts formats without panicking.
func FuzzParseMessages(f *testing.F) {
	f.Add([]byte(`{"a":"x %d","b":{"one":"%d thing","other":"%d things"}}`))
	f.Add([]byte(`{"a":{"few":"x"}}`))
	f.Add([]byte(`{"a":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseMessages(data)
		if err != nil {
			return
		}
		c := &Catalogue{langs: []string{"pl"}, shipped: []string{"pl"}, fallback: "pl", msgs: map[string]map[string]message{"pl": m}, log: slog.New(slog.DiscardHandler)}
		for k, msg := range m {
			if _, ok := msg.plural[plural.Other]; msg.plural != nil && !ok {
				t.Fatalf("%q: plural forms without other accepted", k)
			}
			_ = c.T("pl", k, 3, "x")
			_ = c.Forms("pl", k)
		}
	})
}
