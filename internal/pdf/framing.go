package pdf

import (
	"fmt"
	"io"
)

// Framing describes the bytes of a file outside the PDF proper: before the
// %PDF- header and after the end of the newest revision.
type Framing struct {
	// Before is the number of bytes before the %PDF- header.
	Before int64
	// Shifted reports that the file's offsets count from the header rather
	// than from byte 0 (bytes were put before an existing PDF); readers
	// shift them, and so does this package.
	Shifted bool
	// End is the offset just after the last %%EOF and its end-of-line
	// (after the startxref value when the file has no %%EOF); After is
	// the number of bytes that follow it.
	End, After int64
}

// Framing returns where the PDF starts and ends in the file.
func (d *Document) Framing() Framing {
	return Framing{Before: d.headerOff, Shifted: d.shift != 0, End: d.eofEnd, After: d.size - d.eofEnd}
}

// ReadTrailing returns up to limit bytes that follow the last %%EOF.
func (d *Document) ReadTrailing(limit int) ([]byte, error) {
	n := min(d.size-d.eofEnd, int64(limit))
	if n <= 0 {
		return nil, nil
	}
	b := make([]byte, n)
	if _, err := d.r.ReadAt(b, d.eofEnd); err != nil && err != io.EOF {
		return nil, fmt.Errorf("pdf: read after %%%%EOF: %w", err)
	}
	return b, nil
}

// ReadPrefix returns up to limit bytes before the %PDF- header.
func (d *Document) ReadPrefix(limit int) ([]byte, error) {
	n := min(d.headerOff, int64(limit))
	if n <= 0 {
		return nil, nil
	}
	b := make([]byte, n)
	if _, err := d.r.ReadAt(b, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("pdf: read before the header: %w", err)
	}
	return b, nil
}
