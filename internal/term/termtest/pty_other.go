//go:build !linux

package termtest

import (
	"errors"
	"testing"
)

func open() (*PTY, error) { return nil, errors.New("pseudo-terminals are only set up on Linux") }

// Echo reports whether the terminal echoes what is typed.
func (p *PTY) Echo(tb testing.TB) bool { tb.Helper(); return true }

// TypeHidden types line and Enter once the program turned echo off.
func (p *PTY) TypeHidden(tb testing.TB, line string) { tb.Helper(); tb.Fatal("no pseudo-terminal") }
