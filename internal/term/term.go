// Package term reads a secret typed at a terminal without showing it.
package term

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrNotTerminal is returned by ReadPassword for a file that is not a
// terminal.
var ErrNotTerminal = errors.New("term: not a terminal")

// maxLine bounds a line read from the terminal.
const maxLine = 4096

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	_, err := getState(int(f.Fd()))
	return err == nil
}

// ReadPassword reads one line from the terminal f with echo turned off and
// restores the terminal's state afterwards. The line ends at a newline or
// carriage return, which is not returned.
func ReadPassword(f *os.File) (string, error) {
	fd := int(f.Fd())
	old, err := getState(fd)
	if err != nil {
		return "", ErrNotTerminal
	}
	if err := setNoEcho(fd, old); err != nil {
		return "", fmt.Errorf("term: turn echo off: %w", err)
	}
	defer setState(fd, old)
	return readLine(f)
}

// readLine reads up to a newline one byte at a time, so that nothing after
// the line is consumed.
func readLine(r io.Reader) (string, error) {
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := r.Read(b)
		if n == 1 {
			switch b[0] {
			case '\n', '\r':
				return string(line), nil
			default:
				if len(line) >= maxLine {
					return "", errors.New("term: line too long")
				}
				line = append(line, b[0])
			}
		}
		if err == io.EOF && len(line) > 0 {
			return string(line), nil
		}
		if err != nil {
			return "", err
		}
	}
}
