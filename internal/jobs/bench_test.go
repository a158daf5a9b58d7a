package jobs

import (
	"context"
	"strconv"
	"testing"
	"time"

	"esign/internal/notify"
	"esign/internal/notify/inbox"
)

// BenchmarkEnqueueDeliver measures the outbox end to end on each database:
// b.N notifications, each enqueued in its own committed transaction, then
// rendered, sent to the development inbox (a local provider) and logged by
// the workers. msgs/s counts fully delivered notifications per second.
func BenchmarkEnqueueDeliver(b *testing.B) {
	for _, d := range []Dialect{SQLite, Postgres} {
		b.Run(string(d)+"_tx1", func(b *testing.B) { benchDeliver(b, d, 1) })
		b.Run(string(d)+"_tx100", func(b *testing.B) { benchDeliver(b, d, 100) })
	}
}

// benchDeliver enqueues perTx notifications per committed transaction.
func benchDeliver(b *testing.B, d Dialect, perTx int) {
	{
		{
			ctx := context.Background()
			db := openDB(b, d)
			store := inbox.NewMemoryStore()
			box := inbox.New(store, nil)
			cfg := testConfig(d)
			deps := testDeps(b, db, newRecordingSender())
			deps.SMS, deps.Email, deps.Push = box, box, box
			q := startQueue(b, db, cfg, deps)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i += perTx {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				var ns []Notification
				for j := i; j < min(i+perTx, b.N); j++ {
					ns = append(ns, Notification{Kind: notify.OfferAvailable, Channel: notify.SMS, To: "+36301234567",
						Params: notify.Params{OfferTitle: "Hitel"}, Key: "bench-" + strconv.Itoa(j)})
				}
				if _, err := q.EnqueueMany(ctx, tx, ns); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			enqueued := time.Since(start)
			waitFor(b, 5*time.Minute, "all delivered", func() bool {
				m, err := store.ListInboxMessages(ctx, inbox.Filter{Limit: 1})
				return err == nil && len(m) == 1 && m[0].ID == strconv.Itoa(b.N)
			})
			total := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/enqueued.Seconds(), "enqueued/s")
			b.ReportMetric(float64(b.N)/total.Seconds(), "delivered/s")
		}
	}
}
