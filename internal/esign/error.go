// Package esign holds the domain of the electronic-signature platform: the
// entities, their validation, the error vocabulary and the service contracts
// that the transports (HTTP, RPC) and the stores implement. It imports only
// the standard library.
package esign

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error so that every transport can map it to its own
// status (HTTP status, RPC error code) without looking at the text.
type Kind uint8

// The error kinds. The zero value is Internal so that an unclassified error is
// never mistaken for a client error.
const (
	Internal     Kind = iota // something failed that the caller cannot fix
	Invalid                  // the input is malformed or fails validation
	NotFound                 // the object does not exist or is not visible to the caller
	Forbidden                // the caller is known but may not do this
	Unauthorized             // the caller could not be authenticated
	Conflict                 // the object changed or exists already; retrying the same request will not help
	Unavailable              // a dependency is down or overloaded; retrying later may help
	TooMany                  // a rate limit was hit
	Timeout                  // the deadline passed before the work finished
)

var kindNames = [...]string{
	Internal:     "internal",
	Invalid:      "invalid",
	NotFound:     "not_found",
	Forbidden:    "forbidden",
	Unauthorized: "unauthorized",
	Conflict:     "conflict",
	Unavailable:  "unavailable",
	TooMany:      "too_many_requests",
	Timeout:      "timeout",
}

// String returns the machine-readable name of the kind, as used on the wire.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind is the inverse of Kind.String. Unknown names map to Internal.
func ParseKind(s string) Kind {
	for k, name := range kindNames {
		if name == s {
			return Kind(k)
		}
	}
	return Internal
}

// Error is the one error type of the domain. Op names the operation that
// failed ("sqlstore.CreateOffer"), Kind classifies it, Code is an optional
// machine-readable reason ("ts_order", "too_short") and Msg a message that is
// safe to show to the user. AttemptsLeft, set on an error the caller may
// correct and retry under an attempt limit (a mistyped one-time code), is
// how many more tries it has (0: none, the challenge is over). Err is the
// underlying cause, never shown to users.
type Error struct {
	Op           string
	Kind         Kind
	Code         string
	Msg          string
	AttemptsLeft *int
	Err          error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.String())
	if e.Code != "" {
		b.WriteString(" (")
		b.WriteString(e.Code)
		b.WriteString(")")
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an *Error. It is a shorthand for the common forms:
//
//	esign.E("sqlstore.GetOffer", esign.NotFound, "offer not found")
//	esign.E("sqlstore.GetOffer", err)
func E(op string, args ...any) error {
	e := &Error{Op: op}
	for _, a := range args {
		switch a := a.(type) {
		case Kind:
			e.Kind = a
		case string:
			e.Msg = a
		case error:
			e.Err = a
			if e.Kind == Internal {
				e.Kind = ErrorKind(a)
			}
		}
	}
	return e
}

// Errorf returns an *Error of the given kind whose user-visible message is
// formatted from format and args.
func Errorf(op string, kind Kind, format string, args ...any) error {
	return &Error{Op: op, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// WithCode returns an *Error of the given kind with a machine-readable code.
func WithCode(op string, kind Kind, code, msg string) error {
	return &Error{Op: op, Kind: kind, Code: code, Msg: msg}
}

// ErrorKind returns the Kind of the outermost *Error in err's chain that has a
// kind other than Internal, or Internal.
func ErrorKind(err error) Kind {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return Internal
		}
		if e.Kind != Internal {
			return e.Kind
		}
		err = e.Err
	}
	return Internal
}

// ErrorCode returns the first non-empty Code in err's chain.
func ErrorCode(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.Code != "" {
			return e.Code
		}
		err = e.Err
	}
	return ""
}

// ErrorAttemptsLeft returns the first AttemptsLeft in err's chain and
// whether there is one.
func ErrorAttemptsLeft(err error) (int, bool) {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return 0, false
		}
		if e.AttemptsLeft != nil {
			return *e.AttemptsLeft, true
		}
		err = e.Err
	}
	return 0, false
}

// ErrorMessage returns the first user-visible message in err's chain, or a
// generic text for the kind. Internal causes are never revealed.
func ErrorMessage(err error) string {
	for e := err; e != nil; {
		var ee *Error
		if !errors.As(e, &ee) {
			break
		}
		if ee.Msg != "" {
			return ee.Msg
		}
		e = ee.Err
	}
	switch ErrorKind(err) {
	case Invalid:
		return "the request is not valid"
	case NotFound:
		return "not found"
	case Forbidden:
		return "not allowed"
	case Unauthorized:
		return "authentication required"
	case Conflict:
		return "the object was changed by someone else"
	case Unavailable:
		return "the service is temporarily unavailable"
	case TooMany:
		return "too many requests, try again later"
	case Timeout:
		return "the request took too long"
	}
	return "an internal error occurred"
}

// IsKind reports whether err's kind is k.
func IsKind(err error, k Kind) bool { return err != nil && ErrorKind(err) == k }
