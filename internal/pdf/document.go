package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"esign/internal/esign"
)

// Error codes carried by the *esign.Error values this package returns.
const (
	CodeMalformed   = "pdf_malformed"   // the file is not a readable PDF
	CodeEncrypted   = "pdf_encrypted"   // the file is encrypted
	CodeUnsupported = "pdf_unsupported" // a feature this reader does not implement
)

type entryKind uint8

const (
	entryFree entryKind = iota
	entryInUse
	entryCompressed
)

type xrefEntry struct {
	kind entryKind
	off  int64 // file offset (in use) or object stream number (compressed)
	gen  int   // generation (in use) or index in the object stream (compressed)
}

// Section is one cross-reference section (one revision's update) of a file.
type Section struct {
	Offset  int64 // offset of the "xref" keyword or of the xref stream object
	Stream  bool  // a cross-reference stream rather than a table
	Trailer Dict  // the trailer (or the xref stream's dictionary)
	Objects []int // numbers of the objects this section defines, in-use or free
	entries map[int]xrefEntry
}

// ObjectOffset returns the file offset at which the section places object
// num (ok false: the section does not define it in use, or places it in an
// object stream).
func (s *Section) ObjectOffset(num int) (int64, bool) {
	e, ok := s.entries[num]
	if !ok || e.kind != entryInUse {
		return 0, false
	}
	return e.off, true
}

// InUse reports whether the section defines object num as in use (not free).
func (s *Section) InUse(num int) bool {
	e, ok := s.entries[num]
	return ok && e.kind != entryFree
}

// Document is a PDF file opened for reading. It is not safe for concurrent
// use.
type Document struct {
	r         io.ReaderAt
	size      int64
	headerOff int64
	shift     int64      // added to every offset the file states: headerOff when they count from the header
	eofEnd    int64      // offset just after the last %%EOF (or the startxref value without one)
	Version   string     // from the %PDF-x.y header
	Sections  []*Section // newest first, as reached from startxref via /Prev
	Trailer   Dict       // the newest trailer, with /Root, /Info, /ID filled from older ones
	StartXRef int64      // file offset of the newest cross-reference section
	xref      map[int]xrefEntry
	cache     map[int]Object
	objStm    map[int]*objStream
	resolving map[int]bool
	sec       *security // nil: not encrypted
}

type objStream struct {
	data    []byte
	offsets []int // offset of object i relative to /First
	nums    []int
	first   int
}

// Open reads the cross-reference sections of the PDF held by r (size bytes).
// It returns an *esign.Error of kind Invalid with code CodeMalformed for
// something that is not a PDF, and CodeEncrypted for an encrypted file
// that does not open with the empty user password or uses an encryption
// this package does not implement (see Encryption).
func Open(r io.ReaderAt, size int64) (*Document, error) {
	const op = "pdf.Open"
	d := &Document{r: r, size: size, xref: map[int]xrefEntry{}, cache: map[int]Object{},
		objStm: map[int]*objStream{}, resolving: map[int]bool{}}
	if size < 16 {
		return nil, readErr(op, ReasonTooShort, -1, fmt.Sprintf("%d bytes", size), nil)
	}
	head := make([]byte, min(size, 1024))
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("pdf: read header: %w", err)
	}
	h := bytes.Index(head, []byte("%PDF-"))
	if h < 0 {
		return nil, readErr(op, ReasonNoHeader, -1, "", nil)
	}
	d.headerOff = int64(h)
	v := head[h+5:]
	end := 0
	for end < len(v) && end < 8 && (v[end] == '.' || (v[end] >= '0' && v[end] <= '9')) {
		end++
	}
	d.Version = string(v[:end])

	start, err := d.findStartXRef()
	if err != nil {
		return nil, sectionError(op, err)
	}
	if err := d.readSections(start); err != nil {
		var ee *esign.Error
		if errors.As(err, &ee) {
			return nil, err
		}
		return nil, sectionError(op, err)
	}
	if _, ok := d.Trailer["Encrypt"]; ok {
		sec, err := openSecurity(d)
		if err != nil {
			return nil, err
		}
		// objects read so far (the encryption dictionary, stream
		// lengths) were read in clear
		clear(d.cache)
		d.sec = sec
	}
	if _, ok := d.Trailer["Root"].(Ref); !ok {
		return nil, readErr(op, ReasonNoRoot, -1, "", nil)
	}
	return d, nil
}

