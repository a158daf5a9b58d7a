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

// TestRetryEventDelivery: only a failed delivery is set back to pending;
// a pending or delivered one is a Conflict, an unknown one NotFound.
func TestRetryEventDelivery(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		const u1, u2 = "https://bank.example/a", "https://bank.example/b"
		ev := &WebhookEvent{Type: "offer.signed", SubjectID: esign.NewID(), Payload: []byte(`{}`)}
		must(t, db.CreateWebhookEvent(ctx, ev, []string{u1, u2}))
		if err := db.RetryEventDelivery(ctx, ev.ID, u1); esign.ErrorCode(err) != "not_failed" {
			t.Fatalf("pending: %v", err)
		}
		must(t, db.RecordEventAttempt(ctx, ev.ID, u1, false, 502, "bad gateway", true))
		must(t, db.RecordEventAttempt(ctx, ev.ID, u2, true, 200, "", false))
		must(t, db.RetryEventDelivery(ctx, ev.ID, u1))
		if _, d, err := db.GetWebhookEvent(ctx, ev.ID, u1); err != nil || d.Status != DeliveryPending || d.Attempts != 1 {
			t.Fatalf("after retry: %+v %v", d, err)
		}
		if err := db.RetryEventDelivery(ctx, ev.ID, u2); !esign.IsKind(err, esign.Conflict) {
			t.Fatalf("delivered: %v", err)
		}
		if err := db.RetryEventDelivery(ctx, esign.NewID(), u1); !esign.IsKind(err, esign.NotFound) {
			t.Fatalf("unknown: %v", err)
		}
	})
}
