// Package geo maps a client address to the country and city a MaxMind DB
// file (GeoLite2-City / GeoIP2-City, or any database of that format with
// their "country" and "city" records) gives for it. It reads the MaxMind
// DB format itself (https://maxmind.github.io/MaxMind-DB/, version 2):
// no dependency, and every read is bounds-checked, so a broken or hostile
// file gives an error, never a panic or an endless loop. Without a file
// the answer is Unknown: a location is never guessed.
package geo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
)

// metadataMarker starts the metadata section; its last occurrence counts.
var metadataMarker = []byte("\xab\xcd\xefMaxMind.com")

const (
	maxMetadata = 128 << 10 // the spec's limit of the metadata section
	maxDepth    = 32        // nesting (maps, arrays, pointers) of one value
	maxValues   = 100_000   // values decoded for one record (pointers could repeat a big map)
	maxFileSize = 1 << 30   // the largest file OpenFile reads
)

// ErrFormat is the error of a file that is not a valid MaxMind DB.
var ErrFormat = errors.New("geo: not a valid MaxMind DB file")

func formatErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, a...)...)
}

// DB is an opened MaxMind DB file, held in memory. It is safe for
// concurrent use.
type DB struct {
	data       []byte // the whole file
	nodeCount  uint32
	recordSize int // 24, 28 or 32 bits
	ipVersion  int // 4 or 6
	nodeBytes  int
	dataStart  int    // the data section: after the tree and 16 zero bytes
	dataEnd    int    // the metadata marker
	ipv4Start  uint32 // the node of ::/96 in an IPv6 tree (0 in an IPv4 one)
	ipv4Depth  int
	Type       string // the metadata's database_type
}

// OpenFile reads and opens the file at path. Errors: the file's, ErrFormat.
func OpenFile(path string) (*DB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geo: open the MaxMind DB file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("geo: stat the MaxMind DB file: %w", err)
	}
	if st.Size() > maxFileSize {
		return nil, formatErr("the file has %d bytes, more than %d", st.Size(), maxFileSize)
	}
	data := make([]byte, st.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("geo: read the MaxMind DB file: %w", err)
	}
	return Open(data)
}

// Open opens a MaxMind DB file's bytes (which it keeps: they must not
// change). Errors: ErrFormat.
func Open(data []byte) (*DB, error) {
	from := max(len(data)-maxMetadata, 0)
	i := bytes.LastIndex(data[from:], metadataMarker)
	if i < 0 {
		return nil, formatErr("no metadata marker")
	}
	metaStart := from + i + len(metadataMarker)
	d := decoder{buf: data[metaStart:]}
	v, _, err := d.decode(0, 0)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	meta, ok := v.(map[string]any)
	if !ok {
		return nil, formatErr("the metadata is not a map")
	}
	db := &DB{data: data, dataEnd: from + i}
	nodes, ok1 := meta["node_count"].(uint64)
	rs, ok2 := meta["record_size"].(uint64)
	ipv, ok3 := meta["ip_version"].(uint64)
	major, ok4 := meta["binary_format_major_version"].(uint64)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, formatErr("the metadata lacks node_count, record_size, ip_version or binary_format_major_version")
	}
	db.Type, _ = meta["database_type"].(string)
	switch {
	case major != 2:
		return nil, formatErr("binary format %d, not 2", major)
	case rs != 24 && rs != 28 && rs != 32:
		return nil, formatErr("record size %d", rs)
	case ipv != 4 && ipv != 6:
		return nil, formatErr("ip version %d", ipv)
	case nodes == 0 || nodes > math.MaxUint32:
		return nil, formatErr("node count %d", nodes)
	}
	db.nodeCount, db.recordSize, db.ipVersion = uint32(nodes), int(rs), int(ipv)
	db.nodeBytes = db.recordSize / 4
	treeSize := uint64(db.nodeBytes) * nodes
	if treeSize+16 > uint64(db.dataEnd) {
		return nil, formatErr("the search tree (%d bytes) does not fit before the metadata", treeSize)
	}
	db.dataStart = int(treeSize) + 16
	if db.ipVersion == 6 {
		// IPv4 addresses live under ::/96: find that node once.
		n := uint32(0)
		for ; db.ipv4Depth < 96 && n < db.nodeCount; db.ipv4Depth++ {
			if n, err = db.record(n, 0); err != nil {
				return nil, err
			}
		}
		db.ipv4Start = n
	}
	return db, nil
}

