// Package customerstest builds a real customers.Service for tests: a real
// database (SQLite in a temp dir, or PostgreSQL), the real job queue
// (insert-only) with a recorder that lets the test read the SMS codes it
// would send, an encrypted document store and a settable clock.
package customerstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"esign/internal/customers"
	"esign/internal/docstore"
	"esign/internal/envelope"
	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/jobs"
	"esign/internal/notify"
	"esign/internal/offers"
	"esign/internal/sqlstore"
)

// Clock is the settable test clock (esigntest.Clock).
type Clock = esigntest.Clock

// WrongCode returns a well-formed SMS code that is not code.
func WrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

// Recorder wraps the real queue and remembers every notification enqueued.
type Recorder struct {
	Q  *jobs.Queue
	mu sync.Mutex
	ns []jobs.Notification
}

// Enqueue enqueues n in tx and records it.
func (r *Recorder) Enqueue(ctx context.Context, tx *sql.Tx, n jobs.Notification) (int64, error) {
	id, err := r.Q.Enqueue(ctx, tx, n)
	if err == nil {
		r.mu.Lock()
		r.ns = append(r.ns, n)
		r.mu.Unlock()
	}
	return id, err
}

// Last returns the last notification of the kind, or fails the test.
func (r *Recorder) Last(tb testing.TB, k notify.Kind) jobs.Notification {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.ns) - 1; i >= 0; i-- {
		if r.ns[i].Kind == k {
			return r.ns[i]
		}
	}
	tb.Fatalf("no %s notification was enqueued", k)
	return jobs.Notification{}
}

// All returns every notification enqueued so far.
func (r *Recorder) All() []jobs.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ns)
}

// Count returns how many notifications of the kind were enqueued.
func (r *Recorder) Count(k notify.Kind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.ns {
		if x.Kind == k {
			n++
		}
	}
	return n
}

// Env is a service with everything around it.
type Env struct {
	DB    *sqlstore.DB
	Svc   *customers.Service
	Queue *Recorder
	Docs  *docstore.Store
	Clock *Clock
	Cfg   customers.Config
}

