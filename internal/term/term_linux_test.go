package term_test

import (
	"bytes"
	"strings"
	"testing"

	"esign/internal/term"
	"esign/internal/term/termtest"
)

// TestReadPasswordHidesInput types a password at a pseudo-terminal: it is
// read, not echoed, and the terminal echoes again afterwards.
func TestReadPasswordHidesInput(t *testing.T) {
	p := termtest.Open(t)
	if !term.IsTerminal(p.TTY) {
		t.Fatal("a pseudo-terminal is not a terminal")
	}
	type result struct {
		pw  string
		err error
	}
	done := make(chan result, 1)
	go func() {
		pw, err := term.ReadPassword(p.TTY)
		done <- result{pw, err}
	}()
	p.TypeHidden(t, "Correct-Horse-42")
	r := <-done
	if r.err != nil || r.pw != "Correct-Horse-42" {
		t.Fatalf("ReadPassword = %q, %v", r.pw, r.err)
	}
	if !p.Echo(t) {
		t.Error("echo not restored")
	}
	// Whatever the terminal showed up to a marker must not hold the password.
	p.TTY.WriteString("MARKER\n")
	var shown bytes.Buffer
	buf := make([]byte, 256)
	for !strings.Contains(shown.String(), "MARKER") {
		n, err := p.Master.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		shown.Write(buf[:n])
	}
	if strings.Contains(shown.String(), "Correct-Horse") {
		t.Errorf("the password was echoed: %q", shown.String())
	}
}
