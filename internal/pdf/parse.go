package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// Limits that bound the work done on hostile input.
const (
	MaxDepth         = 64       // nesting of arrays and dictionaries
	MaxObjectSize    = 16 << 20 // bytes of one object's syntax (stream data excluded)
	MaxDecodedStream = 64 << 20 // decoded bytes of an object or xref stream
	maxXRefSections  = 4096     // sections in a /Prev chain
	maxObjectNumber  = 8 << 20  // highest object number accepted
)

// errShort means that the parser reached the end of its window before the
// end of the object; the caller retries with a larger window.
var errShort = errors.New("pdf: object extends past the read window")

// SyntaxError reports malformed PDF syntax at a file offset.
type SyntaxError struct {
	Offset int64
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("pdf: syntax error at offset %d: %s", e.Offset, e.Msg)
}

func isWhite(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func isRegular(c byte) bool { return !isWhite(c) && !isDelim(c) }

// parser reads objects from buf, which holds the file bytes starting at
// absolute offset base. atEOF reports whether buf ends where the file ends.
type parser struct {
	buf   []byte
	pos   int
	base  int64
	atEOF bool
	depth int
}

func (p *parser) errf(format string, args ...any) error {
	return &SyntaxError{Offset: p.base + int64(p.pos), Msg: fmt.Sprintf(format, args...)}
}

// short returns errShort when more bytes could exist, otherwise a syntax error.
func (p *parser) short(what string) error {
	if !p.atEOF {
		return errShort
	}
	return p.errf("unexpected end of data in %s", what)
}

func (p *parser) skipSpace() {
	for p.pos < len(p.buf) {
		c := p.buf[p.pos]
		if isWhite(c) {
			p.pos++
			continue
		}
		if c == '%' {
			for p.pos < len(p.buf) && p.buf[p.pos] != '\n' && p.buf[p.pos] != '\r' {
				p.pos++
			}
			continue
		}
		return
	}
}

// keyword reads a run of regular characters.
func (p *parser) keyword() ([]byte, error) {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.buf) && isRegular(p.buf[p.pos]) {
		p.pos++
	}
	if p.pos == len(p.buf) && !p.atEOF {
		return nil, errShort
	}
	return p.buf[start:p.pos], nil
}

func (p *parser) expectKeyword(kw string) error {
	k, err := p.keyword()
	if err != nil {
		return err
	}
	if string(k) != kw {
		return p.errf("expected %q, found %q", kw, truncate(k))
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 20 {
		return string(b[:20]) + "..."
	}
	return string(b)
}

// readObject reads one direct object (a reference "n g R" included).
func (p *parser) readObject() (Object, error) {
	p.skipSpace()
	if p.pos >= len(p.buf) {
		return nil, p.short("object")
	}
	c := p.buf[p.pos]
	switch {
	case c == '/':
		return p.readName()
	case c == '(':
		return p.readLiteral()
	case c == '<':
		if p.pos+1 >= len(p.buf) {
			return nil, p.short("object")
		}
		if p.buf[p.pos+1] == '<' {
			return p.readDict()
		}
		return p.readHex()
	case c == '[':
		return p.readArray()
	case c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9'):
		return p.readNumberOrRef()
	case isRegular(c):
		k, err := p.keyword()
		if err != nil {
			return nil, err
		}
		switch string(k) {
		case "true":
			return Bool(true), nil
		case "false":
			return Bool(false), nil
		case "null":
			return nil, nil
		}
		return nil, p.errf("unexpected keyword %q", truncate(k))
	}
	return nil, p.errf("unexpected character %q", c)
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errf("nesting deeper than %d", MaxDepth)
	}
	return nil
}

func (p *parser) readArray() (Object, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.pos++ // [
	var a Array
	for {
		p.skipSpace()
		if p.pos >= len(p.buf) {
			return nil, p.short("array")
		}
		if p.buf[p.pos] == ']' {
			p.pos++
			return a, nil
		}
		o, err := p.readObject()
		if err != nil {
			return nil, err
		}
		a = append(a, o)
	}
}

