package termtest

import (
	"fmt"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func open() (*PTY, error) {
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	fd := int(ptm.Fd())
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err == nil {
		err = unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0)
	}
	if err != nil {
		ptm.Close()
		return nil, err
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		ptm.Close()
		return nil, err
	}
	return &PTY{Master: ptm, TTY: tty}, nil
}

// Echo reports whether the terminal echoes what is typed.
func (p *PTY) Echo(tb testing.TB) bool {
	tb.Helper()
	t, err := unix.IoctlGetTermios(int(p.TTY.Fd()), unix.TCGETS)
	if err != nil {
		tb.Fatal(err)
	}
	return t.Lflag&unix.ECHO != 0
}

// TypeHidden waits until the program turned echo off, as a person waits
// for a password prompt, then types line and Enter.
func (p *PTY) TypeHidden(tb testing.TB, line string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.Echo(tb) {
		if time.Now().After(deadline) {
			tb.Fatal("the terminal still echoes after 10 s")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := p.Master.WriteString(line + "\n"); err != nil {
		tb.Fatal(err)
	}
}
