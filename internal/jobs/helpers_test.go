package jobs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/notify"
)

// recordingSender is a local provider that accepts every message (or fails
// as told) and remembers each call; unlike the inbox it does not collapse
// repeated keys, so a double send shows.
type recordingSender struct {
	mu     sync.Mutex
	calls  []sent
	fail   map[string][]error // key → errors returned by successive calls
	block  chan struct{}      // when set, sends wait on it (a stuck provider)
	onSend func(key string)   // called before answering
}

type sent struct {
	Channel notify.Channel
	To      string
	Text    string
	Key     string
}

func newRecordingSender() *recordingSender { return &recordingSender{fail: map[string][]error{}} }

func (r *recordingSender) do(ctx context.Context, c notify.Channel, to, text, key string) (notify.Receipt, error) {
	if r.onSend != nil {
		r.onSend(key)
	}
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return notify.Receipt{}, ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if errs := r.fail[key]; len(errs) > 0 {
		r.fail[key] = errs[1:]
		return notify.Receipt{}, errs[0]
	}
	r.calls = append(r.calls, sent{c, to, text, key})
	return notify.Receipt{Provider: "test", ID: fmt.Sprintf("msg-%d", len(r.calls))}, nil
}

func (r *recordingSender) SendSMS(ctx context.Context, m notify.SMSMessage) (notify.Receipt, error) {
	return r.do(ctx, notify.SMS, m.To, m.Text, m.Key)
}

func (r *recordingSender) SendEmail(ctx context.Context, m notify.EmailMessage) (notify.Receipt, error) {
	return r.do(ctx, notify.Email, m.To, m.Text, m.Key)
}

func (r *recordingSender) SendPush(ctx context.Context, m notify.PushMessage) (notify.Receipt, error) {
	return r.do(ctx, notify.Push, m.Token, m.Body, m.Key)
}

func (r *recordingSender) sent() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sent(nil), r.calls...)
}

func (r *recordingSender) count(key string) int {
	n := 0
	for _, s := range r.sent() {
		if s.Key == key {
			n++
		}
	}
	return n
}

func testRenderer(tb testing.TB) *notify.Renderer {
	tb.Helper()
	r, err := notify.NewRenderer(notify.Branding{ProductName: "e-Aláírás", BankName: "Példa Bank", BaseURL: "https://sign.example"}, time.UTC)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testLogger sends warnings and errors to the test log, shown when a test
// fails. Lines written after the test ended (a straggling goroutine) are
// dropped. Call it before startQueue so that its cleanup runs after Stop.
func testLogger(tb testing.TB) *slog.Logger {
	w := &tbWriter{tb: tb}
	tb.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tbWriter struct {
	tb   testing.TB
	mu   sync.Mutex
	done bool
}

func (w *tbWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.tb.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// allOff turns every cron schedule off: a test that wants one sets it. A
// schedule left on would run a slot of the injected clock by itself.
func allOff() map[string]string {
	m := map[string]string{}
	for _, name := range CronNames() {
		m[name] = "off"
	}
	return m
}

// testConfig is a configuration with short intervals for tests; cron jobs off.
func testConfig(d Dialect) Config {
	return Config{
		Dialect:      d,
		PollInterval: 50 * time.Millisecond,
		Logger:       quietLogger(),
		Notify:       NotifyConfig{BackoffBase: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond},
		Cron:         CronConfig{Schedules: allOff(), Location: time.UTC},
	}
}

func testDeps(tb testing.TB, db *testDB, s *recordingSender) Deps {
	return Deps{
		Renderer: testRenderer(tb), SMS: s, Email: s, Push: s,
		Log: sqlLog{db}, Runs: sqlRuns{db}, Offers: sqlOffers{db}, Documents: sqlOffers{db}, URLs: sqlOffers{db},
	}
}

func startQueue(tb testing.TB, db *testDB, cfg Config, deps Deps) *Queue {
	tb.Helper()
	q, err := New(db.DB, cfg, deps)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := q.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stopCtx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		if err := q.Stop(stopCtx); err != nil {
			tb.Errorf("stop: %v", err)
		}
		cancel()
	})
	return q
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func jobState(tb testing.TB, q *Queue, id int64) JobInfo {
	tb.Helper()
	ji, err := q.Job(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return ji
}
