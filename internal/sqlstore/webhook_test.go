package sqlstore

import (
	"testing"

	"esign/internal/esign"
)

func TestIdempotency(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		rec, first, err := db.BeginIdempotent(ctx, "/offer/upload", "k1", "h1")
		must(t, err)
		if !first || rec.Status != 0 {
			t.Fatalf("first claim: first=%v rec=%+v", first, rec)
		}
		rec, first, err = db.BeginIdempotent(ctx, "/offer/upload", "k1", "h2")
		must(t, err)
		if first || rec.Status != 0 || rec.RequestHash != "h1" {
			t.Fatalf("second claim while running: first=%v rec=%+v", first, rec)
		}
		// The same key on another endpoint is another request.
		if _, first, err = db.BeginIdempotent(ctx, "/offer/revoke", "k1", "h1"); err != nil || !first {
			t.Fatalf("other endpoint: first=%v err=%v", first, err)
		}
		must(t, db.CompleteIdempotent(ctx, "/offer/upload", "k1", 201, []byte(`{"id":"x"}`)))
		if err := db.CompleteIdempotent(ctx, "/offer/upload", "k1", 201, nil); !esign.IsKind(err, esign.NotFound) {
			t.Fatalf("completing twice: %v", err)
		}
		rec, first, err = db.BeginIdempotent(ctx, "/offer/upload", "k1", "h1")
		must(t, err)
		if first || rec.Status != 201 || string(rec.Response) != `{"id":"x"}` {
			t.Fatalf("replay: first=%v rec=%+v", first, rec)
		}
		// A released claim can be claimed again; a completed one is kept.
		must(t, db.ReleaseIdempotent(ctx, "/offer/revoke", "k1"))
		if _, first, err = db.BeginIdempotent(ctx, "/offer/revoke", "k1", "h9"); err != nil || !first {
			t.Fatalf("after release: first=%v err=%v", first, err)
		}
		must(t, db.ReleaseIdempotent(ctx, "/offer/upload", "k1"))
		if _, first, _ = db.BeginIdempotent(ctx, "/offer/upload", "k1", "h1"); first {
			t.Fatal("a completed record was released")
		}
		for _, key := range []string{"", string(make([]byte, 256))} {
			if _, _, err := db.BeginIdempotent(ctx, "/offer/upload", key, "h"); !esign.IsKind(err, esign.Invalid) {
				t.Fatalf("key of %d bytes: %v", len(key), err)
			}
		}
	})
}