// Size returns the size of the file in bytes.
func (d *Document) Size() int64 { return d.size }

// ReaderAt returns the reader the document was opened on.
func (d *Document) ReaderAt() io.ReaderAt { return d.r }

func (d *Document) findStartXRef() (int64, error) {
	n := min(d.size, 2048)
	base := d.size - n
	tail := make([]byte, n)
	if _, err := d.r.ReadAt(tail, base); err != nil && err != io.EOF {
		return 0, fmt.Errorf("read tail: %w", err)
	}
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 {
		// Data appended after %%EOF (a polyglot): look further back, as
		// readers do, so that it can be named rather than called a broken
		// file.
		at, err := d.lastIndex(base, []byte("startxref"))
		if err != nil {
			return 0, err
		}
		if at < 0 {
			return 0, &ReadError{Reason: ReasonNoStartXRef, Offset: -1}
		}
		base, n = at, min(d.size-at, 2048)
		tail = make([]byte, n)
		if _, err := d.r.ReadAt(tail, base); err != nil && err != io.EOF {
			return 0, fmt.Errorf("read tail: %w", err)
		}
		i = 0
	}
	p := &parser{buf: tail[i+9:], atEOF: true}
	p.skipSpace()
	o, err := p.number()
	if err != nil {
		return 0, &ReadError{Reason: ReasonBadStartXRef, Offset: -1, Err: err}
	}
	off, ok := o.(Int)
	if !ok || off < 0 || int64(off) >= d.size {
		return 0, &ReadError{Reason: ReasonBadStartXRef, Offset: -1, Detail: fmt.Sprintf("startxref %v, file of %d bytes", o, d.size)}
	}
	d.eofEnd = base + int64(i+9) + int64(p.pos)
	if e := bytes.Index(tail[i:], []byte("%%EOF")); e >= 0 {
		end := i + e + 5
		switch {
		case bytes.HasPrefix(tail[end:], []byte("\r\n")):
			end += 2
		case bytes.HasPrefix(tail[end:], []byte("\n")), bytes.HasPrefix(tail[end:], []byte("\r")):
			end++
		}
		d.eofEnd = base + int64(end)
	}
	return int64(off), nil
}

// lastIndex returns the offset of the last pat that starts before end, or
// -1, reading backwards in chunks.
func (d *Document) lastIndex(end int64, pat []byte) (int64, error) {
	const chunk = 64 << 10
	buf := make([]byte, chunk+len(pat))
	for hi := end + int64(len(pat)) - 1; hi > 0; {
		lo := max(0, hi-int64(len(buf)))
		b := buf[:hi-lo]
		if _, err := d.r.ReadAt(b, lo); err != nil && err != io.EOF {
			return 0, fmt.Errorf("pdf: read at %d: %w", lo, err)
		}
		if i := bytes.LastIndex(b, pat); i >= 0 {
			return lo + int64(i), nil
		}
		if lo == 0 {
			break
		}
		hi = lo + int64(len(pat)) - 1
	}
	return -1, nil
}

// window reads up to n bytes at off.
func (d *Document) window(off int64, n int) (*parser, error) {
	if off < 0 || off >= d.size {
		return nil, fmt.Errorf("offset %d outside the file", off)
	}
	if rem := d.size - off; int64(n) >= rem {
		n = int(rem)
	}
	buf := make([]byte, n)
	m, err := d.r.ReadAt(buf, off)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("pdf: read at %d: %w", off, err)
	}
	return &parser{buf: buf[:m], base: off, atEOF: off+int64(m) >= d.size}, nil
}

// parseAt runs f over a window at off, enlarging the window while f reports
// errShort, up to MaxObjectSize.
func (d *Document) parseAt(off int64, f func(p *parser) error) error {
	for n := 4096; ; n *= 2 {
		p, err := d.window(off, n)
		if err != nil {
			return err
		}
		err = f(p)
		if err != errShort {
			return err
		}
		if p.atEOF {
			return p.errf("unexpected end of file")
		}
		if n >= MaxObjectSize {
			return &SyntaxError{Offset: off, Msg: fmt.Sprintf("object larger than %d bytes", MaxObjectSize)}
		}
	}
}

