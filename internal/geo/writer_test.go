package geo

import (
	"bytes"
	"encoding/binary"
	"math"
	"net/netip"
	"slices"
	"testing"
)

// The test writer of the MaxMind DB format: enough of it (an IPv6 tree of
// any record size, maps, arrays, strings shared by pointers, unsigned
// integers, doubles and booleans) to make the golden test database and the
// round-trip tests, written from the spec independently of the reader's
// code paths.

type network struct {
	prefix netip.Prefix
	data   map[string]any
}

type trieNode struct {
	child [2]*trieNode
	data  int // index into the records + 1 on a leaf; 0 inside
}

// writeMMDB returns a MaxMind DB file of the networks (IPv4 ones under
// ::/96) with the record size.
func writeMMDB(tb testing.TB, recordSize int, nets []network) []byte {
	tb.Helper()
	root := &trieNode{}
	var data bytes.Buffer
	strs := map[string]int{}
	offsets := make([]int, len(nets))
	for i, n := range nets {
		offsets[i] = data.Len()
		encodeValue(&data, n.data, strs)
		a := n.prefix.Addr().As16()
		bits := n.prefix.Bits()
		if n.prefix.Addr().Is4() { // under ::/96, not the mapped ::ffff:0:0/96
			a = [16]byte{}
			v4 := n.prefix.Addr().As4()
			copy(a[12:], v4[:])
			bits += 96
		}
		node := root
		for b := range bits {
			bit := a[b/8] >> (7 - b%8) & 1
			if node.child[bit] == nil {
				node.child[bit] = &trieNode{}
			}
			node = node.child[bit]
		}
		node.data = i + 1
	}
	// Number the inner nodes breadth first, the root 0.
	var inner []*trieNode
	index := map[*trieNode]uint32{}
	for queue := []*trieNode{root}; len(queue) > 0; queue = queue[1:] {
		n := queue[0]
		index[n] = uint32(len(inner))
		inner = append(inner, n)
		for _, c := range n.child {
			if c != nil && c.data == 0 {
				queue = append(queue, c)
			}
		}
	}
	count := uint32(len(inner))
	value := func(c *trieNode) uint32 {
		switch {
		case c == nil:
			return count
		case c.data > 0:
			return count + 16 + uint32(offsets[c.data-1])
		}
		return index[c]
	}
	var out bytes.Buffer
	for _, n := range inner {
		l, r := value(n.child[0]), value(n.child[1])
		switch recordSize {
		case 24:
			out.Write([]byte{byte(l >> 16), byte(l >> 8), byte(l), byte(r >> 16), byte(r >> 8), byte(r)})
		case 28:
			out.Write([]byte{byte(l >> 16), byte(l >> 8), byte(l), byte(l>>24)<<4 | byte(r>>24)&0x0f, byte(r >> 16), byte(r >> 8), byte(r)})
		case 32:
			out.Write(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, l), r))
		default:
			tb.Fatalf("record size %d", recordSize)
		}
	}
	out.Write(make([]byte, 16))
	out.Write(data.Bytes())
	out.Write(metadataMarker)
	var meta bytes.Buffer // its pointers count from the marker
	encodeValue(&meta, map[string]any{
		"node_count": uint32(count), "record_size": uint16(recordSize), "ip_version": uint16(6),
		"database_type": "esign-test-City", "languages": []any{"en"}, "binary_format_major_version": uint16(2),
		"binary_format_minor_version": uint16(0), "build_epoch": uint64(1_700_000_000),
		"description": map[string]any{"en": "esign test database (documentation and loopback ranges only)"},
	}, map[string]int{})
	out.Write(meta.Bytes())
	return out.Bytes()
}

type writer interface {
	Write([]byte) (int, error)
	WriteByte(byte) error
	Len() int
}

func writeControl(w writer, typ, size int) {
	var first byte
	var ext []byte
	if typ > 7 {
		ext = []byte{byte(typ - 7)}
	} else {
		first = byte(typ) << 5
	}
	var extra []byte
	switch {
	case size < 29:
		first |= byte(size)
	case size < 285:
		first |= 29
		extra = []byte{byte(size - 29)}
	case size < 65821:
		first |= 30
		extra = binary.BigEndian.AppendUint16(nil, uint16(size-285))
	default:
		first |= 31
		v := size - 65821
		extra = []byte{byte(v >> 16), byte(v >> 8), byte(v)}
	}
	w.WriteByte(first)
	w.Write(ext)
	w.Write(extra)
}

func writePointer(w writer, off int) {
	switch {
	case off < 2048:
		w.Write([]byte{0x20 | byte(off>>8)&7, byte(off)})
	case off < 2048+1<<19:
		v := off - 2048
		w.Write([]byte{0x28 | byte(v>>16)&7, byte(v >> 8), byte(v)})
	default:
		v := off - 526336
		w.Write([]byte{0x30 | byte(v>>24)&7, byte(v >> 16), byte(v >> 8), byte(v)})
	}
}

func minimal(u uint64) []byte {
	b := binary.BigEndian.AppendUint64(nil, u)
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// encodeValue writes v; a string seen before becomes a pointer to it.
func encodeValue(w writer, v any, strs map[string]int) {
	switch v := v.(type) {
	case string:
		if off, ok := strs[v]; ok {
			writePointer(w, off)
			return
		}
		strs[v] = w.Len()
		writeControl(w, typeString, len(v))
		w.Write([]byte(v))
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		writeControl(w, typeMap, len(v))
		for _, k := range keys {
			encodeValue(w, k, strs)
			encodeValue(w, v[k], strs)
		}
	case []any:
		writeControl(w, typeArray, len(v))
		for _, x := range v {
			encodeValue(w, x, strs)
		}
	case uint16:
		b := minimal(uint64(v))
		writeControl(w, typeUint16, len(b))
		w.Write(b)
	case uint32:
		b := minimal(uint64(v))
		writeControl(w, typeUint32, len(b))
		w.Write(b)
	case uint64:
		b := minimal(v)
		writeControl(w, typeUint64, len(b))
		w.Write(b)
	case float64:
		writeControl(w, typeDouble, 8)
		w.Write(binary.BigEndian.AppendUint64(nil, math.Float64bits(v)))
	case bool:
		n := 0
		if v {
			n = 1
		}
		writeControl(w, typeBool, n)
	default:
		panic("encodeValue: unsupported type")
	}
}
