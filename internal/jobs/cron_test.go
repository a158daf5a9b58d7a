package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunNow(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t, d)
			s := newRecordingSender()
			now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
			deps := testDeps(t, db, s)
			deps.Now = func() time.Time { return now }
			anchors := &countingAnchorer{}
			deps.Audit = anchors
			sweeper := &windowSweeper{n: 3}
			deps.Orphans = sweeper
			cfg := testConfig(d)
			cfg.Cron.DocumentRetention = 30 * 24 * time.Hour
			cfg.Cron.ContractRetention = 8 * 365 * 24 * time.Hour
			q := startQueue(t, db, cfg, deps)

			past, future := now.Add(-time.Hour).UnixNano(), now.Add(time.Hour).UnixNano()
			db.exec(t, `INSERT INTO offers VALUES ('o1', 'Hitel', 'Éva', '+36301111111', 'open', ?)`, past)
			db.exec(t, `INSERT INTO offers VALUES ('o2', 'Lízing', 'Béla', '+36302222222', 'open', ?)`, past)
			db.exec(t, `INSERT INTO offers VALUES ('o3', 'Számla', 'Cili', '+36303333333', 'open', ?)`, future)
			db.exec(t, `INSERT INTO offers VALUES ('o4', 'Régi', 'Dani', '+36304444444', 'signed', ?)`, past)
			day := 24 * time.Hour
			for _, doc := range []struct {
				id       string
				signed   int
				created  time.Duration
				signedAt time.Duration
			}{
				{"unsigned-old", 0, 31 * day, 0}, {"unsigned-new", 0, 29 * day, 0},
				{"signed-old", 1, 9 * 365 * day, 9 * 365 * day}, {"signed-mid", 1, 5 * 365 * day, 5 * 365 * day},
			} {
				db.exec(t, `INSERT INTO documents VALUES (?, ?, ?, ?)`, doc.id, doc.signed, now.Add(-doc.created).UnixNano(), now.Add(-doc.signedAt).UnixNano())
			}
			db.exec(t, `INSERT INTO short_urls VALUES ('gone', ?)`, now.Add(-ExpiredLinkGrace-time.Hour).UnixNano())
			db.exec(t, `INSERT INTO short_urls VALUES ('renewable', ?)`, past) // expired, kept for a fresh link
			db.exec(t, `INSERT INTO short_urls VALUES ('live', ?)`, future)

			tests := []struct {
				name   string
				result string
				check  func(t *testing.T)
			}{
				{OfferTimeout, "expired 2 offers, 2 notifications", func(t *testing.T) {
					if n := db.count(t, `SELECT COUNT(*) FROM offers WHERE status = 'expired'`); n != 2 {
						t.Errorf("%d offers expired, want 2", n)
					}
					waitFor(t, 10*time.Second, "2 expiry SMS", func() bool { return len(s.sent()) == 2 })
					for _, key := range []string{"offer-expired-o1-sms", "offer-expired-o2-sms"} {
						if s.count(key) != 1 {
							t.Errorf("%s sent %d times", key, s.count(key))
						}
					}
				}},
				{DeleteDocuments, "deleted 2 documents, 3 unreferenced files", func(t *testing.T) {
					if n := db.count(t, `SELECT COUNT(*) FROM documents WHERE id IN ('unsigned-new', 'signed-mid')`); n != 2 {
						t.Errorf("kept %d of the 2 documents within retention", n)
					}
					if want := now.Add(-OrphanGrace); !sweeper.to.Equal(want) || !sweeper.from.Equal(want.Add(-OrphanWindow)) {
						t.Errorf("swept files modified %s to %s, want the week before %s", sweeper.from, sweeper.to, want)
					}
				}},
				{DeleteExpiredURL, "deleted 1 URLs", func(t *testing.T) {
					if n := db.count(t, `SELECT COUNT(*) FROM short_urls`); n != 2 {
						t.Errorf("%d URLs left, want 2", n)
					}
				}},
				{AuditAnchor, "anchored seq 1", func(t *testing.T) {
					if anchors.n.Load() != 1 {
						t.Errorf("anchored %d times, want 1", anchors.n.Load())
					}
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r, err := q.RunNow(ctx, tt.name)
					if err != nil {
						t.Fatal(err)
					}
					if r.Status != "succeeded" || r.Result != tt.result || r.Trigger != "manual" {
						t.Errorf("run = %+v", r)
					}
					tt.check(t)
					if n := db.count(t, `SELECT COUNT(*) FROM cron_run WHERE id = ? AND status = 'succeeded' AND ended_at > 0`, r.ID); n != 1 {
						t.Errorf("run not recorded")
					}
					if n := db.count(t, `SELECT COUNT(*) FROM cron_run_log WHERE run_id = ?`, r.ID); n == 0 {
						t.Errorf("no run log lines")
					}
				})
			}
			// Running OfferTimeout again changes nothing and sends nothing.
			if r, err := q.RunNow(ctx, OfferTimeout); err != nil || r.Result != "expired 0 offers, 0 notifications" {
				t.Errorf("second run: %+v, %v", r, err)
			}
			if _, err := q.RunNow(ctx, "NoSuchJob"); err == nil {
				t.Error("unknown job ran")
			}
		})
	}
}

