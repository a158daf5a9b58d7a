package webhookapi

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"esign/internal/esign"
	"esign/internal/offers"
)

// Spool is a file being received: the parser writes its decoded bytes and
// closes it, the service commits it to the document store, and the handler
// discards whatever was not committed (docstore.Pending).
type Spool interface {
	io.Writer
	Close() error
	offers.Content
}

// spoolFunc starts a spool.
type spoolFunc func() (Spool, error)

// maxFields caps what an upload holds besides the files' content: JSON
// fields and multipart form fields together are kept in memory.
const maxFields = 1 << 20

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// limitedSpools spools the first offers.MaxFiles files and discards the
// bytes of any further ones (the upload is refused with too_many_files;
// they are still decoded so that errors come out as before).
func limitedSpools(next spoolFunc) spoolFunc {
	n := 0
	return func() (Spool, error) {
		n++
		if n > offers.MaxFiles {
			return discardSpool{}, nil
		}
		return next()
	}
}

// discardSpool drops what is written to it.
type discardSpool struct{}

func (discardSpool) Write(p []byte) (int, error)       { return len(p), nil }
func (discardSpool) Close() error                      { return nil }
func (discardSpool) ReadAt([]byte, int64) (int, error) { return 0, io.EOF }
func (discardSpool) Size() int64                       { return 0 }
func (discardSpool) SHA256() string                    { return "" }
func (discardSpool) Discard()                          {}
func (discardSpool) Commit(string) error {
	return esign.E("webhookapi.discardSpool", esign.Internal, "a discarded file cannot be stored")
}

// jsonBlobs is a JSON body whose large base64 strings were decoded into
// spools while it was read: skeleton is the body with each of them
// replaced by the string "#blob:N" (N indexes blobs), for encoding/json to
// decode as it always has.
type jsonBlobs struct {
	skeleton []byte
	blobs    []blob
}

type blob struct {
	spool Spool
	bad   bool // not standard base64
}

// discard removes every spool not committed.
func (j *jsonBlobs) discard() {
	for _, b := range j.blobs {
		if b.spool != nil {
			b.spool.Discard()
		}
	}
}

// file returns the content of the string value s decoded from the
// skeleton: a blob's spool, or for a value that is not a blob reference
// (absent: "") the bytes base64 decoded.
func (j *jsonBlobs) file(name, s, field string) (offers.File, error) {
	if ref, ok := strings.CutPrefix(s, "#blob:"); ok {
		i, err := strconv.Atoi(ref)
		if err != nil || i < 0 || i >= len(j.blobs) || j.blobs[i].spool == nil {
			return offers.File{}, esign.E("webhookapi.file", esign.Internal, "a document refers to no decoded content")
		}
		b := j.blobs[i]
		if b.bad {
			return offers.File{}, bad("invalid_base64", field+" is not standard base64")
		}
		return offers.File{Name: name, Content: b.spool}, nil
	}
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return offers.File{}, bad("invalid_base64", field+" is not standard base64")
	}
	return offers.File{Name: name, Data: data}, nil
}

// pathElem is one step to a JSON value: an object member or an array element.
type pathElem struct {
	key   string
	array bool
}

// blobPath selects the string values to spool: keys compare as
// encoding/json matches struct fields (case-insensitively); "[]" is any
// array element.
type blobPath []string

func (p blobPath) match(path []pathElem) bool {
	if len(path) != len(p) {
		return false
	}
	for i, e := range path {
		if p[i] == "[]" {
			if !e.array {
				return false
			}
		} else if e.array || !strings.EqualFold(e.key, p[i]) {
			return false
		}
	}
	return true
}

// syntaxError is a JSON body that is not well-formed.
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

// jsonSpooler reads a JSON text, copying it to the skeleton except the
// string values at a blob path, which are base64-decoded into spools.
type jsonSpooler struct {
	br    *bufio.Reader
	skel  bytes.Buffer
	paths []blobPath
	path  []pathElem
	blobs []blob
	spool spoolFunc
}

