package pdf

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
)

// Object is a PDF object: nil (null), Bool, Int, Real, Name, String, Array,
// Dict, Ref or *Stream.
type Object any

// Bool is a PDF boolean.
type Bool bool

// Int is a PDF integer.
type Int int64

// Real is a PDF real number.
type Real float64

// Name is a PDF name, without the leading slash and with #xx escapes decoded.
type Name string

// String is a PDF string (literal or hexadecimal); Hex records the form it
// was read in or should be written in.
type String struct {
	Value []byte
	Hex   bool
}

// Array is a PDF array.
type Array []Object

// Dict is a PDF dictionary.
type Dict map[Name]Object

// Ref is an indirect reference "Num Gen R".
type Ref struct {
	Num int
	Gen int
}

func (r Ref) String() string { return fmt.Sprintf("%d %d R", r.Num, r.Gen) }

// Stream is a stream object. Offset is the absolute file offset of the
// first data byte and Length the number of raw (still encoded) data bytes.
// Streams built for writing carry their raw bytes in Data instead.
type Stream struct {
	Dict   Dict
	Offset int64
	Length int64
	Data   []byte // raw (encoded) data of a stream to be written

	// of a stream read from an encrypted document: how its data is
	// encrypted and the object whose key encrypts it
	crypt cryptMethod
	ref   Ref
}

// Get returns d[key] (nil if d is nil).
func (d Dict) Get(key Name) Object {
	if d == nil {
		return nil
	}
	return d[key]
}

// Clone returns a shallow copy of d.
func (d Dict) Clone() Dict {
	c := make(Dict, len(d)+2)
	for k, v := range d {
		c[k] = v
	}
	return c
}

// AsInt returns o as an integer, accepting reals with an integral value.
func AsInt(o Object) (int64, bool) {
	switch v := o.(type) {
	case Int:
		return int64(v), true
	case Real:
		if float64(int64(v)) == float64(v) {
			return int64(v), true
		}
	}
	return 0, false
}

// AsNumber returns o as a float64.
func AsNumber(o Object) (float64, bool) {
	switch v := o.(type) {
	case Int:
		return float64(v), true
	case Real:
		return float64(v), true
	}
	return 0, false
}

// AsName returns o as a name.
func AsName(o Object) (Name, bool) { n, ok := o.(Name); return n, ok }

// AsDict returns o as a dictionary; a stream yields its dictionary.
func AsDict(o Object) (Dict, bool) {
	switch v := o.(type) {
	case Dict:
		return v, true
	case *Stream:
		return v.Dict, true
	}
	return nil, false
}

// AsArray returns o as an array.
func AsArray(o Object) (Array, bool) { a, ok := o.(Array); return a, ok }

// AsString returns the bytes of o if it is a string.
func AsString(o Object) ([]byte, bool) {
	s, ok := o.(String)
	return s.Value, ok
}

// Format appends the PDF syntax of o to b. Dictionary keys are written in
// sorted order so that the output is deterministic.
func Format(b []byte, o Object) []byte {
	switch v := o.(type) {
	case nil:
		return append(b, "null"...)
	case Bool:
		if v {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case Int:
		return strconv.AppendInt(b, int64(v), 10)
	case Real:
		return appendReal(b, float64(v))
	case Name:
		return appendName(b, v)
	case String:
		if v.Hex {
			return appendHex(b, v.Value)
		}
		return appendLiteral(b, v.Value)
	case Array:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ' ')
			}
			b = Format(b, e)
		}
		return append(b, ']')
	case Dict:
		return appendDict(b, v)
	case Ref:
		b = strconv.AppendInt(b, int64(v.Num), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(v.Gen), 10)
		return append(b, " R"...)
	case *Stream:
		d := v.Dict.Clone()
		d["Length"] = Int(len(v.Data))
		b = appendDict(b, d)
		b = append(b, "\nstream\n"...)
		b = append(b, v.Data...)
		return append(b, "\nendstream"...)
	case Raw:
		return append(b, v...)
	}
	return append(b, "null"...)
}

// Raw is preformatted PDF syntax written as is (used for placeholders whose
// exact byte layout matters). Update.Build does not encrypt it: in an
// encrypted document, format its parts with Update.Encrypt first.
type Raw []byte

func appendDict(b []byte, d Dict) []byte {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	b = append(b, "<<"...)
	for _, k := range keys {
		b = appendName(b, Name(k))
		b = append(b, ' ')
		b = Format(b, d[Name(k)])
	}
	return append(b, ">>"...)
}

func appendReal(b []byte, f float64) []byte {
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

func appendName(b []byte, n Name) []byte {
	b = append(b, '/')
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c < 0x21 || c > 0x7e || c == '#' || isDelim(c) {
			b = append(b, '#', hexDigits[c>>4], hexDigits[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}

const hexDigits = "0123456789ABCDEF"

func appendHex(b []byte, s []byte) []byte {
	b = append(b, '<')
	for _, c := range s {
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return append(b, '>')
}

func appendLiteral(b []byte, s []byte) []byte {
	b = append(b, '(')
	for _, c := range s {
		switch c {
		case '(', ')', '\\':
			b = append(b, '\\', c)
		case '\r':
			b = append(b, '\\', 'r')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return append(b, ')')
}

// Equal reports whether two direct objects are structurally equal (streams
// compare by dictionary, offset and length).
func Equal(a, b Object) bool {
	switch x := a.(type) {
	case String:
		y, ok := b.(String)
		return ok && bytes.Equal(x.Value, y.Value)
	case Array:
		y, ok := b.(Array)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case Dict:
		y, ok := b.(Dict)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !Equal(v, w) {
				return false
			}
		}
		return true
	case *Stream:
		y, ok := b.(*Stream)
		return ok && Equal(x.Dict, y.Dict) && x.Length == y.Length && bytes.Equal(x.Data, y.Data)
	case Raw:
		y, ok := b.(Raw)
		return ok && bytes.Equal(x, y)
	default:
		return a == b
	}
}
