package offers_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/jobs"
	"esign/internal/notify"
	"esign/internal/offers"
	"esign/internal/sqlstore"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

// receiver is the bank's endpoint: it answers 503 while down and, when up,
// processes each event id once (an idempotent receiver), counting what it
// processed.
type receiver struct {
	t         *testing.T
	mu        sync.Mutex
	down      bool
	failed    int            // requests refused while down
	processed map[string]int // event id → times processed (2xx answered to a new id)
	dups      int            // requests for ids already processed
	events    map[string]offers.Event
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts := r.Header.Get("X-Esign-Timestamp")
	n, err := strconv.ParseInt(ts, 10, 64)
	// The verification recipe of docs/webhook-api.md.
	if err != nil || !hmac.Equal([]byte(r.Header.Get("X-Esign-Signature")), []byte(offers.Sign(secret, n, body))) {
		rc.t.Errorf("bad signature on %s", body)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev offers.Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID != r.Header.Get("X-Esign-Event-Id") {
		rc.t.Errorf("bad event %s", body)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.down {
		rc.failed++
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if rc.processed[ev.ID] > 0 {
		rc.dups++
	} else {
		rc.processed[ev.ID]++
		rc.events[ev.ID] = ev
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) state() (failed, processed, dups int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.failed, len(rc.processed), rc.dups
}

// waitFor polls cond; the deadline only bounds a hung test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startQueue(t *testing.T, db *sqlstore.DB, d jobs.EventDeliverer) *jobs.Queue {
	t.Helper()
	r, err := notify.NewRenderer(notify.Branding{ProductName: "e", BankName: "b", BaseURL: "https://sign.example"}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	dialect := jobs.SQLite
	if db.Driver() == "postgres" {
		dialect = jobs.Postgres
	}
	q, err := jobs.New(db.SQL(), jobs.Config{Dialect: dialect, PollInterval: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		Events: jobs.EventConfig{BackoffBase: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond, MaxAttempts: 1000},
		Cron: jobs.CronConfig{Schedules: map[string]string{jobs.OfferTimeout: "off", jobs.DeleteDocuments: "off", jobs.DeleteExpiredURL: "off"},
			Location: time.UTC}},
		jobs.Deps{Renderer: r, Log: db.JobStore(), Runs: db.JobStore(), Offers: db.JobStore(), Events: d})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		q.Stop(sctx)
		cancel()
	})
	return q
}

// TestEventsReachReceiverAfterOutage: a receiver that is down while events
// happen gets every event exactly once per event id after it comes back,
// and the deliveries are visible as delivered with their attempts.
func TestEventsReachReceiverAfterOutage(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		ctx := t.Context()
		db := customerstest.OpenDB(t, driver)
		rc := &receiver{t: t, down: true, processed: map[string]int{}, events: map[string]offers.Event{}}
		srv := httptest.NewServer(rc)
		t.Cleanup(srv.Close)
		q := startQueue(t, db, &offers.Deliverer{DB: db, Secret: secret, MaxAttempts: 1000})
		em := offers.NewEmitter(q, []string{srv.URL + "/esign-events"}, nil)

		// Real state changes: the customer service refuses and acknowledges,
		// the offers service revokes; each emits in its transaction.
		env := customerstest.New(t, db, nil, customers.Config{}, nil)
		csvc, err := customers.New(customers.Deps{DB: db, Queue: env.Queue, Sessions: &customers.DBSessions{DB: db},
			Limiter: notify.NewMemoryLimiter(env.Clock.Now), Events: em}, customers.Config{CodeKey: bytes.Repeat([]byte{7}, 32), Now: env.Clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		osvc, err := offers.New(offers.Deps{DB: db, Docs: env.Docs, Queue: env.Queue, Customers: csvc, Events: em, Now: env.Clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		c := env.Customer(t, "Kovács Péter")
		env.Approve(t, c)
		c, _ = db.GetCustomer(ctx, c.ID)
		p := &customers.Principal{Customer: c}
		var want []string
		for i := range 3 {
			doc := env.Document(t, c.ID, "a.pdf", []byte("%PDF-1.7 test "+strconv.Itoa(i)))
			o := env.Offer(t, c.ID, "offer "+strconv.Itoa(i), doc.ID)
			if i%2 == 0 {
				if _, err := csvc.RefuseOffer(ctx, p, o.ID, "no", customers.Meta{}); err != nil {
					t.Fatal(err)
				}
				want = append(want, offers.EventOfferRefused)
			} else {
				if _, err := osvc.RevokeOffer(ctx, c.ExternalRef, o.ID, "withdrawn"); err != nil {
					t.Fatal(err)
				}
				want = append(want, offers.EventOfferRevoked)
			}
		}
		ct := env.Contract(t, c.ID, "contract")
		if _, err := csvc.AcknowledgeContract(ctx, p, ct.ID, customers.Meta{}); err != nil {
			t.Fatal(err)
		}
		want = append(want, offers.EventContractAcknowledged)

		// While down, every event is tried more than once.
		waitFor(t, "failed attempts while down", func() bool { f, _, _ := rc.state(); return f >= 3*len(want) })
		ds, err := db.ListEventDeliveries(ctx, sqlstore.EventDeliveryFilter{})
		if err != nil || len(ds) != len(want) {
			t.Fatalf("%d deliveries (%v), want %d", len(ds), err, len(want))
		}
		for _, d := range ds {
			if d.Status == sqlstore.DeliveryDelivered {
				t.Fatalf("delivered while the receiver was down: %+v", d)
			}
		}
		rc.mu.Lock()
		rc.down = false
		rc.mu.Unlock()
		waitFor(t, "every event delivered", func() bool {
			ds, err := db.ListEventDeliveries(ctx, sqlstore.EventDeliveryFilter{Status: sqlstore.DeliveryDelivered})
			return err == nil && len(ds) == len(want)
		})
		_, processed, _ := rc.state()
		if processed != len(want) {
			t.Fatalf("receiver processed %d events, want %d", processed, len(want))
		}
		got := map[string]int{}
		rc.mu.Lock()
		for id, n := range rc.processed {
			if n != 1 {
				t.Errorf("event %s processed %d times", id, n)
			}
			got[rc.events[id].Type]++
			if rc.events[id].Data.CustomerRef != c.ExternalRef {
				t.Errorf("event %s without the customer reference: %+v", id, rc.events[id])
			}
		}
		rc.mu.Unlock()
		for _, w := range want {
			got[w]--
		}
		for typ, n := range got {
			if n != 0 {
				t.Errorf("event type %s: %+d against the changes made", typ, n)
			}
		}
		ds, _ = db.ListEventDeliveries(ctx, sqlstore.EventDeliveryFilter{})
		for _, d := range ds {
			if d.Attempts < 2 || d.DeliveredAt.IsZero() || d.LastStatus != http.StatusNoContent {
				t.Errorf("delivery %+v", d)
			}
		}
		// A delivery that is done is not sent again, even if its job ran again.
		_, _, before := rc.state()
		d := &offers.Deliverer{DB: db, Secret: secret}
		if err := d.DeliverEvent(ctx, ds[0].EventID, ds[0].URL, 99); err != nil {
			t.Fatal(err)
		}
		if _, _, after := rc.state(); after != before {
			t.Fatal("a delivered event was posted again")
		}
		// Unknown events end their job without retries.
		if err := d.DeliverEvent(ctx, esign.NewID(), srv.URL, 1); !esign.IsKind(err, esign.Invalid) {
			t.Fatalf("unknown event: %v", err)
		}
	})
}

// TestNoURLsNoEvents: without callback URLs nothing is recorded.
func TestNoURLsNoEvents(t *testing.T) {
	db := customerstest.OpenDB(t, "sqlite")
	em := offers.NewEmitter(nil, nil, nil)
	err := db.InTx(t.Context(), func(tx *sqlstore.Tx) error {
		_, err := em.Emit(t.Context(), tx, offers.EventOfferSigned, offers.EventData{OfferID: "x"})
		return err
	})
	ds, _ := db.ListEventDeliveries(t.Context(), sqlstore.EventDeliveryFilter{})
	if err != nil || len(ds) != 0 {
		t.Fatalf("%v, %d deliveries", err, len(ds))
	}
}