// countingAnchorer stands for auditchain.Anchor (tested in its package).
type countingAnchorer struct{ n atomic.Int64 }

func (c *countingAnchorer) AnchorAudit(context.Context) (string, error) {
	return fmt.Sprintf("anchored seq %d", c.n.Add(1)), nil
}

// TestCronSlotUnique inserts the same schedule slot twice, as two leaders
// in quick succession would: the second insert is refused.
func TestCronSlotUnique(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t, d)
			q, err := New(db.DB, Config{Dialect: d, InsertOnly: true}, Deps{})
			if err != nil {
				t.Fatal(err)
			}
			sched, _ := ParseSchedule("0 3 * * *", time.UTC)
			period := minGap(sched, time.Now())
			slot := sched.Next(time.Now())
			insert := func(name string, at time.Time) bool {
				opts := cronInsertOpts(period)
				opts.ScheduledAt = at
				res, err := q.client.Insert(ctx, cronArgs{Name: name}, opts)
				if err != nil {
					t.Fatal(err)
				}
				return !res.UniqueSkippedAsDuplicate
			}
			if !insert(DeleteExpiredURL, slot) {
				t.Fatal("first insert refused")
			}
			if insert(DeleteExpiredURL, slot) {
				t.Error("second insert of the same slot accepted")
			}
			if !insert(DeleteDocuments, slot) {
				t.Error("another job's slot refused")
			}
			if !insert(DeleteExpiredURL, sched.Next(slot)) {
				t.Error("next slot refused")
			}
		})
	}
}

// TestCronReplicas runs two replicas with the same every-second schedule on
// one PostgreSQL database; each slot must run exactly once.
func TestCronReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for several seconds")
	}
	db := openDB(t, Postgres)
	var queues []*Queue
	for _, id := range []string{"replica-a", "replica-b"} {
		cfg := testConfig(Postgres)
		cfg.ID = id
		cfg.Cron.Schedules = allOff()
		cfg.Cron.Schedules[DeleteExpiredURL] = "@every 1s"
		queues = append(queues, startQueue(t, db, cfg, testDeps(t, db, newRecordingSender())))
	}
	waitFor(t, 30*time.Second, "5 runs", func() bool { return db.count(t, `SELECT COUNT(*) FROM cron_run WHERE status = 'succeeded'`) >= 5 })
	ctx := context.Background()
	for _, q := range queues {
		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := q.Stop(stopCtx); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	if dup := db.count(t, `SELECT COUNT(*) FROM (SELECT slot FROM cron_run GROUP BY slot HAVING COUNT(*) > 1) d`); dup != 0 {
		t.Errorf("%d slots ran more than once", dup)
	}
	if n := db.count(t, `SELECT COUNT(*) FROM cron_run WHERE trigger_kind <> 'schedule' OR slot = 0`); n != 0 {
		t.Errorf("%d runs without a slot", n)
	}
	runs := db.count(t, `SELECT COUNT(*) FROM cron_run`)
	slots := db.count(t, `SELECT COUNT(DISTINCT slot) FROM cron_run`)
	t.Logf("%d runs, %d distinct slots", runs, slots)
	if runs != slots {
		t.Errorf("%d runs for %d slots", runs, slots)
	}
}

