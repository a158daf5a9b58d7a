package customerui

import (
	"fmt"
	"testing"
)

func TestParseRange(t *testing.T) {
	const size = 1000
	tests := []struct {
		header      string
		ok          bool
		off, length int64
		satisfiable bool
	}{
		{"bytes=0-99", true, 0, 100, true},
		{"bytes=100-", true, 100, 900, true},
		{"bytes=-10", true, 990, 10, true},
		{"bytes=-5000", true, 0, 1000, true},
		{"bytes=990-5000", true, 990, 10, true},
		{" bytes=5-5 ", true, 5, 1, true},
		{"bytes=1000-", true, 0, 0, false},
		{"bytes=1000-1001", true, 0, 0, false},
		{"", false, 0, 0, false},
		{"bytes=", false, 0, 0, false},
		{"bytes=-", false, 0, 0, false},
		{"bytes=-0", false, 0, 0, false},
		{"bytes=5-4", false, 0, 0, false},
		{"bytes=0-1,5-6", false, 0, 0, false},
		{"items=0-1", false, 0, 0, false},
		{"bytes=+1-2", false, 0, 0, false},
		{"bytes=1 -2", false, 0, 0, false},
		{"bytes=99999999999999999999-", false, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.header, func(t *testing.T) {
			br, ok := parseRange(tc.header)
			if ok != tc.ok {
				t.Fatalf("parse: ok %v, want %v (%+v)", ok, tc.ok, br)
			}
			if !ok {
				return
			}
			off, n, sat := br.resolve(size)
			if sat != tc.satisfiable || (sat && (off != tc.off || n != tc.length)) {
				t.Fatalf("resolve: %d+%d %v, want %d+%d %v", off, n, sat, tc.off, tc.length, tc.satisfiable)
			}
		})
	}
}

// FuzzParseRange: whatever the header, a satisfiable range lies inside
// the document and is not empty; an empty document satisfies nothing.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-99", "bytes=-10", "bytes=5-", "bytes=0-1,2-3", "bytes=9223372036854775807-", "bytes=-9223372036854775807"} {
		f.Add(s, int64(1000))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			return
		}
		br, ok := parseRange(h)
		if !ok {
			return
		}
		off, n, sat := br.resolve(size)
		if !sat {
			return
		}
		if size == 0 || off < 0 || n <= 0 || off > size-n {
			t.Fatalf("%q on %d bytes: %d+%d (%+v)", h, size, off, n, br)
		}
		if got := fmt.Sprintf("%d-%d", off, off+n-1); br.suffix == 0 && br.last >= 0 && br.last < size && got != fmt.Sprintf("%d-%d", br.first, br.last) {
			t.Fatalf("%q: %s", h, got)
		}
	})
}