// record returns the left (bit 0) or right (bit 1) record of node n.
func (db *DB) record(n uint32, bit byte) (uint32, error) {
	off := int(n) * db.nodeBytes
	if n >= db.nodeCount || off+db.nodeBytes > db.dataStart {
		return 0, formatErr("node %d out of the tree", n)
	}
	b := db.data[off : off+db.nodeBytes]
	switch db.recordSize {
	case 24:
		if bit == 0 {
			return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]), nil
		}
		return uint32(b[3])<<16 | uint32(b[4])<<8 | uint32(b[5]), nil
	case 28:
		if bit == 0 {
			return uint32(b[3]&0xf0)<<20 | uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]), nil
		}
		return uint32(b[3]&0x0f)<<24 | uint32(b[4])<<16 | uint32(b[5])<<8 | uint32(b[6]), nil
	default:
		if bit == 0 {
			return binary.BigEndian.Uint32(b[0:4]), nil
		}
		return binary.BigEndian.Uint32(b[4:8]), nil
	}
}

// Lookup returns the data record of the network that holds ip (nil, false
// when there is none). Errors: ErrFormat.
func (db *DB) Lookup(ip netip.Addr) (any, bool, error) {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return nil, false, nil
	}
	var bits []byte
	n := uint32(0)
	switch {
	case ip.Is4() && db.ipVersion == 6:
		a := ip.As4()
		bits, n = a[:], db.ipv4Start
	case ip.Is4():
		a := ip.As4()
		bits = a[:]
	case db.ipVersion == 4:
		return nil, false, nil // an IPv6 address in an IPv4 database
	default:
		a := ip.As16()
		bits = a[:]
	}
	for i := 0; i < len(bits)*8 && n < db.nodeCount; i++ {
		var err error
		if n, err = db.record(n, bits[i/8]>>(7-i%8)&1); err != nil {
			return nil, false, err
		}
	}
	switch {
	case n == db.nodeCount:
		return nil, false, nil
	case n < db.nodeCount:
		return nil, false, formatErr("the tree is deeper than the address")
	}
	off := uint64(n) - uint64(db.nodeCount) - 16
	if uint64(n) < uint64(db.nodeCount)+16 || off >= uint64(db.dataEnd-db.dataStart) {
		return nil, false, formatErr("a record points out of the data section")
	}
	d := decoder{buf: db.data[db.dataStart:db.dataEnd]}
	v, _, err := d.decode(int(off), 0)
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// decoder reads the data section's values (the same encoding is used by
// the metadata). Pointers are offsets into buf.
type decoder struct {
	buf    []byte
	values int // decoded so far
}

// The data types of the format.
const (
	typeExtended = 0
	typePointer  = 1
	typeString   = 2
	typeDouble   = 3
	typeBytes    = 4
	typeUint16   = 5
	typeUint32   = 6
	typeMap      = 7
	typeInt32    = 8
	typeUint64   = 9
	typeUint128  = 10
	typeArray    = 11
	typeCache    = 12
	typeEnd      = 13
	typeBool     = 14
	typeFloat    = 15
)

