package jobs

import (
	"context"
	"sync"
	"testing"
	"time"

	"esign/internal/esign"
)

// fakeSealer fails each signature's first calls with the listed errors.
type fakeSealer struct {
	mu    sync.Mutex
	fail  map[string][]error
	calls map[string]int
	times map[string][]time.Time
}

func (f *fakeSealer) SealSignature(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[id]++
	if f.times != nil {
		f.times[id] = append(f.times[id], time.Now())
	}
	if errs := f.fail[id]; len(errs) > 0 {
		f.fail[id] = errs[1:]
		return errs[0]
	}
	return nil
}

func (f *fakeSealer) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

// TestSealJobs: a seal job enqueued in a transaction runs once it commits,
// retries an unavailable sealer, ends without a retry on Invalid, and a
// signature enqueued twice is one job.
func TestSealJobs(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t, d)
			unavailable := esign.E("seal", esign.Unavailable, "pdfservice down")
			f := &fakeSealer{calls: map[string]int{}, fail: map[string][]error{
				"retried":      {unavailable, unavailable},
				"invalid":      {esign.E("seal", esign.Invalid, "not verified")},
				"rate-limited": {&esign.Error{Op: "seal", Kind: esign.TooMany, Msg: "the signing service is rate-limiting", RetryAfter: 1500 * time.Millisecond}},
			}, times: map[string][]time.Time{}}
			cfg := testConfig(d)
			cfg.Seal = SealConfig{BackoffBase: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond}
			deps := testDeps(t, db, newRecordingSender())
			deps.Sealer = f
			q := startQueue(t, db, cfg, deps)

			tx, err := db.DB.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			okID, err := q.EnqueueSeal(ctx, tx, "ok")
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond) // several polls: nothing runs before the commit
			if n := f.count("ok"); n != 0 {
				t.Fatalf("sealed %d times before the commit", n)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			again, err := q.EnqueueSeal(ctx, nil, "ok")
			if err != nil {
				t.Fatal(err)
			}
			if again != okID {
				t.Errorf("the same signature got jobs %d and %d", okID, again)
			}
			tests := []struct {
				id              string
				state           string
				attempts, calls int
			}{
				{"ok", "completed", 1, 1},
				{"retried", "completed", 3, 3},
				{"invalid", "cancelled", 1, 1},
				{"rate-limited", "completed", 1, 2}, // snoozed until the Retry-After: no attempt spent
			}
			ids := map[string]int64{"ok": okID}
			for _, tt := range tests[1:] {
				if ids[tt.id], err = q.EnqueueSeal(ctx, nil, tt.id); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := q.EnqueueSeal(ctx, nil, ""); !esign.IsKind(err, esign.Invalid) {
				t.Errorf("empty signature id: %v, want Invalid", err)
			}
			for _, tt := range tests {
				t.Run(tt.id, func(t *testing.T) {
					waitFor(t, 20*time.Second, tt.id+" finalized", func() bool { return !jobState(t, q, ids[tt.id]).FinalizedAt.IsZero() })
					ji := jobState(t, q, ids[tt.id])
					if ji.State != tt.state || ji.Attempt != tt.attempts || f.count(tt.id) != tt.calls {
						t.Errorf("job %+v, %d calls; want %s after %d", ji, f.count(tt.id), tt.state, tt.attempts)
					}
					if tt.id == "rate-limited" {
						// Retried after the Retry-After, not the 20 ms backoff.
						f.mu.Lock()
						ts := f.times[tt.id]
						f.mu.Unlock()
						if len(ts) != 2 || ts[1].Sub(ts[0]) < 1400*time.Millisecond {
							t.Errorf("calls at %v: want the second 1.5 s after the first", ts)
						}
					}
				})
			}
		})
	}
}
