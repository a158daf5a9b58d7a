package envelope

import (
	"bytes"
	"testing"
)

func TestDeriveKey(t *testing.T) {
	k1 := bytes.Repeat([]byte{1}, KeySize)
	k2 := bytes.Repeat([]byte{2}, KeySize)
	a, _ := NewKeyring("a", map[string][]byte{"a": k1, "b": k2})
	a2, _ := NewKeyring("a", map[string][]byte{"a": k1})
	b, _ := NewKeyring("b", map[string][]byte{"a": k1, "b": k2})
	x := a.DeriveKey("p1")
	if len(x) != KeySize {
		t.Fatalf("length %d", len(x))
	}
	if !bytes.Equal(x, a2.DeriveKey("p1")) {
		t.Error("the same primary key derived different keys")
	}
	if bytes.Equal(x, a.DeriveKey("p2")) {
		t.Error("two purposes share a key")
	}
	if bytes.Equal(x, b.DeriveKey("p1")) {
		t.Error("another primary key derived the same key")
	}
	if bytes.Equal(x, k1) {
		t.Error("the derived key is the primary key itself")
	}
}
