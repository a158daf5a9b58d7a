package jobs

import (
	"context"
	"strings"
	"testing"
	"time"

	"esign/internal/esign"
	"esign/internal/notify"
)

func TestOutbox(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t, d)
			s := newRecordingSender()
			q := startQueue(t, db, testConfig(d), testDeps(t, db, s))

			// Rolled back: neither the change nor the notification exists.
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO offers VALUES ('o1', 'Hitel', 'Éva', '+36301234567', 'open', 0)`)); err != nil {
				t.Fatal(err)
			}
			if _, err := q.Enqueue(ctx, tx, Notification{Kind: notify.OfferAvailable, Channel: notify.SMS, To: "+36301234567", Params: notify.Params{OfferTitle: "Hitel"}}); err != nil {
				t.Fatal(err)
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			if jobs, err := q.Jobs(ctx, JobFilter{Kind: "notify"}); err != nil || len(jobs) != 0 {
				t.Fatalf("after rollback: %v, %d jobs", err, len(jobs))
			}

			// Committed: sent once, logged with masked recipient and code.
			tx, err = db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO offers VALUES ('o1', 'Hitel', 'Éva', '+36301234567', 'open', 0)`)); err != nil {
				t.Fatal(err)
			}
			n := Notification{Kind: notify.TwoFactorCode, Channel: notify.SMS, Lang: "en", To: "+36301234567",
				Params: notify.Params{Code: "482913", ExpiresAt: time.Now().Add(5 * time.Minute)}, Key: "2fa-sig1"}
			id, err := q.Enqueue(ctx, tx, n)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "job completed", func() bool { return jobState(t, q, id).State == "completed" })
			if got := s.sent(); len(got) != 1 || got[0].Key != "2fa-sig1" || !strings.Contains(got[0].Text, "482913") || !strings.Contains(got[0].Text, "signing code") {
				t.Fatalf("sent = %+v", got)
			}
			dl, ok, err := sqlLog{db}.FindDelivery(ctx, notify.SMS, "2fa-sig1")
			if err != nil || !ok {
				t.Fatalf("delivery: %v %v", ok, err)
			}
			if dl.Status != StatusSent || dl.ProviderID != "msg-1" || dl.Recipient != "+36******567" || strings.Contains(dl.Text, "482913") || dl.JobID != id {
				t.Errorf("delivery = %+v", dl)
			}
			// The same key again (a retried request) is the same job, not a second message.
			id2, err := q.Enqueue(ctx, nil, n)
			if err != nil || id2 != id {
				t.Errorf("duplicate key: id %d (%v), want %d", id2, err, id)
			}
			ji := jobState(t, q, id)
			if ji.Attempt != 1 || ji.Summary != "twofa_code sms to +36******567" {
				t.Errorf("job info = %+v", ji)
			}
		})
	}
}