func (p *parser) readDict() (Object, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.pos += 2 // <<
	d := Dict{}
	for {
		p.skipSpace()
		if p.pos+1 >= len(p.buf) {
			return nil, p.short("dictionary")
		}
		if p.buf[p.pos] == '>' && p.buf[p.pos+1] == '>' {
			p.pos += 2
			return d, nil
		}
		if p.buf[p.pos] != '/' {
			return nil, p.errf("dictionary key is not a name")
		}
		k, err := p.readName()
		if err != nil {
			return nil, err
		}
		v, err := p.readObject()
		if err != nil {
			return nil, err
		}
		if v != nil { // a null value is the same as an absent key
			d[k.(Name)] = v
		}
	}
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (p *parser) readName() (Object, error) {
	p.pos++ // /
	var b []byte
	for p.pos < len(p.buf) && isRegular(p.buf[p.pos]) {
		c := p.buf[p.pos]
		if c == '#' && p.pos+2 < len(p.buf) {
			h, ok1 := unhex(p.buf[p.pos+1])
			l, ok2 := unhex(p.buf[p.pos+2])
			if ok1 && ok2 {
				b = append(b, h<<4|l)
				p.pos += 3
				continue
			}
		}
		b = append(b, c)
		p.pos++
	}
	if p.pos == len(p.buf) && !p.atEOF {
		return nil, errShort
	}
	return Name(b), nil
}

func (p *parser) readHex() (Object, error) {
	p.pos++ // <
	var b []byte
	var hi byte
	half := false
	for {
		if p.pos >= len(p.buf) {
			return nil, p.short("hex string")
		}
		c := p.buf[p.pos]
		p.pos++
		if c == '>' {
			break
		}
		if isWhite(c) {
			continue
		}
		v, ok := unhex(c)
		if !ok {
			return nil, p.errf("invalid character %q in hex string", c)
		}
		if half {
			b = append(b, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		b = append(b, hi<<4)
	}
	return String{Value: b, Hex: true}, nil
}

func (p *parser) readLiteral() (Object, error) {
	p.pos++ // (
	var b []byte
	nest := 1
	for {
		if p.pos >= len(p.buf) {
			return nil, p.short("string")
		}
		c := p.buf[p.pos]
		p.pos++
		switch c {
		case '(':
			nest++
		case ')':
			nest--
			if nest == 0 {
				return String{Value: b}, nil
			}
		case '\r':
			// an unescaped end-of-line is read as \n
			if p.pos < len(p.buf) && p.buf[p.pos] == '\n' {
				p.pos++
			}
			c = '\n'
		case '\\':
			if p.pos >= len(p.buf) {
				return nil, p.short("string")
			}
			e := p.buf[p.pos]
			p.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if p.pos < len(p.buf) && p.buf[p.pos] == '\n' {
					p.pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for i := 0; i < 2 && p.pos < len(p.buf) && p.buf[p.pos] >= '0' && p.buf[p.pos] <= '7'; i++ {
						v = v*8 + int(p.buf[p.pos]-'0')
						p.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		b = append(b, c)
	}
}

// number reads a numeric token.
func (p *parser) number() (Object, error) {
	start := p.pos
	for p.pos < len(p.buf) && isRegular(p.buf[p.pos]) {
		p.pos++
	}
	if p.pos == len(p.buf) && !p.atEOF {
		return nil, errShort
	}
	tok := p.buf[start:p.pos]
	if len(tok) == 0 {
		return nil, p.errf("expected a number")
	}
	if i, err := strconv.ParseInt(string(tok), 10, 64); err == nil {
		return Int(i), nil
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil || bytes.ContainsAny(tok, "eExXnNiI_") {
		// PDF has no exponents, hex, inf or nan; accept a lone sign as 0
		// like most readers do for "-" or "--".
		if len(bytes.Trim(tok, "+-.")) == 0 {
			return Int(0), nil
		}
		return nil, p.errf("malformed number %q", truncate(tok))
	}
	return Real(f), nil
}

func (p *parser) readNumberOrRef() (Object, error) {
	o, err := p.number()
	if err != nil {
		return nil, err
	}
	num, ok := o.(Int)
	if !ok || num < 0 {
		return o, nil
	}
	// Look ahead for "gen R".
	save := p.pos
	p.skipSpace()
	if p.pos >= len(p.buf) {
		if !p.atEOF {
			return nil, errShort
		}
		p.pos = save
		return o, nil
	}
	if c := p.buf[p.pos]; c < '0' || c > '9' {
		p.pos = save
		return o, nil
	}
	g, err := p.number()
	if err != nil {
		if err == errShort {
			return nil, err
		}
		p.pos = save
		return o, nil
	}
	gen, ok := g.(Int)
	if !ok || gen < 0 {
		p.pos = save
		return o, nil
	}
	p.skipSpace()
	if p.pos >= len(p.buf) {
		if !p.atEOF {
			return nil, errShort
		}
		p.pos = save
		return o, nil
	}
	if p.buf[p.pos] == 'R' && (p.pos+1 == len(p.buf) || !isRegular(p.buf[p.pos+1])) {
		if p.pos+1 == len(p.buf) && !p.atEOF {
			return nil, errShort
		}
		p.pos++
		if num > maxObjectNumber || gen > 65535 {
			return nil, p.errf("reference %d %d R out of range", num, gen)
		}
		return Ref{Num: int(num), Gen: int(gen)}, nil
	}
	p.pos = save
	return o, nil
}

// ParseObject parses one direct object from b. It is the entry point for
// fuzzing the lexer and parser.
func ParseObject(b []byte) (Object, error) {
	p := &parser{buf: b, atEOF: true}
	return p.readObject()
}

// readIndirectHeader reads "num gen obj".
func (p *parser) readIndirectHeader() (Ref, error) {
	p.skipSpace()
	n, err := p.number()
	if err != nil {
		return Ref{}, err
	}
	p.skipSpace()
	g, err := p.number()
	if err != nil {
		return Ref{}, err
	}
	num, ok1 := n.(Int)
	gen, ok2 := g.(Int)
	if !ok1 || !ok2 || num < 0 || gen < 0 || num > maxObjectNumber || gen > 65535 {
		return Ref{}, p.errf("malformed object header")
	}
	if err := p.expectKeyword("obj"); err != nil {
		return Ref{}, err
	}
	return Ref{Num: int(num), Gen: int(gen)}, nil
}
