package esign

import (
	"testing"
	"time"
)

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for range 1000 {
		id := NewID()
		if !ValidID(id) {
			t.Fatalf("NewID() = %q is not valid", id)
		}
		if id[14] != '7' || !(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') {
			t.Fatalf("NewID() = %q is not a version 7, RFC 9562 UUID", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
		if id[:13] < prev[:min(13, len(prev))] {
			t.Fatalf("NewID() went back in time: %q after %q", id, prev)
		}
		prev = id
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"01a21b10-fa91-7204-829f-68336724b06d", true},
		{"00000000-0000-7000-8000-000000000001", true},
		{"01A21B10-FA91-7204-829F-68336724B06D", false}, // canonical form is lower case
		{"01a21b10fa917204829f68336724b06d", false},
		{"01a21b10-fa91-7204-829f-68336724b06", false},
		{"01a21b10-fa91-7204-829f_68336724b06d", false},
		{"", false},
		{"1; DROP TABLE customer; --------------", false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.in); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzValidID(f *testing.F) {
	f.Add("01a21b10-fa91-7204-829f-68336724b06d")
	f.Add("")
	f.Add("zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz")
	f.Fuzz(func(t *testing.T, s string) {
		if ValidID(s) && len(s) != 36 {
			t.Fatalf("ValidID(%q) with length %d", s, len(s))
		}
	})
}

func TestTimestamp(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	in := time.Date(2026, 11, 27, 4, 5, 6, 123456789, loc)
	got := Timestamp(in)
	want := time.Date(2026, 11, 27, 3, 5, 6, 123456000, time.UTC)
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("Timestamp = %v, want %v", got, want)
	}
	if !Timestamp(time.Time{}).IsZero() {
		t.Fatal("Timestamp of the zero time is not zero")
	}
}