func TestEnqueueValidates(t *testing.T) {
	db := openDB(t, SQLite)
	q, err := New(db.DB, Config{Dialect: SQLite, InsertOnly: true}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	for name, n := range map[string]Notification{
		"bad_kind":     {Kind: "x", Channel: notify.SMS, To: "1"},
		"bad_channel":  {Kind: notify.OfferAvailable, Channel: "fax", To: "1"},
		"no_recipient": {Kind: notify.OfferAvailable, Channel: notify.SMS},
		"code_missing": {Kind: notify.TwoFactorCode, Channel: notify.SMS, To: "1"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := q.Enqueue(context.Background(), nil, n); esign.ErrorKind(err) != esign.Invalid {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t, d)
			s := newRecordingSender()
			temp := notify.ProviderError("test", esign.Unavailable, "smsapi_201", "down", nil)
			s.fail["temp"] = []error{temp, temp}
			s.fail["perm"] = []error{notify.ProviderError("test", esign.Invalid, "smsapi_13", "bad number", nil)}
			s.fail["always"] = []error{temp, temp, temp, temp}
			cfg := testConfig(d)
			cfg.Notify.MaxAttempts = 3
			q := startQueue(t, db, cfg, testDeps(t, db, s))

			enq := func(key string) int64 {
				id, err := q.Enqueue(ctx, nil, Notification{Kind: notify.ContractReady, Channel: notify.Email, To: "eva@example.com", Params: notify.Params{OfferTitle: "Hitel"}, Key: key})
				if err != nil {
					t.Fatal(err)
				}
				return id
			}
			tests := []struct {
				key      string
				state    string
				attempts int
				status   DeliveryStatus
				sent     int
			}{
				{"temp", "completed", 3, StatusSent, 1},
				{"perm", "cancelled", 1, StatusFailed, 0},
				{"always", "discarded", 3, StatusFailed, 0},
			}
			ids := map[string]int64{}
			for _, tt := range tests {
				ids[tt.key] = enq(tt.key)
			}
			for _, tt := range tests {
				t.Run(tt.key, func(t *testing.T) {
					id := ids[tt.key]
					waitFor(t, 20*time.Second, tt.key+" finalized", func() bool { return !jobState(t, q, id).FinalizedAt.IsZero() })
					ji := jobState(t, q, id)
					if ji.State != tt.state || ji.Attempt != tt.attempts || len(ji.Errors) != tt.attempts-boolInt(tt.state == "completed") {
						t.Errorf("job = %+v", ji)
					}
					dl, _, err := sqlLog{db}.FindDelivery(ctx, notify.Email, tt.key)
					if err != nil || dl.Status != tt.status || dl.Attempt != tt.attempts {
						t.Errorf("delivery = %+v (%v)", dl, err)
					}
					if tt.status == StatusFailed && dl.ErrorCode == "" {
						t.Errorf("no error code recorded: %+v", dl)
					}
					if n := s.count(tt.key); n != tt.sent {
						t.Errorf("sent %d times, want %d", n, tt.sent)
					}
				})
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestRateLimitAndExpiry(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, SQLite)
	s := newRecordingSender()
	cfg := testConfig(SQLite)
	cfg.Notify.RateLimits = map[notify.Channel]notify.Limit{notify.SMS: {N: 2, Per: time.Hour}}
	deps := testDeps(t, db, s)
	deps.Limiter = notify.NewMemoryLimiter(nil)
	q := startQueue(t, db, cfg, deps)
	var ids []int64
	for i := range 3 {
		id, err := q.Enqueue(ctx, nil, Notification{Kind: notify.DeviceAssociationCode, Channel: notify.SMS, To: "+36301234567",
			Params: notify.Params{Code: "111222"}, Key: "assoc-" + string(rune('a'+i))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		waitFor(t, 10*time.Second, "finalized", func() bool { return !jobState(t, q, id).FinalizedAt.IsZero() })
	}
	if got := jobState(t, q, ids[2]).State; got != "cancelled" {
		t.Errorf("third message state %s, want cancelled", got)
	}
	if dl, _, _ := (sqlLog{db}).FindDelivery(ctx, notify.SMS, "assoc-c"); dl.Status != StatusRateLimited {
		t.Errorf("third delivery = %+v", dl)
	}
	if len(s.sent()) != 2 {
		t.Errorf("%d sent, want 2", len(s.sent()))
	}
	// Another number is not limited; an expired code is not sent at all.
	id, err := q.Enqueue(ctx, nil, Notification{Kind: notify.TwoFactorCode, Channel: notify.SMS, To: "+36309999999",
		Params: notify.Params{Code: "333444", ExpiresAt: time.Now().Add(-time.Second)}, Key: "late"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "finalized", func() bool { return !jobState(t, q, id).FinalizedAt.IsZero() })
	if dl, _, _ := (sqlLog{db}).FindDelivery(ctx, notify.SMS, "late"); dl.Status != StatusExpired || s.count("late") != 0 {
		t.Errorf("expired code: %+v, sent %d", dl, s.count("late"))
	}
}

func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		attempt int
		want    time.Duration
	}{{1, 10 * time.Second}, {2, 20 * time.Second}, {5, 160 * time.Second}, {12, 30 * time.Minute}, {100, 30 * time.Minute}} {
		got := backoff(tt.attempt, 10*time.Second, 30*time.Minute)
		if got < tt.want*9/10 || got > tt.want*11/10 {
			t.Errorf("backoff(%d) = %v, want %v ±10%%", tt.attempt, got, tt.want)
		}
	}
}

// TestAlreadySentSkipped plays a crash after the provider accepted a message
// and the log said so, but before the job was marked complete: the retry
// must not send again.
func TestAlreadySentSkipped(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, SQLite)
	if err := (sqlLog{db}).RecordDelivery(ctx, Delivery{Key: "news-1-push", Kind: notify.RegistrationApproved, Channel: notify.Push,
		Recipient: "abcd…wxyz", Status: StatusSent, Provider: "fcm", ProviderID: "projects/p/messages/1", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	s := newRecordingSender()
	deps := testDeps(t, db, s)
	deps.Push = nil // would fail permanently if it were called
	q := startQueue(t, db, testConfig(SQLite), deps)
	id, err := q.Enqueue(ctx, nil, Notification{Kind: notify.RegistrationApproved, Channel: notify.Push, To: "abcdefghijklmnopqrstuvwxyz", Key: "news-1-push"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "completed", func() bool { return jobState(t, q, id).State == "completed" })
	if dl, _, _ := (sqlLog{db}).FindDelivery(ctx, notify.Push, "news-1-push"); dl.ProviderID != "projects/p/messages/1" || dl.Status != StatusSent {
		t.Errorf("delivery overwritten: %+v", dl)
	}
	// Without a sender for the channel the notification fails permanently.
	id, err = q.Enqueue(ctx, nil, Notification{Kind: notify.RegistrationApproved, Channel: notify.Push, To: "abcdefghijklmnopqrstuvwxyz", Key: "news-2-push"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "finalized", func() bool { return jobState(t, q, id).State == "cancelled" })
}