// Engines runs fn on SQLite and, when ESIGN_TEST_POSTGRES_URL is set, on
// PostgreSQL.
func Engines(t *testing.T, fn func(t *testing.T, driver string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite") })
	t.Run("postgres", func(t *testing.T) {
		esigntest.ServerURL(t, esigntest.PostgresURLEnv)
		fn(t, "postgres")
	})
}

// OpenDB opens and migrates a fresh database of the driver.
func OpenDB(tb testing.TB, driver string) *sqlstore.DB {
	tb.Helper()
	ctx := context.Background()
	dsn := filepath.Join(tb.TempDir(), "esign.db")
	if driver == "postgres" {
		dsn = esigntest.PostgresSchemaURL(tb)
	}
	db, err := sqlstore.Open(ctx, sqlstore.Config{Driver: driver, DSN: dsn})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.MigrateUp(ctx); err != nil {
		tb.Fatal(err)
	}
	d := jobs.SQLite
	if driver == "postgres" {
		d = jobs.Postgres
	}
	if err := jobs.Migrate(ctx, db.SQL(), d); err != nil {
		tb.Fatal(err)
	}
	return db
}

// New builds the service on db with the sessions (nil: the database) and
// the configuration (zero fields: defaults; the clock is the Env's); opts
// may change the dependencies further (e.g. set Geo).
func New(tb testing.TB, db *sqlstore.DB, sessions customers.SessionStore, cfg customers.Config, tsa customers.Timestamper,
	opts ...func(*customers.Deps)) *Env {
	tb.Helper()
	d := jobs.SQLite
	if db.Driver() == "postgres" {
		d = jobs.Postgres
	}
	q, err := jobs.New(db.SQL(), jobs.Config{Dialect: d, InsertOnly: true}, jobs.Deps{})
	if err != nil {
		tb.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	keys, err := envelope.NewKeyring("k1", map[string][]byte{"k1": key})
	if err != nil {
		tb.Fatal(err)
	}
	docs, err := docstore.Open(filepath.Join(tb.TempDir(), "docs"), keys)
	if err != nil {
		tb.Fatal(err)
	}
	if sessions == nil {
		sessions = &customers.DBSessions{DB: db}
	}
	clock := esigntest.NewClock(tb)
	cfg.CodeKey = bytes.Repeat([]byte{7}, 32)
	cfg.Now = clock.Now
	rec := &Recorder{Q: q}
	deps := customers.Deps{DB: db, Queue: rec, Sessions: sessions, Limiter: notify.NewMemoryLimiter(clock.Now), TSA: tsa, Docs: docs,
		Approved: &offers.Held{Queue: rec, Now: clock.Now}}
	for _, o := range opts {
		o(&deps)
	}
	svc, err := customers.New(deps, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return &Env{DB: db, Svc: svc, Queue: rec, Docs: docs, Clock: clock, Cfg: cfg}
}

// Customer creates a customer with a unique phone number.
func (e *Env) Customer(tb testing.TB, name string) *esign.Customer {
	tb.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(10_000_000))
	if err != nil {
		tb.Fatal(err)
	}
	phone := fmt.Sprintf("+3630%07d", n)
	c := &esign.Customer{ExternalRef: esign.NewID(), Name: name, Phone: phone, Locale: "hu-HU"}
	if err := e.DB.CreateCustomer(context.Background(), c); err != nil {
		tb.Fatal(err)
	}
	return c
}

// Approve approves the customer.
func (e *Env) Approve(tb testing.TB, c *esign.Customer) {
	tb.Helper()
	if _, err := e.Svc.Approve(context.Background(), c.ID, ""); err != nil {
		tb.Fatal(err)
	}
}

// Document stores bytes as a document of the customer.
func (e *Env) Document(tb testing.TB, customerID, name string, data []byte) *esign.Document {
	tb.Helper()
	ctx := context.Background()
	key := "documents/" + esign.NewID()
	if _, err := e.Docs.Put(ctx, key, bytes.NewReader(data)); err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(data)
	d := &esign.Document{CustomerID: customerID, Kind: esign.DocumentOffer, Name: name, ContentType: "application/pdf",
		Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), StorageKey: key, Encrypted: true}
	if err := e.DB.CreateDocument(ctx, d); err != nil {
		tb.Fatal(err)
	}
	return d
}

// Offer creates an offer of the customer in state notified with the documents.
func (e *Env) Offer(tb testing.TB, customerID, title string, docIDs ...string) *esign.Offer {
	tb.Helper()
	ctx := context.Background()
	o := &esign.Offer{CustomerID: customerID, Title: title, ExpiresAt: e.Clock.Now().Add(7 * 24 * time.Hour)}
	if err := e.DB.CreateOffer(ctx, o, docIDs...); err != nil {
		tb.Fatal(err)
	}
	o, err := e.DB.UpdateOfferState(ctx, o.ID, o.Version, esign.OfferNotified, "")
	if err != nil {
		tb.Fatal(err)
	}
	return o
}

// Contract creates an active contract of the customer with the documents.
func (e *Env) Contract(tb testing.TB, customerID, title string, docIDs ...string) *esign.Contract {
	tb.Helper()
	ctx := context.Background()
	c := &esign.Contract{CustomerID: customerID, Title: title, Status: esign.ContractActive, SignedAt: e.Clock.Now()}
	if err := e.DB.CreateContract(ctx, c); err != nil {
		tb.Fatal(err)
	}
	for _, id := range docIDs {
		if _, err := e.DB.UpdateDocument(ctx, id, esign.DocumentUpdate{ContractID: &c.ID}); err != nil {
			tb.Fatal(err)
		}
	}
	return c
}