func (d *Document) readSections(start int64) error {
	seen := map[int64]bool{}
	off := start
	for {
		if seen[off] {
			return &ReadError{Reason: ReasonPrevLoop, Offset: off}
		}
		if len(seen) >= maxXRefSections {
			return &ReadError{Reason: ReasonTooManyXRef, Offset: -1}
		}
		seen[off] = true
		sec, err := d.readSection(off)
		if err != nil && len(seen) == 1 && d.headerOff > 0 {
			// Bytes precede the header and the offsets count from it (as
			// when something was prepended to the file): read it the way
			// readers do, shifting every offset the file states.
			d.shift = d.headerOff
			if sec, err = d.readSection(off); err != nil {
				d.shift = 0
			}
		}
		if err != nil {
			return &ReadError{Reason: ReasonBrokenXRef, Offset: off + d.shift, Detail: syntaxDetail(err), Err: err}
		}
		if len(seen) == 1 {
			d.StartXRef = sec.Offset
		}
		if stm, ok := AsInt(sec.Trailer["XRefStm"]); ok && !sec.Stream && !seen[stm] {
			seen[stm] = true
			if hs, err := d.readSection(stm); err == nil {
				for _, num := range hs.Objects {
					if _, dup := sec.entries[num]; !dup {
						sec.entries[num] = hs.entries[num]
						sec.Objects = append(sec.Objects, num)
					}
				}
			}
		}
		d.Sections = append(d.Sections, sec)
		prev, ok := AsInt(sec.Trailer["Prev"])
		if !ok {
			break
		}
		if prev < 0 || prev+d.shift >= d.size {
			return &ReadError{Reason: ReasonBrokenXRef, Offset: sec.Offset, Detail: fmt.Sprintf("/Prev %d is not an offset in the file", prev)}
		}
		off = prev
	}
	d.Trailer = Dict{}
	for _, s := range d.Sections {
		for num, e := range s.entries {
			if _, ok := d.xref[num]; !ok {
				d.xref[num] = e
			}
		}
		for k, v := range s.Trailer {
			switch k {
			case "Prev", "XRefStm", "Length", "Filter", "DecodeParms", "W", "Index", "Type":
				continue
			}
			if _, ok := d.Trailer[k]; !ok {
				d.Trailer[k] = v
			}
		}
	}
	return nil
}

// readSection reads the section at off as the file states it (before the
// shift).
func (d *Document) readSection(off int64) (*Section, error) {
	off += d.shift
	p, err := d.window(off, 16)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if bytes.HasPrefix(p.buf[p.pos:], []byte("xref")) {
		return d.readTable(off)
	}
	return d.readXRefStream(off)
}

