//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package term

import "errors"

type state struct{}

var errUnsupported = errors.New("term: reading a password from the terminal is not supported on this system")

func getState(fd int) (*state, error)    { return nil, errUnsupported }
func setState(fd int, s *state) error    { return errUnsupported }
func setNoEcho(fd int, old *state) error { return errUnsupported }
