package hsm

import (
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"token=bank;key=seal", "token=bank;key=seal", ""},
		{"slot=3;key=seal", "slot=3;key=seal", ""},
		{" key=seal ; token=bank", "token=bank;key=seal", ""},
		{"token=bank", "", "key label is missing"},
		{"key=seal", "", "exactly one"},
		{"token=a;slot=1;key=seal", "", "exactly one"},
		{"slot=-1;key=seal", "", "not a slot number"},
		{"token=bank;key=seal;pin=1234", "", "unknown field"},
		{"token", "", "not name=value"},
	} {
		r, err := ParseRef(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseRef(%q) = %v, want error with %q", tc.in, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("ParseRef(%q): %v", tc.in, err)
		case tc.err == "" && r.String() != tc.want:
			t.Errorf("ParseRef(%q) = %q, want %q", tc.in, r, tc.want)
		}
	}
}

func FuzzParseRef(f *testing.F) {
	f.Add("token=bank;key=seal")
	f.Add("slot=0;key=x")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			return
		}
		again, err := ParseRef(r.String())
		if err != nil || again.String() != r.String() {
			t.Fatalf("%q: round trip %q: %v", s, r, err)
		}
	})
}
