package pdf

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"

	"esign/internal/esign"
)

// Update is an incremental update of a Document: objects added or replaced,
// written after the unchanged original bytes.
type Update struct {
	doc     *Document
	next    int
	objs    map[int]Object
	gens    map[int]int
	Trailer Dict // extra trailer entries (e.g. a new /Info); /Prev and /Size are set by Build
}

// NewUpdate starts an incremental update of d.
func (d *Document) NewUpdate() *Update {
	return &Update{doc: d, next: d.MaxObjectNumber() + 1, objs: map[int]Object{}, gens: map[int]int{}, Trailer: Dict{}}
}

// Add stores o as a new object and returns its reference.
func (u *Update) Add(o Object) Ref {
	r := Ref{Num: u.next}
	u.next++
	u.objs[r.Num] = o
	return r
}

// Next returns the reference the next call of Add returns.
func (u *Update) Next() Ref { return Ref{Num: u.next} }

// Set replaces the object r (an existing object or one reserved by Add).
func (u *Update) Set(r Ref, o Object) {
	u.objs[r.Num] = o
	if r.Gen != 0 {
		u.gens[r.Num] = r.Gen
	}
}

// Get returns the object r as changed by this update, or as in the document.
func (u *Update) Get(r Ref) (Object, error) {
	if o, ok := u.objs[r.Num]; ok {
		return o, nil
	}
	return u.doc.Object(r.Num)
}

// Built is the serialized update: Tail follows the original Size bytes.
type Built struct {
	Size    int64         // bytes of the original file (the prefix)
	Tail    []byte        // bytes appended after the original
	Offsets map[int]int64 // absolute offset of each written object's "N G obj"
	Headers map[int]int   // length of each object's "N G obj\n" header
}

// TotalSize is the size of the updated file.
func (b *Built) TotalSize() int64 { return b.Size + int64(len(b.Tail)) }

// Build serializes the update. The new cross-reference section is a table
// if the newest section of the document is a table and a stream otherwise.
func (u *Update) Build() (*Built, error) {
	d := u.doc
	if d.shift != 0 {
		// the file's offsets count from its header, the update's would
		// count from byte 0: readers could not agree on either
		return nil, &esign.Error{Op: "pdf.Update.Build", Kind: esign.Invalid, Code: CodeUnsupported,
			Msg: "cannot append to a PDF whose offsets count from a header that is not at byte 0"}
	}
	b := &Built{Size: d.size, Offsets: map[int]int64{}, Headers: map[int]int{}}
	// room for the objects (a signature placeholder is tens of KiB) so
	// that the tail is not copied while it grows
	hint := 1024
	for _, o := range u.objs {
		switch v := o.(type) {
		case Raw:
			hint += len(v) + 64
		case *Stream:
			hint += len(v.Data) + 256
		default:
			hint += 256
		}
	}
	tail := make([]byte, 0, hint)
	last := make([]byte, 1)
	if _, err := d.r.ReadAt(last, d.size-1); err != nil {
		return nil, fmt.Errorf("pdf: read last byte: %w", err)
	}
	if last[0] != '\n' && last[0] != '\r' {
		tail = append(tail, '\n')
	}
	nums := make([]int, 0, len(u.objs)+1)
	for n := range u.objs {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	for _, n := range nums {
		b.Offsets[n] = d.size + int64(len(tail))
		h := len(tail)
		tail = strconv.AppendInt(tail, int64(n), 10)
		tail = append(tail, ' ')
		tail = strconv.AppendInt(tail, int64(u.gens[n]), 10)
		tail = append(tail, " obj\n"...)
		b.Headers[n] = len(tail) - h
		o := u.objs[n]
		if _, raw := o.(Raw); !raw && d.sec != nil {
			var err error
			if o, err = d.sec.encryptObject(Ref{Num: n, Gen: u.gens[n]}, o); err != nil {
				return nil, fmt.Errorf("pdf: encrypt object %d: %w", n, err)
			}
		}
		tail = Format(tail, o)
		tail = append(tail, "\nendobj\n"...)
	}
	if len(d.Sections) == 0 {
		return nil, errors.New("pdf: document has no cross-reference section")
	}
	trailer := Dict{}
	// an encrypted document's update keeps its encryption (/Encrypt) and
	// the /ID its key is derived from
	for _, k := range []Name{"Root", "Info", "ID", "Encrypt"} {
		if v, ok := d.Trailer[k]; ok {
			trailer[k] = v
		}
	}
	for k, v := range u.Trailer {
		trailer[k] = v
	}
	trailer["Prev"] = Int(d.StartXRef)
	xrefOff := d.size + int64(len(tail))
	if d.Sections[0].Stream {
		xn := u.next
		b.Offsets[xn] = xrefOff
		nums = append(nums, xn)
		trailer["Size"] = Int(xn + 1)
		maxOff := xrefOff
		w2 := 1
		for ; maxOff >= 1<<(8*w2); w2++ {
		}
		var index Array
		for i := 0; i < len(nums); {
			j := i
			for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
				j++
			}
			index = append(index, Int(nums[i]), Int(j-i+1))
			i = j + 1
		}
		data := make([]byte, 0, len(nums)*(w2+3))
		for _, n := range nums {
			data = append(data, 1)
			off := b.Offsets[n]
			for k := w2 - 1; k >= 0; k-- {
				data = append(data, byte(off>>(8*k)))
			}
			data = append(data, byte(u.gens[n]>>8), byte(u.gens[n]))
		}
		trailer["Type"] = Name("XRef")
		trailer["W"] = Array{Int(1), Int(w2), Int(2)}
		trailer["Index"] = index
		h := len(tail)
		tail = strconv.AppendInt(tail, int64(xn), 10)
		tail = append(tail, " 0 obj\n"...)
		b.Headers[xn] = len(tail) - h
		tail = Format(tail, &Stream{Dict: trailer, Data: data})
		tail = append(tail, "\nendobj\n"...)
	} else {
		trailer["Size"] = Int(u.next)
		tail = append(tail, "xref\n"...)
		for i := 0; i < len(nums); {
			j := i
			for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
				j++
			}
			tail = fmt.Appendf(tail, "%d %d\n", nums[i], j-i+1)
			for k := i; k <= j; k++ {
				tail = fmt.Appendf(tail, "%010d %05d n\r\n", b.Offsets[nums[k]], u.gens[nums[k]])
			}
			i = j + 1
		}
		tail = append(tail, "trailer\n"...)
		tail = Format(tail, trailer)
		tail = append(tail, '\n')
	}
	tail = fmt.Appendf(tail, "startxref\n%d\n%%%%EOF\n", xrefOff)
	b.Tail = tail
	return b, nil
}

// WriteTo writes the original file followed by the update to w.
func (b *Built) WriteTo(r io.ReaderAt, w io.Writer) (int64, error) {
	n, err := io.Copy(w, io.NewSectionReader(r, 0, b.Size))
	if err != nil {
		return n, fmt.Errorf("pdf: copy original: %w", err)
	}
	m, err := w.Write(b.Tail)
	return n + int64(m), err
}
