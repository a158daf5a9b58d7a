package jobs

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestSchedulesWhoeverLeads is issue 16 item 3: an oss-like replica (no
// schedules) and a cron replica share one database. The schedules must run
// whichever of them started first and holds River's leadership.
func TestSchedulesWhoeverLeads(t *testing.T) {
	if testing.Short() {
		t.Skip("runs each case for several seconds")
	}
	for _, d := range dialects(t) {
		for _, first := range []string{"oss", "cron"} {
			t.Run(string(d)+"_"+first+"_first", func(t *testing.T) {
				db := openDB(t, d)
				start := func(id string, schedules bool) {
					conn := mustOpen(t, d, db.dsn) // a process of its own
					cfg := testConfig(d)
					cfg.ID = id
					cfg.Logger = testLogger(t)
					cfg.Cron.Schedules = allOff()
					cfg.Cron.Schedules[DeleteExpiredURL] = "@every 1s"
					cfg.Cron.Disabled = !schedules
					startQueue(t, conn, cfg, testDeps(t, conn, newRecordingSender()))
				}
				begin := time.Now()
				start(first, first == "cron")
				waitFor(t, 30*time.Second, first+" leads", func() bool { return leader(t, db) == first })
				if first == "oss" {
					start("cron", true)
				} else {
					start("oss", false)
				}
				waitFor(t, 30*time.Second, "3 scheduled runs", func() bool {
					return db.count(t, `SELECT COUNT(*) FROM cron_run WHERE trigger_kind = 'schedule' AND status = 'succeeded'`) >= 3
				})
				if l := leader(t, db); l != first {
					t.Logf("leadership moved to %q", l)
				}
				if dup := db.count(t, `SELECT COUNT(*) FROM (SELECT slot FROM cron_run GROUP BY slot HAVING COUNT(*) > 1) d`); dup != 0 {
					t.Errorf("%d slots ran more than once", dup)
				}
				// At start only the newest passed slot is caught up, not every
				// slot of the last LateAfter.
				if old := db.count(t, `SELECT COUNT(*) FROM cron_run WHERE slot < ?`, begin.Add(-2*time.Second).UnixNano()); old != 0 {
					t.Errorf("%d runs of slots from before the start", old)
				}
			})
		}
	}
}

func leader(tb testing.TB, db *testDB) string {
	tb.Helper()
	var id string
	err := db.QueryRowContext(context.Background(), `SELECT leader_id FROM river_leader`).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		tb.Fatal(err)
	}
	return id
}

