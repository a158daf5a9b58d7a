package esign

import (
	"strings"
	"unicode/utf8"
)

// checker collects validation failures of one entity so that Validate can
// report all of them at once as one Invalid error.
type checker struct {
	op   string
	msgs []string
}

func newChecker(op string) *checker { return &checker{op: op} }

// that records msg when ok is false.
func (c *checker) that(ok bool, msg string) {
	if !ok {
		c.msgs = append(c.msgs, msg)
	}
}

// text checks a string field: required or not, and at most max runes.
func (c *checker) text(name, v string, required bool, max int) {
	switch {
	case required && strings.TrimSpace(v) == "":
		c.msgs = append(c.msgs, name+" is required")
	case !utf8.ValidString(v):
		c.msgs = append(c.msgs, name+" is not valid UTF-8")
	case utf8.RuneCountInString(v) > max:
		c.msgs = append(c.msgs, name+" is too long")
	}
}

// id checks an identifier field; an optional one may be empty.
func (c *checker) id(name, v string, required bool) {
	if v == "" {
		c.that(!required, name+" is required")
		return
	}
	c.that(ValidID(v), name+" is not a valid id")
}

// oneOf checks that v is one of the allowed values.
func oneOf[T comparable](c *checker, name string, v T, allowed ...T) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.msgs = append(c.msgs, name+" has an unknown value")
}

func (c *checker) err() error {
	if len(c.msgs) == 0 {
		return nil
	}
	return &Error{Op: c.op, Kind: Invalid, Msg: strings.Join(c.msgs, "; ")}
}

// isHexDigest reports whether s is a lower-case hex SHA-256 digest.
func isHexDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Clip cuts s to at most n bytes at a character boundary (for texts from
// outside stored with a size limit).
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