func (d *Document) readTable(off int64) (*Section, error) {
	sec := &Section{Offset: off, entries: map[int]xrefEntry{}}
	err := d.parseAt(off, func(p *parser) error {
		sec.entries = map[int]xrefEntry{}
		sec.Objects = sec.Objects[:0]
		if err := p.expectKeyword("xref"); err != nil {
			return err
		}
		for {
			p.skipSpace()
			if p.pos >= len(p.buf) {
				return p.short("xref table")
			}
			if p.buf[p.pos] == 't' {
				if err := p.expectKeyword("trailer"); err != nil {
					return err
				}
				t, err := p.readObject()
				if err != nil {
					return err
				}
				td, ok := t.(Dict)
				if !ok {
					return p.errf("trailer is not a dictionary")
				}
				sec.Trailer = td
				return nil
			}
			a, err := p.number()
			if err != nil {
				return err
			}
			p.skipSpace()
			b, err := p.number()
			if err != nil {
				return err
			}
			first, ok1 := a.(Int)
			count, ok2 := b.(Int)
			if !ok1 || !ok2 || first < 0 || count < 0 || first+count > maxObjectNumber {
				return p.errf("malformed xref subsection header")
			}
			for i := int64(0); i < int64(count); i++ {
				p.skipSpace()
				o, err := p.number()
				if err != nil {
					return err
				}
				p.skipSpace()
				g, err := p.number()
				if err != nil {
					return err
				}
				k, err := p.keyword()
				if err != nil {
					return err
				}
				eo, ok1 := o.(Int)
				eg, ok2 := g.(Int)
				if !ok1 || !ok2 || len(k) != 1 || (k[0] != 'n' && k[0] != 'f') {
					return p.errf("malformed xref entry")
				}
				num := int(int64(first) + i)
				if _, dup := sec.entries[num]; dup {
					continue
				}
				e := xrefEntry{kind: entryFree, off: int64(eo), gen: int(eg)}
				if k[0] == 'n' {
					e.kind = entryInUse
					e.off += d.shift
					if eo <= 0 || e.off >= d.size {
						// a dangling entry: treat the object as missing
						e.kind = entryFree
					}
				}
				sec.entries[num] = e
				sec.Objects = append(sec.Objects, num)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("xref table at %d: %w", off, err)
	}
	return sec, nil
}

func (d *Document) readXRefStream(off int64) (*Section, error) {
	_, o, err := d.readIndirect(off)
	if err != nil {
		return nil, fmt.Errorf("xref stream at %d: %w", off, err)
	}
	s, ok := o.(*Stream)
	if !ok || s.Dict["Type"] != Name("XRef") {
		return nil, fmt.Errorf("no xref table or xref stream at offset %d", off)
	}
	data, err := d.decodeStream(s, MaxDecodedStream)
	if err != nil {
		return nil, fmt.Errorf("xref stream at %d: %w", off, err)
	}
	sec := &Section{Offset: off, Stream: true, Trailer: s.Dict, entries: map[int]xrefEntry{}}
	wa, _ := AsArray(s.Dict["W"])
	if len(wa) != 3 {
		return nil, fmt.Errorf("xref stream at %d: bad /W", off)
	}
	var w [3]int
	rowLen := 0
	for i := range w {
		v, ok := AsInt(wa[i])
		if !ok || v < 0 || v > 8 {
			return nil, fmt.Errorf("xref stream at %d: bad /W", off)
		}
		w[i] = int(v)
		rowLen += w[i]
	}
	if rowLen == 0 {
		return nil, fmt.Errorf("xref stream at %d: empty /W", off)
	}
	size, _ := AsInt(s.Dict["Size"])
	index := Array{Int(0), Int(size)}
	if ia, ok := AsArray(s.Dict["Index"]); ok {
		index = ia
	}
	field := func(b []byte) int64 {
		var v int64
		for _, c := range b {
			v = v<<8 | int64(c)
		}
		return v
	}
	pos := 0
	for i := 0; i+1 < len(index); i += 2 {
		first, ok1 := AsInt(index[i])
		count, ok2 := AsInt(index[i+1])
		if !ok1 || !ok2 || first < 0 || count < 0 || first+count > maxObjectNumber {
			return nil, fmt.Errorf("xref stream at %d: bad /Index", off)
		}
		for j := int64(0); j < count; j++ {
			if pos+rowLen > len(data) {
				return sec, nil // truncated data: keep what was read
			}
			row := data[pos : pos+rowLen]
			pos += rowLen
			typ := int64(1)
			if w[0] > 0 {
				typ = field(row[:w[0]])
			}
			f2 := field(row[w[0] : w[0]+w[1]])
			f3 := field(row[w[0]+w[1]:])
			num := int(first + j)
			if _, dup := sec.entries[num]; dup {
				continue
			}
			var e xrefEntry
			switch typ {
			case 0:
				e = xrefEntry{kind: entryFree}
			case 1:
				e = xrefEntry{kind: entryInUse, off: f2 + d.shift, gen: int(f3)}
				if f2 <= 0 || f2+d.shift >= d.size {
					e.kind = entryFree
				}
			case 2:
				e = xrefEntry{kind: entryCompressed, off: f2, gen: int(f3)}
			default:
				continue // reserved types are ignored
			}
			sec.entries[num] = e
			sec.Objects = append(sec.Objects, num)
		}
	}
	return sec, nil
}

// readIndirect parses "num gen obj ... endobj" at off, with stream data
// located (not read).
func (d *Document) readIndirect(off int64) (Ref, Object, error) {
	var ref Ref
	var obj Object
	var streamAt int64 = -1
	err := d.parseAt(off, func(p *parser) error {
		var err error
		if ref, err = p.readIndirectHeader(); err != nil {
			return err
		}
		if obj, err = p.readObject(); err != nil {
			return err
		}
		if _, ok := obj.(Dict); !ok {
			return nil
		}
		p.skipSpace()
		if len(p.buf)-p.pos < 7 && !p.atEOF {
			return errShort
		}
		if bytes.HasPrefix(p.buf[p.pos:], []byte("stream")) {
			p.pos += 6
			if p.pos < len(p.buf) && p.buf[p.pos] == '\r' {
				p.pos++
			}
			if p.pos < len(p.buf) && p.buf[p.pos] == '\n' {
				p.pos++
			}
			streamAt = p.base + int64(p.pos)
		}
		return nil
	})
	if err != nil {
		return Ref{}, nil, err
	}
	if streamAt >= 0 {
		s := &Stream{Dict: obj.(Dict), Offset: streamAt}
		if s.Length, err = d.streamLength(s); err != nil {
			return Ref{}, nil, err
		}
		obj = s
	}
	return ref, obj, nil
}

// streamLength returns the data length of s: /Length when "endstream"
// follows it, otherwise the distance to the next "endstream" (lying
// lengths are common and are also an attack vector).
func (d *Document) streamLength(s *Stream) (int64, error) {
	lo := s.Dict["Length"]
	if r, ok := lo.(Ref); ok {
		if d.resolving[r.Num] {
			lo = nil
		} else {
			v, err := d.Resolve(r)
			if err != nil {
				lo = nil
			} else {
				lo = v
			}
		}
	}
	if n, ok := AsInt(lo); ok && n >= 0 && s.Offset+n <= d.size {
		p, err := d.window(s.Offset+n, 32)
		if err == nil {
			p.skipSpace()
			if bytes.HasPrefix(p.buf[p.pos:], []byte("endstream")) {
				return n, nil
			}
		}
	}
	end, err := d.scanFor(s.Offset, []byte("endstream"))
	if err != nil {
		return 0, err
	}
	n := end - s.Offset
	// drop the end-of-line before endstream
	if n > 0 {
		b := make([]byte, min(n, 2))
		if _, err := d.r.ReadAt(b, end-int64(len(b))); err == nil {
			if len(b) == 2 && b[0] == '\r' && b[1] == '\n' {
				n -= 2
			} else if b[len(b)-1] == '\n' || b[len(b)-1] == '\r' {
				n--
			}
		}
	}
	return n, nil
}

// scanFor returns the offset of the first occurrence of pat at or after off.
func (d *Document) scanFor(off int64, pat []byte) (int64, error) {
	const chunk = 64 << 10
	buf := make([]byte, chunk+len(pat))
	for pos := off; pos < d.size; pos += chunk {
		n, err := d.r.ReadAt(buf, pos)
		if err != nil && err != io.EOF {
			return 0, fmt.Errorf("pdf: read at %d: %w", pos, err)
		}
		if i := bytes.Index(buf[:n], pat); i >= 0 {
			return pos + int64(i), nil
		}
	}
	return 0, &SyntaxError{Offset: off, Msg: "stream without endstream"}
}

// Object returns the object with number num, or nil if it is free or
// missing (as the PDF specification requires).
func (d *Document) Object(num int) (Object, error) {
	if o, ok := d.cache[num]; ok {
		return o, nil
	}
	e, ok := d.xref[num]
	if !ok || e.kind == entryFree {
		return nil, nil
	}
	if d.resolving[num] {
		return nil, fmt.Errorf("pdf: object %d refers to itself", num)
	}
	d.resolving[num] = true
	defer delete(d.resolving, num)
	var o Object
	var err error
	switch e.kind {
	case entryInUse:
		var ref Ref
		ref, o, err = d.readIndirect(e.off)
		if err == nil && ref.Num != num {
			err = fmt.Errorf("pdf: xref entry of object %d points at object %d", num, ref.Num)
		}
		if err == nil && d.sec != nil {
			// objects inside object streams are not encrypted themselves
			o = d.sec.decryptObject(ref, o)
		}
	case entryCompressed:
		o, err = d.compressedObject(int(e.off), e.gen, num)
	}
	if err != nil {
		return nil, &ObjectError{Num: num, Err: err}
	}
	d.cache[num] = o
	return o, nil
}

func (d *Document) compressedObject(stmNum, index, num int) (Object, error) {
	os, ok := d.objStm[stmNum]
	if !ok {
		if e := d.xref[stmNum]; e.kind != entryInUse {
			return nil, fmt.Errorf("object stream %d is not a plain object", stmNum)
		}
		so, err := d.Object(stmNum)
		if err != nil {
			return nil, err
		}
		s, ok := so.(*Stream)
		if !ok {
			return nil, fmt.Errorf("object stream %d is not a stream", stmNum)
		}
		data, err := d.decodeStream(s, MaxDecodedStream)
		if err != nil {
			return nil, fmt.Errorf("object stream %d: %w", stmNum, err)
		}
		n, _ := AsInt(s.Dict["N"])
		first, _ := AsInt(s.Dict["First"])
		if n < 0 || first < 0 || first > int64(len(data)) || n > int64(len(data)) {
			return nil, fmt.Errorf("object stream %d: bad /N or /First", stmNum)
		}
		os = &objStream{data: data, first: int(first)}
		p := &parser{buf: data[:first], atEOF: true}
		for i := int64(0); i < n; i++ {
			p.skipSpace()
			a, err := p.number()
			if err != nil {
				return nil, err
			}
			p.skipSpace()
			b, err := p.number()
			if err != nil {
				return nil, err
			}
			on, ok1 := a.(Int)
			oo, ok2 := b.(Int)
			if !ok1 || !ok2 || oo < 0 || int64(first)+int64(oo) > int64(len(data)) {
				return nil, fmt.Errorf("object stream %d: bad header", stmNum)
			}
			os.nums = append(os.nums, int(on))
			os.offsets = append(os.offsets, int(oo))
		}
		if len(d.objStm) > 16 {
			clear(d.objStm)
		}
		d.objStm[stmNum] = os
	}
	if index < 0 || index >= len(os.nums) || os.nums[index] != num {
		// the index is a hint; search by number
		index = -1
		for i, n := range os.nums {
			if n == num {
				index = i
				break
			}
		}
		if index < 0 {
			return nil, fmt.Errorf("not found in object stream %d", stmNum)
		}
	}
	p := &parser{buf: os.data[os.first+os.offsets[index]:], atEOF: true}
	return p.readObject()
}

// Resolve follows o while it is a reference. A reference to a missing or
// free object resolves to nil.
func (d *Document) Resolve(o Object) (Object, error) {
	for i := 0; i < 32; i++ {
		r, ok := o.(Ref)
		if !ok {
			return o, nil
		}
		var err error
		if o, err = d.Object(r.Num); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("pdf: reference chain too long")
}

// ResolveDict resolves o and returns it as a dictionary (nil if it is not one).
func (d *Document) ResolveDict(o Object) (Dict, error) {
	v, err := d.Resolve(o)
	if err != nil {
		return nil, err
	}
	dict, _ := AsDict(v)
	return dict, nil
}

// Catalog returns the document catalog and its reference.
func (d *Document) Catalog() (Dict, Ref, error) {
	ref := d.Trailer["Root"].(Ref)
	c, err := d.ResolveDict(ref)
	if err != nil {
		return nil, ref, Unreadable("pdf.Catalog", err)
	}
	if c == nil {
		return nil, ref, readErr("pdf.Catalog", ReasonBadCatalog, -1, "", nil)
	}
	return c, ref, nil
}

// MaxObjectNumber returns the highest object number in use or declared by
// /Size, so that new objects can be numbered after it.
func (d *Document) MaxObjectNumber() int {
	m := 0
	if s, ok := AsInt(d.Trailer["Size"]); ok && s > 0 && s <= maxObjectNumber {
		m = int(s) - 1
	}
	for num := range d.xref {
		m = max(m, num)
	}
	return m
}

// Pages returns the references of the page objects in document order.
func (d *Document) Pages() ([]Ref, error) {
	cat, _, err := d.Catalog()
	if err != nil {
		return nil, err
	}
	root, ok := cat["Pages"].(Ref)
	if !ok {
		return nil, readErr("pdf.Pages", ReasonBadPageTree, -1, "the catalog has no /Pages reference", nil)
	}
	var pages []Ref
	seen := map[int]bool{}
	var walk func(r Ref, depth int) error
	walk = func(r Ref, depth int) error {
		if seen[r.Num] || depth > MaxDepth || len(seen) > 1<<20 {
			return errors.New("page tree has a cycle or is too deep")
		}
		seen[r.Num] = true
		n, err := d.ResolveDict(r)
		if err != nil {
			return err
		}
		if n == nil {
			return nil
		}
		kids, ok := n["Kids"]
		if n["Type"] == Name("Page") || !ok {
			pages = append(pages, r)
			return nil
		}
		ka, err := d.Resolve(kids)
		if err != nil {
			return err
		}
		arr, _ := AsArray(ka)
		for _, k := range arr {
			if kr, ok := k.(Ref); ok {
				if err := walk(kr, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(root, 0); err != nil {
		var oe *ObjectError
		if errors.As(err, &oe) {
			return nil, Unreadable("pdf.Pages", err)
		}
		return nil, readErr("pdf.Pages", ReasonBadPageTree, -1, syntaxDetail(err), err)
	}
	return pages, nil
}

// RawStream returns a reader over the raw (encoded) data of s.
func (d *Document) RawStream(s *Stream) io.Reader {
	return io.NewSectionReader(d.r, s.Offset, s.Length)
}

// StreamData returns the decoded data of s, at most limit bytes.
func (d *Document) StreamData(s *Stream, limit int64) ([]byte, error) {
	return d.decodeStream(s, limit)
}

func (d *Document) decodeStream(s *Stream, limit int64) ([]byte, error) {
	if s.Length > MaxDecodedStream {
		return nil, fmt.Errorf("stream of %d bytes is too large", s.Length)
	}
	raw := make([]byte, s.Length)
	if _, err := d.r.ReadAt(raw, s.Offset); err != nil && err != io.EOF {
		return nil, fmt.Errorf("pdf: read stream: %w", err)
	}
	if d.sec != nil && s.crypt != cryptNone {
		raw = d.sec.decrypt(s.crypt, s.ref, raw)
	}
	filters, parms := filterList(s.Dict)
	for i, f := range filters {
		var err error
		if raw, err = decode(f, parms[i], raw, limit); err != nil {
			return nil, err
		}
	}
	return raw, nil
}

func filterList(d Dict) ([]Name, []Dict) {
	var fs []Name
	switch f := d["Filter"].(type) {
	case Name:
		fs = []Name{f}
	case Array:
		for _, e := range f {
			if n, ok := e.(Name); ok {
				fs = append(fs, n)
			}
		}
	}
	ps := make([]Dict, len(fs))
	switch p := d["DecodeParms"].(type) {
	case Dict:
		if len(ps) > 0 {
			ps[0] = p
		}
	case Array:
		for i := range ps {
			if i < len(p) {
				ps[i], _ = p[i].(Dict)
			}
		}
	}
	return fs, ps
}

// ObjectSpan returns the file offsets where the uncompressed object num
// starts ("num gen obj") and where its value ends (before "endobj"; after
// the data for a stream). ok is false for a free, missing or compressed
// object.
func (d *Document) ObjectSpan(num int) (start, end int64, ok bool, err error) {
	e, found := d.xref[num]
	if !found || e.kind != entryInUse {
		return 0, 0, false, nil
	}
	start = e.off
	err = d.parseAt(start, func(p *parser) error {
		if _, err := p.readIndirectHeader(); err != nil {
			return err
		}
		if _, err := p.readObject(); err != nil {
			return err
		}
		end = p.base + int64(p.pos)
		return nil
	})
	if err != nil {
		return 0, 0, false, err
	}
	if s, isStream := d.cache[num].(*Stream); isStream {
		end = s.Offset + s.Length
	}
	return start, end, true, nil
}

// ObjectOffset returns the file offset of the uncompressed object num.
func (d *Document) ObjectOffset(num int) (int64, bool) {
	e, ok := d.xref[num]
	return e.off, ok && e.kind == entryInUse
}

// Defined reports whether the cross-reference data defines object num as
// in use.
func (d *Document) Defined(num int) bool {
	e, ok := d.xref[num]
	return ok && e.kind != entryFree
}
