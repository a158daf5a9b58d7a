package sqlstore

import (
	"errors"
	"slices"
	"testing"
	"time"

	"esign/internal/esign"
)

func TestLiveEvents(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		if n, err := db.LastLiveEventSeq(ctx); err != nil || n != 0 {
			t.Fatalf("LastLiveEventSeq of an empty feed = %d, %v", n, err)
		}
		old := time.Now().Add(-72 * time.Hour)
		var seqs []int64
		for i, typ := range []string{"offer.uploaded", "signature.verified", "contract.sealed"} {
			e := &LiveEvent{Type: typ, OfferID: esign.NewID(), Title: "T", Detail: "d"}
			if i == 0 {
				e.CreatedAt = old
			}
			must(t, db.CreateLiveEvent(ctx, e))
			if i > 0 && e.Seq <= seqs[i-1] {
				t.Fatalf("seq %d after %d", e.Seq, seqs[i-1])
			}
			seqs = append(seqs, e.Seq)
		}
		if err := db.CreateLiveEvent(ctx, &LiveEvent{}); !esign.IsKind(err, esign.Invalid) {
			t.Fatalf("an event without a type: %v", err)
		}
		last, err := db.LastLiveEventSeq(ctx)
		must(t, err)
		if last != seqs[2] {
			t.Fatalf("LastLiveEventSeq = %d, want %d", last, seqs[2])
		}
		tests := []struct {
			name  string
			after int64
			since time.Time
			limit int
			want  []int64
		}{
			{"all", 0, old.Add(-time.Hour), 0, seqs},
			{"zero-since-any-age", 0, time.Time{}, 0, seqs},
			{"after", seqs[0], old.Add(-time.Hour), 0, seqs[1:]},
			{"limit", 0, old.Add(-time.Hour), 2, seqs[:2]},
			{"since-skips-old", 0, time.Now().Add(-time.Hour), 0, seqs[1:]},
			{"none-newer", seqs[2], old, 0, nil},
		}
		for _, tt := range tests {
			es, err := db.ListLiveEvents(ctx, tt.after, tt.since, tt.limit)
			must(t, err)
			var got []int64
			for _, e := range es {
				got = append(got, e.Seq)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			}
		}
		n, err := db.DeleteLiveEventsBefore(ctx, time.Now().Add(-48*time.Hour))
		must(t, err)
		if n != 1 {
			t.Errorf("DeleteLiveEventsBefore deleted %d, want 1", n)
		}
	})
}

func TestAfterCommit(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		var ran []string
		must(t, db.InTx(ctx, func(tx *Tx) error {
			if !tx.AfterCommit(func() { ran = append(ran, "a") }) {
				t.Error("AfterCommit refused in InTx")
			}
			// A Tx bound to InTx's transaction shares its hooks.
			if !db.BindTx(tx.SQLTx()).AfterCommit(func() { ran = append(ran, "b") }) {
				t.Error("AfterCommit refused on BindTx of InTx's transaction")
			}
			if len(ran) != 0 {
				t.Error("ran before the commit")
			}
			return nil
		}))
		if !slices.Equal(ran, []string{"a", "b"}) {
			t.Fatalf("after commit ran %v", ran)
		}
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *Tx) error {
			tx.AfterCommit(func() { ran = append(ran, "rolled back") })
			return boom
		})
		if !errors.Is(err, boom) || len(ran) != 2 {
			t.Fatalf("rollback: err %v, ran %v", err, ran)
		}
		sqlTx, err := db.SQL().BeginTx(ctx, nil)
		must(t, err)
		defer sqlTx.Rollback()
		if db.BindTx(sqlTx).AfterCommit(func() {}) {
			t.Error("AfterCommit accepted on a transaction no InTx opened")
		}
	})
}
