package customerui

import (
	"strconv"
	"strings"
)

// byteRange is one range of a Range header (RFC 9110 §14.1.2): first-last
// (last < 0: to the end), or the last suffix bytes (suffix > 0).
type byteRange struct {
	first, last, suffix int64
}

// parseRange reads a Range header of a single byte range. ok is false for
// anything else (several ranges, another unit, bad syntax): the caller then
// sends the whole document, as RFC 9110 allows.
func parseRange(h string) (byteRange, bool) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return byteRange{}, false
	}
	a, b, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return byteRange{}, false
	}
	if a == "" {
		n, ok := digits(b)
		if !ok || n == 0 {
			return byteRange{}, false
		}
		return byteRange{suffix: n}, true
	}
	first, ok := digits(a)
	if !ok {
		return byteRange{}, false
	}
	if b == "" {
		return byteRange{first: first, last: -1}, true
	}
	last, ok := digits(b)
	if !ok || last < first {
		return byteRange{}, false
	}
	return byteRange{first: first, last: last}, true
}

// digits parses a non-empty run of ASCII digits that fits an int64.
func digits(s string) (int64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// resolve returns the offset and length of the range in a document of
// size bytes; ok is false when it is not satisfiable (416).
func (br byteRange) resolve(size int64) (offset, length int64, ok bool) {
	if br.suffix > 0 {
		n := min(br.suffix, size)
		return size - n, n, n > 0
	}
	if br.first >= size {
		return 0, 0, false
	}
	last := size - 1
	if br.last >= 0 && br.last < last {
		last = br.last
	}
	return br.first, last - br.first + 1, true
}
