// Package termtest gives tests a pseudo-terminal to type at.
package termtest

import (
	"os"
	"testing"
)

// PTY is a pseudo-terminal: the program under test reads and writes TTY;
// the test types at and reads from Master.
type PTY struct {
	Master *os.File
	TTY    *os.File
}

// Open returns a new pseudo-terminal, closed when the test ends. It skips
// the test where the system has none.
func Open(tb testing.TB) *PTY {
	tb.Helper()
	p, err := open()
	if err != nil {
		tb.Skipf("no pseudo-terminal: %v", err)
	}
	tb.Cleanup(func() {
		p.TTY.Close()
		p.Master.Close()
	})
	return p
}
