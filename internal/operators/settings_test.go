package operators_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"esign/internal/operators"
)

func TestCheckSetting(t *testing.T) {
	for _, tt := range []struct{ key, value, want string }{
		{"customer.notice", "", ""},
		{"customer.notice", "Maintenance on Sunday", ""},
		{"customer.notice", strings.Repeat("é", 500), ""},
		{"customer.notice", strings.Repeat("é", 501), "too_long"},
		{"customer.notice", "bad \xff", "too_long"},
		{"customer.support_email", "help@bank.example", ""},
		{"customer.support_email", "Help <help@bank.example>", "invalid"},
		{"customer.support_email", "help at bank", "invalid"},
		{"customer.support_phone", "+36 1 234 5678", ""},
		{"customer.support_phone", "call us", "invalid"},
		{"app.min_version", "1.4.0", ""},
		{"app.min_version", "1.4", "invalid"},
		{"app.min_version", "", ""},
		{"brand.colour", "red", "unknown"},
	} {
		if got := operators.CheckSetting(tt.key, tt.value); got != tt.want {
			t.Errorf("CheckSetting(%q, %q) = %q, want %q", tt.key, tt.value, got, tt.want)
		}
	}
}

// FuzzCheckSetting: values come from a form; every accepted one is valid
// UTF-8 within the setting's length, and the check never panics.
func FuzzCheckSetting(f *testing.F) {
	for _, d := range operators.Settings {
		f.Add(d.Key, "")
	}
	f.Add("customer.support_email", "a@b.c")
	f.Add("customer.support_phone", "+36 (1) 234-5678")
	f.Add("app.min_version", "10.20.30")
	f.Fuzz(func(t *testing.T, key, value string) {
		if operators.CheckSetting(key, value) != "" {
			return
		}
		for _, d := range operators.Settings {
			if d.Key == key && (!utf8.ValidString(value) || utf8.RuneCountInString(value) > d.Max) {
				t.Fatalf("accepted %q for %s", value, key)
			}
		}
	})
}