// TestRunNowInsertOnly is `esign cron run NAME`: no workers, just the run.
func TestRunNowInsertOnly(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, SQLite)
	db.exec(t, `INSERT INTO short_urls VALUES ('gone', 1)`)
	deps := testDeps(t, db, newRecordingSender())
	q, err := New(db.DB, Config{Dialect: SQLite, InsertOnly: true, Logger: quietLogger()}, deps)
	if err != nil {
		t.Fatal(err)
	}
	r, err := q.RunNow(ctx, DeleteExpiredURL)
	if err != nil || r.Result != "deleted 1 URLs" {
		t.Fatalf("run = %+v, %v", r, err)
	}
}

// outageRuns is a RunStore whose first failures calls to BeginRun fail,
// as they do while the database is away.
type outageRuns struct {
	RunStore
	mu       sync.Mutex
	failures int
}

func (o *outageRuns) BeginRun(ctx context.Context, r Run) (string, error) {
	o.mu.Lock()
	fail := o.failures > 0
	o.failures--
	o.mu.Unlock()
	if fail {
		return "", errors.New("connection refused")
	}
	return o.RunStore.BeginRun(ctx, r)
}

// TestCronSlotOutlivesOutage: a slot whose run fails because the database
// is away runs once it is back, within seconds, not a minute later (the
// fault suite's postgres_cut found a slot missing 12 s after the cut).
func TestCronSlotOutlivesOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for two retries (about 6 s)")
	}
	db := openDB(t, SQLite)
	deps := testDeps(t, db, newRecordingSender())
	deps.Runs = &outageRuns{RunStore: deps.Runs, failures: 2}
	q := startQueue(t, db, testConfig(SQLite), deps)
	slot := time.Now().Truncate(time.Second)
	start := time.Now()
	e := q.crons[DeleteExpiredURL]
	e.period = time.Second
	q.enqueueSlot(context.Background(), e, slot)
	waitFor(t, 20*time.Second, "the slot's run", func() bool {
		return db.count(t, `SELECT COUNT(*) FROM cron_run WHERE status = 'succeeded'`) == 1
	})
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("the slot ran %v after it came: retries are too slow", took.Round(time.Second))
	}
	if n := db.count(t, `SELECT COUNT(*) FROM cron_run`); n != 1 {
		t.Errorf("%d runs recorded, want 1", n)
	}
}

// windowSweeper records the window it was asked to sweep.
type windowSweeper struct {
	from, to time.Time
	n        int64
}

func (w *windowSweeper) SweepUnreferenced(_ context.Context, from, to time.Time) (int64, error) {
	w.from, w.to = from, to
	return w.n, nil
}

// fakeRenewer answers RenewArchives with a fixed result.
type fakeRenewer struct {
	res RenewalResult
	err error
}

func (f fakeRenewer) RenewArchives(_ context.Context, logf func(slog.Level, string, ...any)) (RenewalResult, error) {
	logf(slog.LevelInfo, "contract c1: archive renewed")
	return f.res, f.err
}

// TestArchiveRenewalRun: the run's result counts the contracts; a failure
// fails the run with the counts; a process without a renewer says why.
func TestArchiveRenewalRun(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, SQLite)
	tests := []struct {
		name    string
		archive ArchiveRenewer
		status  string
		result  string
		err     string
	}{
		{"renewed", fakeRenewer{res: RenewalResult{Checked: 3, Renewed: 2}}, "succeeded", "renewed 2 of 3 contracts checked, 0 failed", ""},
		{"failed", fakeRenewer{res: RenewalResult{Checked: 2, Renewed: 1, Failed: 1}, err: errors.New("contract c2: no revocation data")},
			"failed", "renewed 1 of 2 contracts checked, 1 failed", "no revocation data"},
		{"no_renewer", nil, "failed", "", "no ArchiveRenewer configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deps := testDeps(t, db, newRecordingSender())
			deps.Archive = tt.archive
			q, err := New(db.DB, Config{Dialect: SQLite, InsertOnly: true, Logger: quietLogger()}, deps)
			if err != nil {
				t.Fatal(err)
			}
			r, err := q.RunNow(ctx, ArchiveRenewal)
			if r.Status != tt.status || r.Result != tt.result || (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("run = %+v, %v", r, err)
			}
		})
	}
}