// spoolJSON reads the JSON body from r. Errors: Invalid invalid_json (not
// well-formed, or more than maxFields outside the blobs), the body's read
// error, a spool's error.
func spoolJSON(r io.Reader, spool spoolFunc, paths ...blobPath) (*jsonBlobs, error) {
	s := &jsonSpooler{br: bufio.NewReaderSize(r, 64<<10), paths: paths, spool: spool}
	out := func() *jsonBlobs { return &jsonBlobs{skeleton: s.skel.Bytes(), blobs: s.blobs} }
	_, err := s.nonSpace()
	if err == io.EOF {
		return out(), nil // empty: encoding/json says so
	}
	if err == nil {
		s.br.UnreadByte()
		err = s.value(0)
	}
	if err == nil {
		// Anything after the value: encoding/json refuses it as data
		// after the object (its decoder sees a token, not io.EOF).
		if _, err = s.nonSpace(); err == nil {
			s.skel.WriteString(" 0")
		} else if err == io.EOF {
			err = nil
		}
	}
	if err != nil {
		j := out()
		j.discard()
		var se *syntaxError
		if errors.As(err, &se) {
			return nil, bad("invalid_json", "the body is not the expected JSON object: "+se.msg)
		}
		return nil, err
	}
	return out(), nil
}

