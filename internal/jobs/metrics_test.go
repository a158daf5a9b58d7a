package jobs

import (
	"context"
	"testing"
	"time"

	"esign/internal/esign"
	"esign/internal/metrics"
)

// TestJobMetrics: each attempt is counted by kind and outcome, and
// Depths counts the jobs waiting in every queue.
func TestJobMetrics(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db := openDB(t, d)
			reg := metrics.NewRegistry()
			unavailable := esign.E("seal", esign.Unavailable, "pdfservice down")
			f := &fakeSealer{calls: map[string]int{}, fail: map[string][]error{
				"retried":   {unavailable},
				"discarded": {unavailable, unavailable},
				"cancelled": {esign.E("seal", esign.Invalid, "not verified")},
			}}
			cfg := testConfig(d)
			cfg.Metrics = reg
			cfg.Seal = SealConfig{MaxAttempts: 2, BackoffBase: 20 * time.Millisecond, BackoffMax: 50 * time.Millisecond}
			deps := testDeps(t, db, newRecordingSender())
			deps.Sealer = f
			// Before the queue starts: a job waiting shows in the depth.
			q, err := New(db.DB, cfg, deps)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for _, id := range []string{"ok", "retried", "discarded", "cancelled"} {
				if _, err := q.EnqueueSeal(ctx, nil, id); err != nil {
					t.Fatal(err)
				}
			}
			depths, err := q.Depths(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := map[Depth]bool{{QueueSeal, "available", 4}: true, {QueueNotify, "available", 0}: true, {QueueEvents, "running", 0}: true}
			for _, dp := range depths {
				delete(want, dp)
			}
			if len(depths) != 16 || len(want) > 0 {
				t.Errorf("depths %v lack %v", depths, want)
			}

			startQueue(t, db, cfg, deps)
			c := reg.Counter("esign_job_attempts_total", "")
			wantCounts := map[string]float64{OutcomeOK: 2, OutcomeRetry: 2, OutcomeDiscarded: 1, OutcomeCancelled: 1}
			waitFor(t, 10*time.Second, "every attempt counted", func() bool {
				for o, n := range wantCounts {
					if c.Value("seal", o) != n {
						return false
					}
				}
				return true
			})
			if n := c.Value("notify", OutcomeOK); n != 0 {
				t.Errorf("notify ok = %v", n)
			}
		})
	}
}
