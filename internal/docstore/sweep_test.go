package docstore

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"esign/internal/esign"
)

// TestSweepUnreferenced: of the files in the window, those no row names
// go (and the folder they leave empty); files outside the window,
// referenced ones and temporary files stay.
func TestSweepUnreferenced(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	from, to := now.Add(-8*24*time.Hour), now.Add(-24*time.Hour)
	files := []struct {
		key   string
		mod   time.Time
		named bool
		kept  bool
	}{
		{"contracts/c1/d1.pdf", now.Add(-2 * 24 * time.Hour), true, true},   // the contract's
		{"contracts/c2/d2.pdf", now.Add(-2 * 24 * time.Hour), false, false}, // a failed seal's
		{"evidence/c2.json", now.Add(-3 * 24 * time.Hour), false, false},    // its evidence
		{"contracts/c3/d3.pdf", now.Add(-time.Hour), false, true},           // a seal in progress
		{"documents/old", now.Add(-30 * 24 * time.Hour), false, true},       // swept by earlier runs' window
		{"documents/d4", now.Add(-2 * 24 * time.Hour), true, true},          // an offer document
		{"contracts/c5/d5.pdf", now.Add(-8 * 24 * time.Hour), false, false}, // from is inclusive
		{"contracts/c6/d6.pdf", now.Add(-24 * time.Hour), false, true},      // to is not
	}
	named := map[string]bool{}
	for _, f := range files {
		if _, err := s.Put(ctx, f.key, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(f.key)), f.mod, f.mod); err != nil {
			t.Fatal(err)
		}
		named[f.key] = f.named
	}
	tmp := filepath.Join(dir, "contracts", "c1", ".put-123")
	if err := os.WriteFile(tmp, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := now.Add(-2 * 24 * time.Hour)
	if err := os.Chtimes(tmp, old, old); err != nil {
		t.Fatal(err)
	}
	var asked []string
	n, err := s.SweepUnreferenced(ctx, from, to, func(_ context.Context, keys []string) ([]string, error) {
		var out []string
		for _, k := range keys {
			asked = append(asked, k)
			if !named[k] {
				out = append(out, k)
			}
		}
		return out, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, f := range files {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.key)))
		if exists := err == nil; exists != f.kept {
			t.Errorf("%s: exists %v, want %v", f.key, exists, f.kept)
		}
		inWindow := !f.mod.Before(from) && f.mod.Before(to)
		if slices.Contains(asked, f.key) != inWindow {
			t.Errorf("%s: asked %v, want %v (only the window is looked at)", f.key, !inWindow, inWindow)
		}
		if !f.kept {
			want++
		}
	}
	if n != int64(want) {
		t.Errorf("swept %d, want %d", n, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "contracts", "c2")); !os.IsNotExist(err) {
		t.Errorf("the emptied folder contracts/c2 stays: %v", err)
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Errorf("a temporary file was touched: %v", err)
	}
}

// TestTouch: a touched document is in the window of the next sweeps; a
// missing one is NotFound and a bad key Invalid.
func TestTouch(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	if _, err := s.Put(ctx, "contracts/c1/d1.pdf", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "contracts", "c1", "d1.pdf")
	old := time.Now().Add(-400 * 24 * time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, "contracts/c1/d1.pdf"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || time.Since(fi.ModTime()) > time.Minute {
		t.Fatalf("modified %v after Touch (%v)", fi.ModTime(), err)
	}
	if err := s.Touch(ctx, "contracts/c1/none.pdf"); !esign.IsKind(err, esign.NotFound) {
		t.Errorf("missing document: %v", err)
	}
	if err := s.Touch(ctx, "../x"); !esign.IsKind(err, esign.Invalid) {
		t.Errorf("bad key: %v", err)
	}
}
