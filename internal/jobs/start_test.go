package jobs

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"esign/internal/notify"
)

// startLog is a DeliveryStarter on sqlLog that counts the look-ups the
// worker makes.
type startLog struct {
	sqlLog
	mu    sync.Mutex
	finds int
}

func (s *startLog) FindDelivery(ctx context.Context, channel notify.Channel, key string) (Delivery, bool, error) {
	s.mu.Lock()
	s.finds++
	s.mu.Unlock()
	return s.sqlLog.FindDelivery(ctx, channel, key)
}

func (s *startLog) StartDelivery(ctx context.Context, d Delivery) (Delivery, bool, error) {
	prev, found, err := s.sqlLog.FindDelivery(ctx, d.Channel, d.Key)
	if err != nil {
		return Delivery{}, false, err
	}
	if found && (prev.Status == StatusSent || prev.Status == StatusRateLimited || prev.Status == StatusExpired) {
		return prev, true, nil
	}
	return prev, found, s.RecordDelivery(ctx, d)
}

func (s *startLog) ForgetDelivery(ctx context.Context, channel notify.Channel, key string) error {
	_, err := s.db.ExecContext(ctx, s.db.rebind(`DELETE FROM delivery_log WHERE channel = ? AND key = ? AND status = ?`),
		string(channel), key, string(StatusSending))
	return err
}

func (s *startLog) findCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.finds
}

// flakyLimiter fails its first call, then allows up to n.
type flakyLimiter struct {
	calls atomic.Int32
	n     int32
}

func (l *flakyLimiter) Allow(ctx context.Context, key string, lim notify.Limit) (notify.Decision, error) {
	c := l.calls.Add(1)
	if c == 1 {
		return notify.Decision{}, errors.New("limiter down")
	}
	return notify.Decision{Allowed: c-1 <= l.n}, nil
}

// The worker on a DeliveryStarter makes the decisions it makes on a plain
// LogStore (TestRateLimitAndExpiry) without looking the delivery up first.
func TestWorkWithDeliveryStarter(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, SQLite)
	s := newRecordingSender()
	cfg := testConfig(SQLite)
	cfg.Notify.RateLimits = map[notify.Channel]notify.Limit{notify.SMS: {N: 2, Per: time.Hour}}
	deps := testDeps(t, db, s)
	log := &startLog{sqlLog: sqlLog{db}}
	deps.Log = log
	lim := &flakyLimiter{n: 2}
	deps.Limiter = lim
	q := startQueue(t, db, cfg, deps)
	var ids []int64
	for i := range 3 {
		id, err := q.Enqueue(ctx, nil, Notification{Kind: notify.DeviceAssociationCode, Channel: notify.SMS, To: "+36301234567",
			Params: notify.Params{Code: "111222"}, Key: "assoc-" + string(rune('a'+i))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		waitFor(t, 20*time.Second, "finalized", func() bool { return !jobState(t, q, id).FinalizedAt.IsZero() })
	}
	// The first job's limiter failed: its entry was forgotten, and the
	// retry counted it.
	if got := lim.calls.Load(); got != 4 {
		t.Errorf("limiter asked %d times, want 4 (a failure, then once per message)", got)
	}
	if got := jobState(t, q, ids[0]).State; got != "completed" {
		t.Errorf("first message state %s, want completed", got)
	}
	if got := jobState(t, q, ids[2]).State; got != "cancelled" {
		t.Errorf("third message state %s, want cancelled", got)
	}
	if dl, _, _ := (sqlLog{db}).FindDelivery(ctx, notify.SMS, "assoc-c"); dl.Status != StatusRateLimited {
		t.Errorf("third delivery = %+v", dl)
	}
	if dl, _, _ := (sqlLog{db}).FindDelivery(ctx, notify.SMS, "assoc-a"); dl.Status != StatusSent {
		t.Errorf("first delivery = %+v", dl)
	}
	if len(s.sent()) != 2 {
		t.Errorf("%d sent, want 2", len(s.sent()))
	}
	if n := log.findCount(); n != 0 {
		t.Errorf("FindDelivery called %d times, want none", n)
	}
	// An expired code takes the look-up path and is not sent.
	id, err := q.Enqueue(ctx, nil, Notification{Kind: notify.TwoFactorCode, Channel: notify.SMS, To: "+36309999999",
		Params: notify.Params{Code: "333444", ExpiresAt: time.Now().Add(-time.Second)}, Key: "late"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "finalized", func() bool { return !jobState(t, q, id).FinalizedAt.IsZero() })
	if dl, _, _ := (sqlLog{db}).FindDelivery(ctx, notify.SMS, "late"); dl.Status != StatusExpired || s.count("late") != 0 {
		t.Errorf("expired code: %+v, sent %d", dl, s.count("late"))
	}
	// A delivery recorded as sent before (a crash after the provider
	// accepted it) is not sent again.
	if err := log.RecordDelivery(ctx, Delivery{Key: "done", Channel: notify.Email, Kind: notify.ContractReady, Status: StatusSent,
		ProviderID: "earlier", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	id, err = q.Enqueue(ctx, nil, Notification{Kind: notify.ContractReady, Channel: notify.Email, To: "a@example.com", Key: "done"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "finalized", func() bool { return !jobState(t, q, id).FinalizedAt.IsZero() })
	if got := jobState(t, q, id).State; got != "completed" || s.count("done") != 0 {
		t.Errorf("sent before: state %s, sent %d", got, s.count("done"))
	}
}
