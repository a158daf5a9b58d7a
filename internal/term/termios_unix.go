//go:build linux || darwin || freebsd || netbsd || openbsd

package term

import "golang.org/x/sys/unix"

type state = unix.Termios

func getState(fd int) (*state, error) { return unix.IoctlGetTermios(fd, ioctlGet) }

func setState(fd int, s *state) error { return unix.IoctlSetTermios(fd, ioctlSet, s) }

// setNoEcho turns echo off and keeps line editing (canonical mode), so
// that the user can still correct a typo before Enter.
func setNoEcho(fd int, old *state) error {
	s := *old
	s.Lflag &^= unix.ECHO
	s.Lflag |= unix.ICANON | unix.ISIG
	s.Iflag |= unix.ICRNL
	return setState(fd, &s)
}
