package docstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
)

// BenchmarkPutOpen stores a document of the signing flow's size (a sealed
// contract of some 30 KiB) and reads it back: the memory a request
// allocates for it (B/op) is what the garbage collector pays for later.
func BenchmarkPutOpen(b *testing.B) {
	s, _ := newStore(b)
	doc := bytes.Repeat([]byte("%PDF-1.7 esign benchmark "), 30<<10/25)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		key := fmt.Sprintf("contracts/c%d/d.pdf", i)
		if _, err := s.Put(ctx, key, bytes.NewReader(doc)); err != nil {
			b.Fatal(err)
		}
		r, err := s.Open(ctx, key)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}
