package term

import (
	"os"
	"strings"
	"testing"
)

func TestReadPasswordNotTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "notty")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a file is a terminal")
	}
	if _, err := ReadPassword(f); err != ErrNotTerminal {
		t.Errorf("ReadPassword(file) = %v", err)
	}
}

func TestReadLine(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            bool
	}{
		{"newline", "abc\nrest", "abc", false},
		{"carriageReturn", "abc\r", "abc", false},
		{"eof", "abc", "abc", false},
		{"empty", "", "", true},
		{"tooLong", strings.Repeat("x", maxLine+1), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readLine(strings.NewReader(tt.in))
			if got != tt.want || (err != nil) != tt.err {
				t.Errorf("readLine(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}