func (s *jsonSpooler) emit(b ...byte) error {
	if s.skel.Len()+len(b) > maxFields {
		return &syntaxError{fmt.Sprintf("the fields other than the documents' content are larger than %d bytes", maxFields)}
	}
	s.skel.Write(b)
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// nonSpace skips white space (one space stays in the skeleton) and
// returns the next byte.
func (s *jsonSpooler) nonSpace() (byte, error) {
	skipped := false
	for {
		c, err := s.br.ReadByte()
		if err != nil {
			return 0, err
		}
		if !isSpace(c) {
			if skipped {
				if err := s.emit(' '); err != nil {
					return 0, err
				}
			}
			return c, nil
		}
		skipped = true
	}
}

// next is nonSpace where the end of the body is an error.
func (s *jsonSpooler) next() (byte, error) {
	c, err := s.nonSpace()
	if err == io.EOF {
		return 0, &syntaxError{"unexpected EOF"}
	}
	return c, err
}

func unexpected(c byte, where string) error {
	return &syntaxError{fmt.Sprintf("invalid character %q %s", c, where)}
}

func (s *jsonSpooler) value(depth int) error {
	if depth >= maxDepth {
		return &syntaxError{"exceeded max depth"}
	}
	c, err := s.next()
	if err != nil {
		return err
	}
	switch c {
	case '{':
		return s.object(depth + 1)
	case '[':
		return s.array(depth + 1)
	case '"':
		for _, p := range s.paths {
			if p.match(s.path) {
				return s.blob()
			}
		}
		_, err := s.copyString(false)
		return err
	case '}', ']', ',', ':':
		return unexpected(c, "looking for beginning of value")
	}
	// A literal or number: copied as is for encoding/json to check.
	if err := s.emit(c); err != nil {
		return err
	}
	for {
		c, err := s.br.ReadByte()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if isSpace(c) || strings.IndexByte(`{}[],:"`, c) >= 0 {
			return s.br.UnreadByte()
		}
		if err := s.emit(c); err != nil {
			return err
		}
	}
}

func (s *jsonSpooler) object(depth int) error {
	if err := s.emit('{'); err != nil {
		return err
	}
	c, err := s.next()
	if err != nil {
		return err
	}
	if c == '}' {
		return s.emit('}')
	}
	for {
		if c != '"' {
			return unexpected(c, "looking for beginning of object key string")
		}
		raw, err := s.copyString(true)
		if err != nil {
			return err
		}
		var key string
		if err := json.Unmarshal(raw, &key); err != nil {
			return &syntaxError{"invalid object key: " + err.Error()}
		}
		if c, err = s.next(); err != nil {
			return err
		}
		if c != ':' {
			return unexpected(c, "after object key")
		}
		if err := s.emit(':'); err != nil {
			return err
		}
		s.path = append(s.path, pathElem{key: key})
		if err := s.value(depth); err != nil {
			return err
		}
		s.path = s.path[:len(s.path)-1]
		if c, err = s.next(); err != nil {
			return err
		}
		switch c {
		case '}':
			return s.emit('}')
		case ',':
			if err := s.emit(','); err != nil {
				return err
			}
			if c, err = s.next(); err != nil {
				return err
			}
		default:
			return unexpected(c, "after object key:value pair")
		}
	}
}

func (s *jsonSpooler) array(depth int) error {
	if err := s.emit('['); err != nil {
		return err
	}
	c, err := s.next()
	if err != nil {
		return err
	}
	if c == ']' {
		return s.emit(']')
	}
	s.br.UnreadByte()
	for {
		s.path = append(s.path, pathElem{array: true})
		if err := s.value(depth); err != nil {
			return err
		}
		s.path = s.path[:len(s.path)-1]
		if c, err = s.next(); err != nil {
			return err
		}
		switch c {
		case ']':
			return s.emit(']')
		case ',':
			if err := s.emit(','); err != nil {
				return err
			}
		default:
			return unexpected(c, "after array element")
		}
	}
}

// copyString copies a string whose opening quote was read to the
// skeleton, escapes unchecked (encoding/json checks them); with keep it
// returns the string's JSON text.
func (s *jsonSpooler) copyString(keep bool) ([]byte, error) {
	start := s.skel.Len()
	if err := s.emit('"'); err != nil {
		return nil, err
	}
	for {
		c, err := s.br.ReadByte()
		if err == io.EOF {
			return nil, &syntaxError{"unexpected EOF"}
		}
		if err != nil {
			return nil, err
		}
		if err := s.emit(c); err != nil {
			return nil, err
		}
		switch c {
		case '"':
			if keep {
				return bytes.Clone(s.skel.Bytes()[start:]), nil
			}
			return nil, nil
		case '\\':
			e, err := s.br.ReadByte()
			if err == io.EOF {
				return nil, &syntaxError{"unexpected EOF"}
			}
			if err != nil {
				return nil, err
			}
			if err := s.emit(e); err != nil {
				return nil, err
			}
		}
	}
}

// blob decodes a string value whose opening quote was read as base64 into
// a spool and puts a reference to it in the skeleton.
func (s *jsonSpooler) blob() error {
	sp, err := s.spool()
	if err != nil {
		return err
	}
	b := blob{spool: sp}
	s.blobs = append(s.blobs, b)
	sr := &stringReader{br: s.br}
	w := &writeErr{w: sp}
	_, err = io.Copy(w, base64.NewDecoder(base64.StdEncoding, sr))
	switch {
	case sr.err != nil:
		return sr.err // not JSON, or the body's read error
	case w.err != nil:
		return esign.E("webhookapi.blob", fmt.Errorf("store a document: %w", w.err))
	case err != nil:
		b.bad = true // corrupt or incomplete base64
	}
	// The decoder stops at the end of the base64; what follows in the
	// string other than line breaks makes it invalid, as for DecodeString.
	var rest lineBreaksOnly
	if _, err := io.Copy(&rest, sr); err != nil || sr.err != nil {
		if sr.err != nil {
			return sr.err
		}
		return err
	}
	if rest.other {
		b.bad = true
	}
	if err := sp.Close(); err != nil {
		return esign.E("webhookapi.blob", fmt.Errorf("store a document: %w", err))
	}
	s.blobs[len(s.blobs)-1] = b
	return s.emit([]byte(`"#blob:` + strconv.Itoa(len(s.blobs)-1) + `"`)...)
}

// lineBreaksOnly notes whether anything but CR and LF was written.
type lineBreaksOnly struct{ other bool }

func (l *lineBreaksOnly) Write(p []byte) (int, error) {
	for _, c := range p {
		if c != '\r' && c != '\n' {
			l.other = true
		}
	}
	return len(p), nil
}

// stringReader reads the unescaped content of a JSON string whose opening
// quote was read, up to its closing quote. Escapes of characters outside
// ASCII come out as 0xFF: only base64 is read this way, for which they are
// invalid either way. A malformed string sets err (a *syntaxError) and
// ends the reading.
type stringReader struct {
	br   *bufio.Reader
	done bool
	err  error
}

func (r *stringReader) fail(err error) (int, error) {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = &syntaxError{"unexpected EOF"}
	}
	r.err = err
	return 0, err
}

func (r *stringReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n := 0
	for n < len(p) {
		if r.done {
			break
		}
		c, err := r.br.ReadByte()
		if err != nil {
			return r.fail(err)
		}
		switch {
		case c == '"':
			r.done = true
			continue
		case c < 0x20:
			return r.fail(&syntaxError{fmt.Sprintf("invalid character %q in string literal", c)})
		case c == '\\':
			e, err := r.br.ReadByte()
			if err != nil {
				return r.fail(err)
			}
			switch e {
			case '"', '\\', '/':
				c = e
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'u':
				var hex [4]byte
				if _, err := io.ReadFull(r.br, hex[:]); err != nil {
					return r.fail(err)
				}
				v, err := strconv.ParseUint(string(hex[:]), 16, 16)
				if err != nil || strings.ContainsAny(string(hex[:]), "+-_") {
					return r.fail(&syntaxError{"invalid character in \\u hexadecimal character escape"})
				}
				c = 0xFF
				if v < 0x80 {
					c = byte(v)
				}
			default:
				return r.fail(&syntaxError{fmt.Sprintf("invalid character %q in string escape code", e)})
			}
		}
		p[n] = c
		n++
	}
	if n == 0 && r.done {
		return 0, io.EOF
	}
	return n, nil
}