func TestLastDue(t *testing.T) {
	every, _ := ParseSchedule("@every 10s", time.UTC)
	daily, _ := ParseSchedule("0 3 * * *", time.UTC)
	at := func(h, m, sec int) time.Time { return time.Date(2026, 12, 1, h, m, sec, 0, time.UTC) }
	tests := []struct {
		name            string
		s               Schedule
		slot, now, want time.Time
	}{
		{"ahead", every, at(12, 0, 10), at(12, 0, 5), at(12, 0, 10)},
		{"due_now", every, at(12, 0, 10), at(12, 0, 10), at(12, 0, 10)},
		{"burst_collapses_to_newest", every, at(11, 59, 10), at(12, 0, 5), at(12, 0, 0)},
		{"daily_missed_two", daily, at(3, 0, 0), at(3, 0, 0).AddDate(0, 0, 2).Add(time.Hour), at(3, 0, 0).AddDate(0, 0, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lastDue(tt.s, tt.slot, tt.now); !got.Equal(tt.want) {
				t.Errorf("lastDue = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestScheduleStates: a schedule is overdue once two of its slots passed
// without a scheduled run, counted from its last run or from Start.
func TestScheduleStates(t *testing.T) {
	db := openDB(t, SQLite)
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	deps := testDeps(t, db, newRecordingSender())
	deps.Now = clock
	cfg := testConfig(SQLite)
	cfg.InsertOnly = true // no loops: nothing runs by itself
	cfg.Cron.Schedules = allOff()
	cfg.Cron.Schedules[DeleteExpiredURL] = "0 3 * * *"
	cfg.Cron.Schedules[DeleteDocuments] = "0 6 * * *"
	q, err := New(db.DB, cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ran := time.Date(2026, 12, 3, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		at      time.Time
		run     bool // record a scheduled DeleteExpiredURL run of the slot ran
		overdue map[string]bool
	}{
		{"fresh", now, false, map[string]bool{DeleteDocuments: false, DeleteExpiredURL: false}},
		{"one_slot_missed", time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC), false, map[string]bool{DeleteDocuments: false, DeleteExpiredURL: false}},
		{"second_slot_within_late_after", time.Date(2026, 12, 3, 3, 0, 30, 0, time.UTC), false, map[string]bool{DeleteDocuments: false, DeleteExpiredURL: false}},
		{"two_slots_missed", time.Date(2026, 12, 3, 3, 1, 1, 0, time.UTC), false, map[string]bool{DeleteDocuments: false, DeleteExpiredURL: true}},
		{"ran_again", time.Date(2026, 12, 3, 3, 1, 2, 0, time.UTC), true, map[string]bool{DeleteDocuments: false, DeleteExpiredURL: false}},
		{"both_missed_later", time.Date(2026, 12, 5, 7, 0, 0, 0, time.UTC), false, map[string]bool{DeleteDocuments: true, DeleteExpiredURL: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set(tt.at)
			if tt.run {
				if _, err := deps.Runs.BeginRun(context.Background(), Run{Name: DeleteExpiredURL, Trigger: "schedule", Slot: ran, StartedAt: ran.Add(time.Second), Status: "running"}); err != nil {
					t.Fatal(err)
				}
			}
			states, err := q.ScheduleStates(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(states) != 2 {
				t.Fatalf("states = %+v", states)
			}
			for _, st := range states {
				if st.Overdue != tt.overdue[st.Name] {
					t.Errorf("%s overdue = %v (due by %s), want %v", st.Name, st.Overdue, st.DueBy, tt.overdue[st.Name])
				}
				if st.Name == DeleteExpiredURL && tt.run && !st.LastRun.Equal(ran.Add(time.Second)) {
					t.Errorf("last run = %s", st.LastRun)
				}
			}
		})
	}
}

// TestRescueDefaults is issue 16 item 4: with the defaults a job left
// running by a dead process is rescued within about a minute, and never
// while a live attempt may still run: every attempt timeout of the notify,
// events and seal queues ends before RescueAfter, and a cron run's River
// timeout (its rescue horizon) exceeds the run's own bound by RescueAfter.
func TestRescueDefaults(t *testing.T) {
	db := openDB(t, SQLite)
	deps := testDeps(t, db, newRecordingSender())
	deps.Sealer = &fakeSealer{calls: map[string]int{}}
	deps.Events = eventFunc(func(context.Context, string, string, int) error { return nil })
	q, err := New(db.DB, Config{Dialect: SQLite, Logger: quietLogger()}, deps)
	if err != nil {
		t.Fatal(err)
	}
	rescue := q.cfg.RescueAfter
	if rescue > time.Minute {
		t.Errorf("RescueAfter = %v, want at most 1m", rescue)
	}
	for name, timeout := range map[string]time.Duration{
		"notify": (&notifyWorker{q: q}).Timeout(nil),
		"events": (&eventWorker{q: q}).Timeout(nil),
		"seal":   (&sealWorker{q: q}).Timeout(nil),
	} {
		if timeout <= 0 || timeout+10*time.Second > rescue {
			t.Errorf("%s attempt timeout %v: want > 0 and at least 10s below RescueAfter %v", name, timeout, rescue)
		}
	}
	if got := (&cronWorker{q: q}).Timeout(nil); got < q.cfg.Cron.Timeout+rescue {
		t.Errorf("cron River timeout %v, want Cron.Timeout+RescueAfter", got)
	}
	// A configuration where a live attempt could outlast RescueAfter is refused.
	cfg := Config{Dialect: SQLite, RescueAfter: 20 * time.Second, Seal: SealConfig{Timeout: 25 * time.Second}}
	if _, err := New(db.DB, cfg, deps); err == nil {
		t.Error("Seal.Timeout above RescueAfter accepted")
	}
}

type eventFunc func(ctx context.Context, eventID, url string, attempt int) error

func (f eventFunc) DeliverEvent(ctx context.Context, eventID, url string, attempt int) error {
	return f(ctx, eventID, url, attempt)
}
