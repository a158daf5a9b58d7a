package cli

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"sync"
	"time"

	"esign/internal/bus"
	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/geo"
	"esign/internal/httpkit"
	"esign/internal/jobs"
	"esign/internal/notify"
	"esign/internal/offers"
	"esign/internal/rpc"
)

// serveRPC serves the customer-facing queues of oss (esign:rpc-app,
// -customer, -offer, -contract, -document, -timestamp) from a
// process's customers.Service (shared with the mobile API); esign:rpc-app
// also answers system.config with load.
func (a *app) serveRPC(ctx context.Context, load func(context.Context) (bus.SystemConfig, error)) error {
	srv := rpc.NewServer(a.customers, rpc.ServerOptions{SystemConfig: load, Signing: a.signing,
		WebKeyAlgorithm: a.cfg.Mobile.WebAlgorithms()[0]})
	return srv.Serve(ctx, a.bus, rpc.DefaultQueues())
}

// customersService builds the customer service from the process's
// database, job queue, keys and configuration, with the same policies as
// the mobile API: sessions and rate limits in Redis when redis.url is set,
// else sessions in the database and rate limits in this process's memory.
func (a *app) customersService() (*customers.Service, error) { return a.customersServiceWith(a.queue) }

func (a *app) customersServiceWith(q customers.Enqueuer) (*customers.Service, error) {
	key, err := mobileCodeKey(a.cfg, a.keys)
	if err != nil {
		return nil, err
	}
	ts, err := tsaClient(a.cfg, "", nil)
	if err != nil {
		return nil, fmt.Errorf("time-stamping client: %w", err)
	}
	var sessions customers.SessionStore = &customers.DBSessions{DB: a.db}
	var limiter notify.Limiter = notify.NewMemoryLimiter(nil)
	if rdb := a.redis(); rdb != nil {
		sessions = &customers.RedisSessions{RDB: rdb, Prefix: redisPrefix(a.cfg) + "sess:"}
		limiter = notify.NewRedisLimiter(rdb, redisPrefix(a.cfg)+"rl:mobile:", nil)
	}
	m := a.cfg.Mobile
	cfg := customers.DefaultConfig()
	cfg.SessionIdle, cfg.SessionMax = m.SessionIdle, m.SessionMax
	cfg.SessionCacheTTL = m.SessionCacheTTL
	if cfg.SessionCacheTTL == 0 {
		cfg.SessionCacheTTL = -1 // off: customers.Config's zero is its default
	}
	cfg.SMSPerNumber = notify.Limit{N: m.SMSPerNumberPerHour, Per: time.Hour}
	cfg.SMSGlobal = notify.Limit{N: m.SMSGlobalPerMinute, Per: time.Minute}
	cfg.LoginPerApp = notify.Limit{N: m.LoginPerAppPer10Min, Per: 10 * time.Minute}
	cfg.RegisterPerIP = notify.Limit{N: m.RegisterPerIPPer10Min, Per: 10 * time.Minute}
	cfg.TimestampPerApp = notify.Limit{N: m.TimestampPerAppPer10Min, Per: 10 * time.Minute}
	cfg.ClientErrorsPerApp = notify.Limit{N: m.ClientErrorsPerAppPer10Min, Per: 10 * time.Minute}
	cfg.ClientErrorsPerDay = notify.Limit{N: m.ClientErrorsPerDay, Per: 24 * time.Hour}
	cfg.CodeKey = key
	cfg.ParallelWebSessions = m.WebSessions == "allow"
	cfg.LinkLifetime = m.LinkLifetime
	cfg.LinkRenewals = notify.Limit{N: m.LinkRenewalsPerDay, Per: 24 * time.Hour}
	var loc customers.Locator
	if p := a.cfg.Geo.MMDBPath; p != "" {
		db, err := geo.OpenFile(p)
		if err != nil {
			return nil, fmt.Errorf("geo.mmdb_path: %w", err)
		}
		loc = geo.NewLocator(db)
	}
	return customers.New(customers.Deps{DB: a.db, Queue: q, Sessions: sessions, Limiter: limiter, TSA: ts, Docs: a.docs,
		Events: a.events, Geo: loc, Approved: &offers.Held{Queue: q, LinkLifetime: m.LinkLifetime},
		Hooks: a.hooks, Revocations: &a.revocations}, cfg)
}

// CustomerSetup does, for tools such as esign-bench's mobile scenario, what
// only the bank can start: create a customer, send the association code,
// approve the customer, file offers. It opens the database, keys, document
// store and job queue exactly as `esign` does with the same --config file
// and ESIGN_* environment, so the codes it issues verify in the running
// oss; the SMS itself goes through the job queue as always (the running
// oss sends it), and the code is also handed to the tool.
type CustomerSetup struct {
	a   *app
	svc *customers.Service
	rec *codeRecorder
}

