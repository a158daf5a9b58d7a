package docstore

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"esign/internal/envelope"
	"esign/internal/esign"
)

func newStore(t testing.TB) (*Store, string) {
	t.Helper()
	key, err := envelope.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := envelope.NewKeyring("k1", map[string][]byte{"k1": key})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s, err := Open(dir, k)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func TestPutOpenDelete(t *testing.T) {
	s, dir := newStore(t)
	data := make([]byte, 3<<20+17)
	rand.Read(data)
	n, err := s.Put(t.Context(), "offers/o1/doc.pdf", bytes.NewReader(data))
	if err != nil || n != int64(len(data)) {
		t.Fatalf("Put: %d %v", n, err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "offers", "o1", "doc.pdf"))
	if bytes.Contains(raw, data[:64]) {
		t.Error("stored in the clear")
	}
	r, err := s.Open(t.Context(), "offers/o1/doc.pdf")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("round trip: %d bytes, %v", len(got), err)
	}
	if _, err := s.Put(t.Context(), "offers/o1/doc.pdf", bytes.NewReader(data)); !esign.IsKind(err, esign.Conflict) {
		t.Errorf("overwrite: %v", err)
	}
	if err := s.Delete(t.Context(), "offers/o1/doc.pdf"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(t.Context(), "offers/o1/doc.pdf"); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if _, err := s.Open(t.Context(), "offers/o1/doc.pdf"); !esign.IsKind(err, esign.NotFound) {
		t.Errorf("open deleted: %v", err)
	}
}

func TestTamperedDocumentFails(t *testing.T) {
	s, dir := newStore(t)
	if _, err := s.Put(t.Context(), "d1", bytes.NewReader(bytes.Repeat([]byte("x"), 100000))); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "d1")
	raw, _ := os.ReadFile(p)
	raw[len(raw)/2] ^= 1
	os.WriteFile(p, raw, 0o600)
	r, err := s.Open(t.Context(), "d1")
	if err == nil {
		_, err = io.ReadAll(r)
		r.Close()
	}
	if err == nil {
		t.Fatal("a tampered document was read without error")
	}
}

func TestInvalidKeys(t *testing.T) {
	s, _ := newStore(t)
	for _, key := range []string{"", "../etc/passwd", "/abs", "a/../b", "a//b", ".hidden", "a/b/c/d/e/f"} {
		if _, err := s.Put(t.Context(), key, bytes.NewReader(nil)); !esign.IsKind(err, esign.Invalid) {
			t.Errorf("Put(%q): %v", key, err)
		}
	}
}

func TestPending(t *testing.T) {
	s, dir := newStore(t)
	data := make([]byte, 200<<10+3)
	rand.Read(data)
	p, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Discard()
	for b := data; len(b) > 0; {
		n := min(len(b), 7777)
		if _, err := p.Write(b[:n]); err != nil {
			t.Fatal(err)
		}
		b = b[n:]
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if p.Size() != int64(len(data)) || p.SHA256() != hex.EncodeToString(sum[:]) {
		t.Fatalf("size %d sha %s", p.Size(), p.SHA256())
	}
	got := make([]byte, 1000)
	if _, err := p.ReadAt(got, 100_000); err != nil || !bytes.Equal(got, data[100_000:101_000]) {
		t.Fatalf("ReadAt: %v", err)
	}
	tmp, _ := os.ReadDir(filepath.Join(dir, ".tmp"))
	if len(tmp) != 1 {
		t.Fatalf("%d temporary files while pending, want 1", len(tmp))
	}
	raw, _ := os.ReadFile(filepath.Join(dir, ".tmp", tmp[0].Name()))
	if bytes.Contains(raw, data[:64]) {
		t.Error("pending document in the clear")
	}
	if err := p.Commit("documents/d1"); err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(t.Context(), "documents/d1")
	if err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(all, data) {
		t.Fatalf("read back: %v", err)
	}
	if tmp, _ := os.ReadDir(filepath.Join(dir, ".tmp")); len(tmp) != 0 {
		t.Fatalf("%d temporary files after commit", len(tmp))
	}

	// A second document under the same key is refused and leaves nothing.
	q, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	q.Write([]byte("x"))
	if err := q.Commit("documents/d1"); !esign.IsKind(err, esign.Conflict) {
		t.Fatalf("commit over an existing key: %v, want Conflict", err)
	}
	q.Discard()
	// A discarded one leaves nothing.
	d, _ := s.Create(t.Context())
	d.Write(data)
	d.Discard()
	if tmp, _ := os.ReadDir(filepath.Join(dir, ".tmp")); len(tmp) != 0 {
		t.Fatalf("%d temporary files after discard", len(tmp))
	}
}

func TestOpenSection(t *testing.T) {
	s, dir := newStore(t)
	data := make([]byte, 3<<20+17)
	rand.Read(data)
	if _, err := s.Put(t.Context(), "documents/d1", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	size := int64(len(data))
	for _, tc := range []struct{ off, n int64 }{
		{0, 10}, {0, size}, {1 << 20, 2 << 20}, {size - 1, 100}, {size, 10}, {size + 5, 10}, {12345, 0}, {65535, 2},
	} {
		r, got, err := s.OpenSection(t.Context(), "documents/d1", tc.off, tc.n)
		if err != nil || got != size {
			t.Fatalf("%d+%d: size %d, %v", tc.off, tc.n, got, err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		lo := min(tc.off, size)
		if want := data[lo:min(lo+tc.n, size)]; err != nil || !bytes.Equal(b, want) {
			t.Fatalf("%d+%d: %d bytes, want %d, %v", tc.off, tc.n, len(b), len(want), err)
		}
	}
	if _, _, err := s.OpenSection(t.Context(), "documents/none", 0, 1); !esign.IsKind(err, esign.NotFound) {
		t.Errorf("missing: %v", err)
	}
	if _, _, err := s.OpenSection(t.Context(), "documents/d1", -1, 1); !esign.IsKind(err, esign.Invalid) {
		t.Errorf("negative: %v", err)
	}
	// A flipped byte in the last chunk fails a section that touches it, a
	// truncated file a section at its end.
	path := filepath.Join(dir, "documents", "d1")
	raw, _ := os.ReadFile(path)
	raw[len(raw)-20] ^= 1
	os.WriteFile(path, raw, 0o600)
	if r, _, err := s.OpenSection(t.Context(), "documents/d1", size-10, 10); err == nil {
		if _, err := io.ReadAll(r); err == nil {
			t.Error("tampered section read without error")
		}
		r.Close()
	}
	os.WriteFile(path, raw[:len(raw)-(17+16)], 0o600) // the last chunk cut off
	if r, _, err := s.OpenSection(t.Context(), "documents/d1", 3<<20-10, 10); err == nil {
		if _, err := io.ReadAll(r); err == nil {
			t.Error("a section at the end of a truncated document read without error")
		}
		r.Close()
	}
}