// decode returns the value at off and the offset after it. Unsigned
// integers come back as uint64 (uint128 as []byte), int32 as int64, both
// floats as float64, strings as string, maps as map[string]any and arrays
// as []any.
func (d *decoder) decode(off, depth int) (any, int, error) {
	if depth > maxDepth {
		return nil, 0, formatErr("values nested deeper than %d", maxDepth)
	}
	if d.values++; d.values > maxValues {
		return nil, 0, formatErr("more than %d values in one record", maxValues)
	}
	typ, size, off, err := d.control(off)
	if err != nil {
		return nil, 0, err
	}
	if typ == typePointer {
		target, next, err := d.pointer(size, off)
		if err != nil {
			return nil, 0, err
		}
		if t, _, _, err := d.control(target); err == nil && t == typePointer {
			return nil, 0, formatErr("a pointer to a pointer")
		}
		v, _, err := d.decode(target, depth+1)
		return v, next, err
	}
	switch typ {
	case typeMap:
		if size > len(d.buf)-off { // each pair needs at least two bytes
			return nil, 0, formatErr("a map of %d pairs in %d bytes", size, len(d.buf)-off)
		}
		m := make(map[string]any, size)
		for range size {
			k, next, err := d.decode(off, depth+1)
			if err != nil {
				return nil, 0, err
			}
			key, ok := k.(string)
			if !ok {
				return nil, 0, formatErr("a map key that is not a string")
			}
			v, next, err := d.decode(next, depth+1)
			if err != nil {
				return nil, 0, err
			}
			m[key], off = v, next
		}
		return m, off, nil
	case typeArray:
		if size > len(d.buf)-off {
			return nil, 0, formatErr("an array of %d elements in %d bytes", size, len(d.buf)-off)
		}
		a := make([]any, 0, size)
		for range size {
			v, next, err := d.decode(off, depth+1)
			if err != nil {
				return nil, 0, err
			}
			a, off = append(a, v), next
		}
		return a, off, nil
	case typeBool:
		if size > 1 {
			return nil, 0, formatErr("a boolean of size %d", size)
		}
		return size == 1, off, nil
	case typeEnd, typeCache:
		return nil, 0, formatErr("type %d in a value", typ)
	}
	if size > len(d.buf)-off {
		return nil, 0, formatErr("a value of %d bytes past the end", size)
	}
	b := d.buf[off : off+size]
	off += size
	switch typ {
	case typeString:
		return string(b), off, nil
	case typeBytes:
		return bytes.Clone(b), off, nil
	case typeDouble:
		if size != 8 {
			return nil, 0, formatErr("a double of %d bytes", size)
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), off, nil
	case typeFloat:
		if size != 4 {
			return nil, 0, formatErr("a float of %d bytes", size)
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), off, nil
	case typeUint16, typeUint32, typeUint64, typeInt32:
		limit := map[int]int{typeUint16: 2, typeUint32: 4, typeUint64: 8, typeInt32: 4}[typ]
		if size > limit {
			return nil, 0, formatErr("an integer of type %d with %d bytes", typ, size)
		}
		var u uint64
		for _, c := range b {
			u = u<<8 | uint64(c)
		}
		if typ == typeInt32 {
			return int64(int32(uint32(u))), off, nil
		}
		return u, off, nil
	case typeUint128:
		if size > 16 {
			return nil, 0, formatErr("a uint128 of %d bytes", size)
		}
		return bytes.Clone(b), off, nil
	}
	return nil, 0, formatErr("unknown type %d", typ)
}

// control reads a control byte (and an extended type and size bytes) at
// off: the type, the size (for a pointer: the control byte's low five
// bits) and the offset of the payload.
func (d *decoder) control(off int) (typ, size, next int, err error) {
	if off < 0 || off >= len(d.buf) {
		return 0, 0, 0, formatErr("offset %d out of the section", off)
	}
	c := d.buf[off]
	off++
	typ, size = int(c>>5), int(c&0x1f)
	if typ == typePointer {
		return typ, size, off, nil
	}
	if typ == typeExtended {
		if off >= len(d.buf) {
			return 0, 0, 0, formatErr("an extended type past the end")
		}
		typ = 7 + int(d.buf[off])
		off++
		if typ < 8 || typ > typeFloat {
			return 0, 0, 0, formatErr("extended type %d", typ)
		}
	}
	if size >= 29 {
		n := size - 28 // 1, 2 or 3 more bytes
		if off+n > len(d.buf) {
			return 0, 0, 0, formatErr("a size past the end")
		}
		v := 0
		for _, b := range d.buf[off : off+n] {
			v = v<<8 | int(b)
		}
		off += n
		size = [...]int{0, 29, 285, 65821}[n] + v
	}
	return typ, size, off, nil
}

// pointer decodes a pointer's target from its control bits and the bytes
// at off; it returns the target and the offset after the pointer.
func (d *decoder) pointer(bits, off int) (int, int, error) {
	n := (bits>>3)&3 + 1
	if off+n > len(d.buf) {
		return 0, 0, formatErr("a pointer past the end")
	}
	v := 0
	if n < 4 {
		v = bits & 7
	}
	for _, b := range d.buf[off : off+n] {
		v = v<<8 | int(b)
	}
	v += [...]int{0, 0, 2048, 526336, 0}[n]
	return v, off + n, nil
}