// OpenCustomerSetup opens the setup on the configuration of configPath
// (empty: ESIGN_CONFIG, then the defaults) and environ (ESIGN_* variables).
// The database must be migrated.
func OpenCustomerSetup(ctx context.Context, configPath string, environ []string) (*CustomerSetup, error) {
	cfg, err := loadConfig(Env{Environ: environ}, configPath)
	if err != nil {
		return nil, err
	}
	a := &app{spec: processOSS, cfg: cfg, log: newLogger(io.Discard, cfg.Log), bgCtx: ctx, checks: map[string]httpkit.Check{}}
	ok := false
	defer func() {
		if !ok {
			a.close()
		}
	}()
	if a.db, err = openToolDB(ctx, cfg); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.db.Close)
	if err := a.db.CheckSchema(ctx); err != nil {
		return nil, err
	}
	if a.keys, err = openKeyring(cfg); err != nil {
		return nil, err
	}
	if err := a.openStores(); err != nil {
		return nil, err
	}
	if a.queue, err = a.openQueue(ctx, queueOptions{insertOnly: true}); err != nil {
		return nil, err
	}
	rec := &codeRecorder{Enqueuer: a.queue, codes: map[string]string{}}
	svc, err := a.customersServiceWith(rec)
	if err != nil {
		return nil, err
	}
	ok = true
	return &CustomerSetup{a: a, svc: svc, rec: rec}, nil
}

// Close releases the database and the other stores.
func (s *CustomerSetup) Close() error {
	s.a.close()
	return nil
}

// SQLStatements returns the statements the setup's own database pool has
// sent (sqlstore.DB.Statements): the bank's side of a benchmark's flows.
func (s *CustomerSetup) SQLStatements() uint64 { return s.a.db.Statements() }

// SQL returns the setup's database pool, for a benchmark's read of the
// server's statistics (pg_stat_statements).
func (s *CustomerSetup) SQL() (db *sql.DB, driver string) { return s.a.db.SQL(), s.a.db.Driver() }

// CreateCustomer creates a pending customer with the phone number and
// sends the association code, which it returns. Errors: Invalid, Conflict,
// TooMany (the SMS limits of mobile.*).
func (s *CustomerSetup) CreateCustomer(ctx context.Context, name, phone string) (customerID, code string, err error) {
	c := &esign.Customer{ExternalRef: "bench-" + esign.NewID(), Name: name, Phone: phone, Locale: "en"}
	if err := s.a.db.CreateCustomer(ctx, c); err != nil {
		return "", "", err
	}
	if err := s.svc.SendAssociationCode(ctx, c.ID); err != nil {
		return "", "", err
	}
	code, ok := s.rec.take(phone)
	if !ok {
		return "", "", esign.E("cli.CustomerSetup.CreateCustomer", esign.Internal, "no association code was enqueued")
	}
	return c.ID, code, nil
}

// Approve approves the customer (operator approval).
func (s *CustomerSetup) Approve(ctx context.Context, customerID string) error {
	_, err := s.svc.Approve(ctx, customerID, "")
	return err
}

// CreateOffers files n offers without documents for the customer, in
// state notified, expiring in a week.
func (s *CustomerSetup) CreateOffers(ctx context.Context, customerID string, n int) error {
	for i := range n {
		o := &esign.Offer{CustomerID: customerID, Title: fmt.Sprintf("Benchmark offer %d", i+1), ExpiresAt: time.Now().Add(7 * 24 * time.Hour)}
		if err := s.a.db.CreateOffer(ctx, o); err != nil {
			return err
		}
		if _, err := s.a.db.UpdateOfferState(ctx, o.ID, o.Version, esign.OfferNotified, ""); err != nil {
			return err
		}
	}
	return nil
}

// codeRecorder passes notifications to the queue and keeps the association
// codes by phone number for the tool that asked for them.
type codeRecorder struct {
	customers.Enqueuer
	mu    sync.Mutex
	codes map[string]string
}

func (r *codeRecorder) Enqueue(ctx context.Context, tx *sql.Tx, n jobs.Notification) (int64, error) {
	id, err := r.Enqueuer.Enqueue(ctx, tx, n)
	if err == nil && n.Kind == notify.DeviceAssociationCode {
		r.mu.Lock()
		r.codes[n.To] = n.Params.Code
		r.mu.Unlock()
	}
	return id, err
}

func (r *codeRecorder) take(phone string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.codes[phone]
	delete(r.codes, phone)
	return c, ok
}
