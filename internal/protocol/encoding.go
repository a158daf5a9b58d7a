// Package protocol holds the canonical byte encoding of the M1/M2 signing
// protocol's arrays ([publicKey, userName], [customerSignatureHash,
// customerSignature, signedTs3], …): what the device signs and time-stamps
// and what the server recomputes. The encoding is unambiguous (every value
// is typed and length-prefixed, so no two different arrays encode to the
// same bytes), canonical (every array has exactly one encoding, so
// re-encoding a decoded message gives the same bytes) and versioned. It is
// specified in docs/protocol.md with test vectors in testdata/vectors.json
// that every implementation (this one, the browser's) must pass.
package protocol

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"esign/internal/esign"
)

// Magic and Version start every encoding.
const (
	Magic   = "ESGN"
	Version = 1
)

// The value tags.
const (
	TagBytes  = 0x01
	TagString = 0x02
	TagList   = 0x03
)

// Limits of a decoded message.
const (
	MaxSize  = 64 << 20 // bytes of one encoding
	MaxDepth = 8        // nesting of lists
)

const headerLen = len(Magic) + 1
const prefixLen = 1 + 4

// Value is one element of a protocol array: Bytes, String or List.
type Value interface{ isValue() }

// Bytes is an opaque byte string: keys, hashes, signatures, tokens, photos.
type Bytes []byte

// String is UTF-8 text: user names, SMS codes, device information.
type String string

// List is an ordered list of values.
type List []Value

func (Bytes) isValue()  {}
func (String) isValue() {}
func (List) isValue()   {}

// Encode returns the canonical encoding of the list l:
//
//	"ESGN" || 0x01 || value(l)
//	value(v) = tag || uint32 big-endian length of payload || payload
//
// where the payload of a list is the concatenation of its values' encodings.
func Encode(l List) ([]byte, error) {
	n, err := size(l, 1)
	if err != nil {
		return nil, err
	}
	if headerLen+n > MaxSize {
		return nil, esign.Errorf("protocol.Encode", esign.Invalid, "the message is larger than %d bytes", MaxSize)
	}
	out := make([]byte, 0, headerLen+n)
	out = append(out, Magic...)
	out = append(out, Version)
	return appendValue(out, l), nil
}

// size returns the encoded size of v and checks depth and UTF-8.
func size(v Value, depth int) (int, error) {
	switch v := v.(type) {
	case Bytes:
		return prefixLen + len(v), nil
	case String:
		if !utf8.ValidString(string(v)) {
			return 0, esign.E("protocol.Encode", esign.Invalid, "a string is not valid UTF-8")
		}
		return prefixLen + len(v), nil
	case List:
		if depth > MaxDepth {
			return 0, esign.Errorf("protocol.Encode", esign.Invalid, "lists nest deeper than %d", MaxDepth)
		}
		n := prefixLen
		for _, e := range v {
			m, err := size(e, depth+1)
			if err != nil {
				return 0, err
			}
			n += m
		}
		if n-prefixLen > 1<<32-1 {
			return 0, esign.E("protocol.Encode", esign.Invalid, "a list is too long")
		}
		return n, nil
	case nil:
		return 0, esign.E("protocol.Encode", esign.Invalid, "a value is missing (nil)")
	}
	return 0, esign.Errorf("protocol.Encode", esign.Invalid, "unsupported value %T", v)
}

func appendValue(out []byte, v Value) []byte {
	switch v := v.(type) {
	case Bytes:
		out = append(out, TagBytes)
		out = binary.BigEndian.AppendUint32(out, uint32(len(v)))
		return append(out, v...)
	case String:
		out = append(out, TagString)
		out = binary.BigEndian.AppendUint32(out, uint32(len(v)))
		return append(out, v...)
	case List:
		out = append(out, TagList)
		lenAt := len(out)
		out = append(out, 0, 0, 0, 0)
		for _, e := range v {
			out = appendValue(out, e)
		}
		binary.BigEndian.PutUint32(out[lenAt:], uint32(len(out)-lenAt-4))
		return out
	}
	panic(fmt.Sprintf("protocol: appendValue: unchecked %T", v)) // size() rejected it already
}

// Decode parses an encoding strictly: the magic, a supported version, one
// list filling the input exactly, every length consistent, every string
// valid UTF-8. Errors are Invalid with code "encoding".
func Decode(b []byte) (List, error) {
	const op = "protocol.Decode"
	bad := func(msg string) error { return esign.WithCode(op, esign.Invalid, "encoding", msg) }
	if len(b) > MaxSize {
		return nil, bad("the message is too large")
	}
	if len(b) < headerLen || string(b[:len(Magic)]) != Magic {
		return nil, bad("not an esign protocol message")
	}
	if b[len(Magic)] != Version {
		return nil, bad(fmt.Sprintf("unsupported encoding version %d", b[len(Magic)]))
	}
	v, rest, err := decodeValue(b[headerLen:], 1, bad)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, bad("trailing bytes after the message")
	}
	l, ok := v.(List)
	if !ok {
		return nil, bad("the message is not a list")
	}
	return l, nil
}

func decodeValue(b []byte, depth int, bad func(string) error) (Value, []byte, error) {
	if len(b) < prefixLen {
		return nil, nil, bad("truncated value")
	}
	tag := b[0]
	n := binary.BigEndian.Uint32(b[1:prefixLen])
	b = b[prefixLen:]
	if uint64(n) > uint64(len(b)) {
		return nil, nil, bad("a length runs past the end")
	}
	payload, rest := b[:n], b[n:]
	switch tag {
	case TagBytes:
		return Bytes(append([]byte(nil), payload...)), rest, nil
	case TagString:
		if !utf8.Valid(payload) {
			return nil, nil, bad("a string is not valid UTF-8")
		}
		return String(payload), rest, nil
	case TagList:
		if depth > MaxDepth {
			return nil, nil, bad("lists nest too deep")
		}
		l := List{}
		for len(payload) > 0 {
			var e Value
			var err error
			e, payload, err = decodeValue(payload, depth+1, bad)
			if err != nil {
				return nil, nil, err
			}
			l = append(l, e)
		}
		return l, rest, nil
	}
	return nil, nil, bad(fmt.Sprintf("unknown tag 0x%02x", tag))
}
