package pades

import (
	"errors"
)

// errBER reports malformed BER.
var errBER = errors.New("pades: malformed BER")

// berToDER re-encodes the first BER element of b with definite lengths and
// constructed OCTET STRINGs joined, which is what other signers (NSS,
// poppler) write and what our strict DER CMS parser reads. Trailing bytes
// (the zero padding of /Contents) are ignored. The signed attributes are
// DER already (their signature depends on it) and come out unchanged.
func berToDER(b []byte) ([]byte, error) {
	out, _, err := berElement(b, 0)
	return out, err
}

func berElement(b []byte, depth int) (out []byte, n int, err error) {
	if depth > 64 {
		return nil, 0, errBER
	}
	if len(b) < 2 {
		return nil, 0, errBER
	}
	// tag
	p := 1
	if b[0]&0x1f == 0x1f {
		for p < len(b) && b[p]&0x80 != 0 {
			p++
			if p > 5 {
				return nil, 0, errBER
			}
		}
		p++
	}
	if p >= len(b) {
		return nil, 0, errBER
	}
	tag := b[:p]
	constructed := b[0]&0x20 != 0
	l := b[p]
	p++
	var content []byte
	if l == 0x80 {
		if !constructed {
			return nil, 0, errBER
		}
		var children [][]byte
		for {
			if p+2 > len(b) {
				return nil, 0, errBER
			}
			if b[p] == 0 && b[p+1] == 0 {
				p += 2
				break
			}
			c, m, err := berElement(b[p:], depth+1)
			if err != nil {
				return nil, 0, err
			}
			children = append(children, c)
			p += m
		}
		content = joinChildren(b[0], children)
	} else {
		length := int(l)
		if l&0x80 != 0 {
			k := int(l & 0x7f)
			if k > 4 || p+k > len(b) {
				return nil, 0, errBER
			}
			length = 0
			for i := 0; i < k; i++ {
				length = length<<8 | int(b[p+i])
			}
			p += k
		}
		if length < 0 || p+length > len(b) {
			return nil, 0, errBER
		}
		raw := b[p : p+length]
		p += length
		if constructed {
			var children [][]byte
			for q := 0; q < len(raw); {
				c, m, err := berElement(raw[q:], depth+1)
				if err != nil {
					return nil, 0, err
				}
				children = append(children, c)
				q += m
			}
			content = joinChildren(b[0], children)
		} else {
			content = raw
		}
	}
	t := append([]byte(nil), tag...)
	if b[0] == 0x24 { // constructed OCTET STRING becomes primitive
		t = []byte{0x04}
	}
	out = append(t, derLength(len(content))...)
	return append(out, content...), p, nil
}

// joinChildren concatenates the re-encoded children; for a constructed
// OCTET STRING it joins the contents of its primitive segments.
func joinChildren(tag byte, children [][]byte) []byte {
	var c []byte
	for _, ch := range children {
		if tag == 0x24 {
			_, hdr := splitHeader(ch)
			c = append(c, ch[hdr:]...)
			continue
		}
		c = append(c, ch...)
	}
	return c
}

func splitHeader(der []byte) (int, int) {
	if len(der) < 2 {
		return 0, len(der)
	}
	if der[1]&0x80 == 0 {
		return int(der[1]), 2
	}
	k := int(der[1] & 0x7f)
	n := 0
	for i := 0; i < k && 2+i < len(der); i++ {
		n = n<<8 | int(der[2+i])
	}
	return n, 2 + k
}

func derLength(n int) []byte {
	if n < 0x80 {
		return []byte{byte(n)}
	}
	var b []byte
	for m := n; m > 0; m >>= 8 {
		b = append([]byte{byte(m)}, b...)
	}
	return append([]byte{0x80 | byte(len(b))}, b...)
}
