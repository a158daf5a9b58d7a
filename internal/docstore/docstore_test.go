package docstore

import (
	"bytes"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"testing"

	"esign/internal/envelope"
	"esign/internal/esign"
)

func newStore(t *testing.T) (*Store, string) {
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
