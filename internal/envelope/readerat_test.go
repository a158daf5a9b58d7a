package envelope_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"testing"

	"esign/internal/envelope"
)

func TestReaderAt(t *testing.T) {
	k, err := envelope.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, envelope.KeySize)})
	if err != nil {
		t.Fatal(err)
	}
	const chunk = 1 << 10
	for _, size := range []int{0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk, 3*chunk + 17} {
		plain := make([]byte, size)
		rand.Read(plain)
		var ct bytes.Buffer
		w, err := k.NewWriterSize(&ct, chunk)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(plain)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		ra, err := k.NewReaderAt(bytes.NewReader(ct.Bytes()), int64(ct.Len()))
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if ra.Size() != int64(size) {
			t.Fatalf("size %d: Size() = %d", size, ra.Size())
		}
		got, err := io.ReadAll(io.NewSectionReader(ra, 0, ra.Size()))
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("size %d: read all: %v, equal %v", size, err, bytes.Equal(got, plain))
		}
		// Random windows, crossing chunk borders, backwards.
		for off := size; off >= 0; off -= chunk/3 + 1 {
			buf := make([]byte, min(chunk+5, size-off))
			n, err := ra.ReadAt(buf, int64(off))
			if n != len(buf) || (err != nil && err != io.EOF) || !bytes.Equal(buf, plain[off:off+n]) {
				t.Fatalf("size %d: ReadAt(%d, %d) = %d, %v", size, len(buf), off, n, err)
			}
		}
		if n, err := ra.ReadAt(make([]byte, 1), int64(size)); n != 0 || err != io.EOF {
			t.Fatalf("size %d: read at the end = %d, %v", size, n, err)
		}
		if size > chunk {
			// A stream cut at a chunk border must not pass for a shorter one.
			cut := ct.Bytes()[:ct.Len()-((size-1)%chunk+1)-16]
			if ra, err := k.NewReaderAt(bytes.NewReader(cut), int64(len(cut))); err == nil {
				if _, err := io.ReadAll(io.NewSectionReader(ra, 0, ra.Size())); err == nil {
					t.Fatalf("size %d: truncated stream read without error", size)
				}
			}
			// A flipped byte fails.
			bad := bytes.Clone(ct.Bytes())
			bad[len(bad)-20] ^= 1
			ra, _ := k.NewReaderAt(bytes.NewReader(bad), int64(len(bad)))
			if _, err := io.ReadAll(io.NewSectionReader(ra, 0, ra.Size())); err == nil {
				t.Fatalf("size %d: tampered stream read without error", size)
			}
		}
	}
}
