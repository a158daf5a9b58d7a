package envelope

import (
	"bytes"
	"crypto/rand"
	"io"
	"testing"
)

// TestPooledBuffersReused runs streams one after another, so that each
// gets the buffers the previous one released: every round trip must still
// be exact, a Reader past io.EOF stays at io.EOF and a closed Writer
// refuses writes.
func TestPooledBuffersReused(t *testing.T) {
	k := testKeyring(t)
	for i, size := range []int{0, 1, 5000, DefaultChunkSize, DefaultChunkSize + 1, 3*DefaultChunkSize - 7, 100} {
		pt := make([]byte, size)
		rand.Read(pt)
		var ct bytes.Buffer
		w, err := k.NewWriter(&ct)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(pt)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("x")); err == nil {
			t.Fatalf("%d: write after close accepted", i)
		}
		r, err := k.NewReader(bytes.NewReader(ct.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("%d: round trip of %d bytes: %v, equal %v", i, size, err, bytes.Equal(got, pt))
		}
		if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
			t.Fatalf("%d: read after EOF: %d, %v", i, n, err)
		}
		ra, err := k.NewReaderAt(bytes.NewReader(ct.Bytes()), int64(ct.Len()))
		if err != nil {
			t.Fatal(err)
		}
		got = make([]byte, size)
		if _, err := ra.ReadAt(got, 0); (err != nil && err != io.EOF) || !bytes.Equal(got, pt) {
			t.Fatalf("%d: ReaderAt of %d bytes: %v", i, size, err)
		}
	}
}
