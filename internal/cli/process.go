package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"esign/internal/bus"
	"esign/internal/config"
	"esign/internal/customers"
	"esign/internal/docstore"
	"esign/internal/envelope"
	"esign/internal/esign"
	"esign/internal/hooks"
	"esign/internal/httpkit"
	"esign/internal/jobs"
	"esign/internal/live"
	"esign/internal/metrics"
	"esign/internal/offers"
	"esign/internal/pki"
	"esign/internal/signing"
	"esign/internal/sqlstore"
	"esign/internal/tracing"
)

// A role is one of the processes in docs/architecture.md; `esign all` runs
// them all.
type role int

const (
	roleOSS role = 1 << iota
	roleCSS
	rolePDFService
	roleCron
	roleTSA

	roleAll = roleOSS | roleCSS | rolePDFService | roleCron | roleTSA
)

var (
	processAll        = processSpec{name: "all", roles: roleAll}
	processOSS        = processSpec{name: "oss", roles: roleOSS}
	processCSS        = processSpec{name: "css", roles: roleCSS}
	processPDFService = processSpec{name: "pdfservice", roles: rolePDFService}
	processCron       = processSpec{name: "cron", roles: roleCron}
	processTSA        = processSpec{name: "tsa", roles: roleTSA}
)

type processSpec struct {
	name  string
	roles role
}

func (p processSpec) has(r role) bool { return p.roles&r != 0 }

// needsDB: oss owns the database, cron works on it and pdfservice reads the
// bank's certificate from it; css and the TSA have no database.
func (p processSpec) needsDB() bool {
	return p.has(roleOSS) || p.has(roleCron) || p.has(rolePDFService)
}

// runsQueue: oss and cron work the job queue.
func (p processSpec) runsQueue() bool { return p.has(roleOSS) || p.has(roleCron) }

// app is one running process: its configuration and the shared resources
// that its listeners use.
type app struct {
	spec      processSpec
	cfg       config.Config
	log       *slog.Logger
	reg       *metrics.Registry
	tracer    *tracing.Provider // no-op unless tracing.endpoint is set
	httpm     *httpkit.HTTPMetrics
	db        *sqlstore.DB
	checks    map[string]httpkit.Check
	peers     map[string]httpkit.Check
	closers   []func() error
	bus       bus.Bus
	queue     *jobs.Queue
	docs      *docstore.Store
	rdb       *redis.Client      // shared by sessions and rate limits, when redis.url is set
	customers *customers.Service // oss: the customer-facing operations (mobile API, RPC for css)
	signing   *signing.Service   // oss: M1/M2 and the bank's seal (mobile API, RPC for css)
	mobile    http.Handler
	admin     http.Handler    // oss: the operators' web interface
	customer  http.Handler    // css: the customer's web signing journey
	realtime  *http.ServeMux  // oss: the admin UI's live feed (server-sent events)
	custLive  *http.ServeMux  // css: the waiting page's seal progress (server-sent events)
	opsHub    *live.Hub       // oss: the operators' streams
	custHub   *live.Hub       // css: the customers' streams
	endsHub   *live.Hub       // oss: the ends of signatures, for the mobile API's status wait
	bound     boundAddrs      // the listeners' addresses once bound
	webhook   http.Handler    // oss: the external webhook API
	events    *offers.Emitter // events out to the bank (webhook.event_urls); set with the queue
	// revocations: the session revocations of this process, shared by its
	// customers services (their session caches)
	revocations customers.Revocations
	sysConfig   *bus.SystemConfigHolder // css: the latest configuration from oss
	bgCtx       context.Context
	bg          sync.WaitGroup
	keys        *envelope.Keyring
	devPKI      *pki.Dev
	tsa         http.Handler // the built-in TSA, when the process has that role
	// initialPassword is the file holding the first admin's password while
	// it exists (embedded deployment).
	initialPassword string
	// demoCredentials is the file of the webhook credentials enabled for
	// esign demo (embedded deployment without webhook settings).
	demoCredentials string
	hooks           *hooks.Runner // the bank's hooks (never nil; none configured: it runs none)
}

func runProcess(spec processSpec) func(ctx context.Context, env Env, args []string) error {
	return func(ctx context.Context, env Env, args []string) error {
		fs, path := newFlagSet(env, spec.name)
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usagef("unexpected argument %q", fs.Arg(0))
		}
		cfg, err := loadConfig(env, *path)
		if err != nil {
			return err
		}
		if err := checkCustomize(cfg); err != nil {
			return err
		}
		tp, err := openTracing(ctx, cfg, spec.name, env.Spans)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(ctx)
		a := &app{spec: spec, cfg: cfg, log: newLogger(env.Stderr, cfg.Log), reg: metrics.NewRegistry(), tracer: tp,
			checks: map[string]httpkit.Check{}, peers: map[string]httpkit.Check{}, bgCtx: ctx}
		a.httpm = httpkit.NewHTTPMetrics(a.reg)
		a.hooks = newHooks(cfg, env.Hooks, a.log)
		defer func() {
			cancel()
			a.bg.Wait()
			a.hooks.Wait()
			a.close()
			// Last, so that the spans of the shutdown are sent too.
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			if err := tp.Shutdown(sctx); err != nil {
				a.log.Warn("tracing", "err", err)
			}
		}()
		if err := a.open(ctx); err != nil {
			return err
		}
		return a.serve(ctx, env)
	}
}

// open connects the process to what it needs, failing fast with a clear
// error when something is unreachable.
func (a *app) open(ctx context.Context) error {
	a.openHubs()
	if a.spec.needsDB() || a.spec.has(roleTSA) {
		if err := ensureDataDir(a.cfg.DataDir); err != nil {
			return err
		}
		keys, err := openKeyring(a.cfg)
		if err != nil {
			return err
		}
		a.keys = keys
	}
	if a.spec.has(roleTSA) {
		dev, err := openDevPKI(a.cfg, a.keys, a.log)
		if err != nil {
			return err
		}
		h, closeTSA, err := tsaHandler(a.cfg, dev, a.log, a.checks)
		if err != nil {
			return err
		}
		a.devPKI, a.tsa = dev, h
		a.closers = append(a.closers, closeTSA)
	}
	if a.spec.needsDB() {
		db, err := openDB(ctx, a.cfg)
		if err != nil {
			return err
		}
		a.db = db
		a.closers = append(a.closers, db.Close)
		a.reg.CounterFunc("esign_sql_statements_total",
			"Statements sent to the database (queries, executions, BEGIN, COMMIT, ROLLBACK), the job queue's included.",
			func() float64 { return float64(db.Statements()) })
		if a.spec.has(roleOSS) {
			// Runs after the queue stopped (closers run in reverse).
			a.closers = append(a.closers, auditAnchorer{a}.shutdown)
		}
		if a.cfg.Database.AutoMigrate && a.spec.has(roleOSS) {
			if err := migrateAll(ctx, db); err != nil {
				return fmt.Errorf("migrate database: %w", err)
			}
		} else if err := db.CheckSchema(ctx); err != nil {
			return err
		}
		a.checks["database"] = db.Ping
		if a.spec.name == "all" {
			file, err := ensureInitialAdmin(ctx, db, a.cfg.DataDir)
			if err != nil {
				return err
			}
			a.initialPassword = file
			if a.demoCredentials, err = ensureDemoCredentials(&a.cfg); err != nil {
				return err
			}
		}
	}
	if a.spec.runsQueue() {
		if err := a.openStores(); err != nil {
			return err
		}
	}
	if a.spec.runsQueue() {
		// oss works the notifications; the cron role also runs the
		// schedules (leader-elected, so every slot runs once however many
		// replicas run).
		q, err := a.openQueue(ctx, queueOptions{schedules: a.spec.has(roleCron), seal: a.spec.has(roleOSS)})
		if err != nil {
			return err
		}
		a.queue = q
		if a.spec.has(roleCron) {
			a.watchSchedules(q)
		}
	}
	if a.spec.has(roleOSS) {
		svc, err := a.customersService()
		if err != nil {
			return fmt.Errorf("customer service: %w", err)
		}
		a.customers = svc
		if a.signing, err = a.signingService(); err != nil {
			return fmt.Errorf("signing service: %w", err)
		}
		a.mobile = a.mobileAPI()
		if a.admin, err = a.adminUI(); err != nil {
			return fmt.Errorf("admin UI: %w", err)
		}
		if a.webhook, err = a.webhookAPI(); err != nil {
			return fmt.Errorf("webhook API: %w", err)
		}
	}
	if q := a.queue; q != nil {
		// Started once the services its workers call (the seal job's
		// signing service) exist.
		if err := q.Start(ctx); err != nil {
			return err
		}
		a.closers = append(a.closers, func() error {
			sctx, cancel := context.WithTimeout(context.Background(), a.cfg.HTTP.ShutdownTimeout)
			defer cancel()
			return q.Stop(sctx)
		})
	}
	if err := a.openBus(ctx); err != nil {
		return err
	}
	if a.spec.has(roleCSS) {
		var err error
		if a.customer, err = a.customerUI(); err != nil {
			return fmt.Errorf("customer UI: %w", err)
		}
	}
	return nil
}

// openStores opens what oss and cron keep besides the database: the
// document store and, when redis.url is set, the Redis client shared by
// sessions and rate limits.
func (a *app) openStores() error {
	docs, err := docstore.Open(filepath.Join(a.cfg.DataDir, "documents"), a.keys)
	if err != nil {
		return err
	}
	a.docs = docs
	if a.cfg.Redis.URL == "" {
		return nil
	}
	rdb, err := newRedis(a.cfg)
	if err != nil {
		return err
	}
	a.rdb = rdb
	a.closers = append(a.closers, rdb.Close)
	a.checks["redis"] = func(ctx context.Context) error { return rdb.Ping(ctx).Err() }
	return nil
}

// newRedis returns a client of the Redis at redis.url.
func newRedis(cfg config.Config) (*redis.Client, error) {
	opts, err := redis.ParseURL(cfg.Redis.URL)
	if err != nil {
		return nil, &config.FieldError{Key: "redis.url", Reason: "not a Redis URL"}
	}
	return redis.NewClient(opts), nil
}

// redis returns the shared Redis client, or nil in the embedded deployment.
func (a *app) redis() *redis.Client { return a.rdb }

// background runs fn until the process stops; the process waits for it
// before it closes the database and the bus.
func (a *app) background(fn func(ctx context.Context)) {
	a.bg.Go(func() { fn(a.bgCtx) })
}

// openToolDB opens the database for a command that is not a process
// (migrate, user, cert, cron run), creating the data directory first when
// the database is a SQLite file in it.
func openToolDB(ctx context.Context, cfg config.Config) (*sqlstore.DB, error) {
	if cfg.Database.Driver == "sqlite" {
		if err := ensureDataDir(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	return openDB(ctx, cfg)
}

// openCurrentDB is openToolDB for a command that needs the current schema:
// on an older one it says to run 'esign migrate up' instead of failing on
// a missing table.
func openCurrentDB(ctx context.Context, cfg config.Config) (*sqlstore.DB, error) {
	db, err := openToolDB(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := db.CheckSchema(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openDB(ctx context.Context, cfg config.Config) (*sqlstore.DB, error) {
	db, err := sqlstore.Open(ctx, sqlstore.Config{Driver: cfg.Database.Driver, DSN: cfg.Database.URL, MaxOpenConns: cfg.Database.MaxOpenConns})
	if err != nil {
		// The store's message says what failed in operator terms; the
		// driver's chain of causes repeats it and stays out of the one line.
		return nil, esign.E("open database", esign.ErrorKind(err), fmt.Sprintf("open %s database %s: %s", cfg.Database.Driver, config.Mask(cfg.Database.URL), esign.ErrorMessage(err)))
	}
	return db, nil
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.log.Warn("close", "err", err)
		}
	}
}

func (a *app) serve(ctx context.Context, env Env) error {
	listeners := a.listeners()
	if len(listeners) == 0 {
		return usagef("every listener of %s is disabled", a.spec.name)
	}
	g, err := httpkit.Listen(ctx, a.log, httpkit.Timeouts{
		ReadHeader: a.cfg.HTTP.ReadHeaderTimeout,
		Read:       a.cfg.HTTP.ReadTimeout,
		Write:      a.cfg.HTTP.WriteTimeout,
		Idle:       a.cfg.HTTP.IdleTimeout,
		Shutdown:   a.cfg.HTTP.ShutdownTimeout,
	}, listeners)
	if err != nil {
		return err
	}
	addrs := map[string]string{}
	for _, n := range g.Names() {
		addrs[n] = g.Addr(n)
	}
	a.bound.set(addrs)
	a.log.Info("started", "process", a.spec.name, "version", version, "listeners", addrs)
	if a.spec.name == "all" {
		a.printBanner(env.Stdout, addrs)
	}
	if env.Ready != nil {
		env.Ready(addrs)
	}
	err = g.Serve(ctx)
	a.log.Info("stopped", "process", a.spec.name)
	return err
}

// listeners builds the HTTP listeners of the process's roles.
func (a *app) listeners() []httpkit.Listener {
	l := a.cfg.Listen
	var out []httpkit.Listener
	add := func(name, addr string, h http.Handler) {
		if addr != "" {
			out = append(out, httpkit.Listener{Name: name, Addr: addr, Handler: a.wrap(name, h)})
		}
	}
	// The realtime listeners serve server-sent events: no read or write
	// timeout (httpkit.Listener.Stream).
	stream := func(name, addr string, h http.Handler) {
		if addr != "" {
			out = append(out, httpkit.Listener{Name: name, Addr: addr, Handler: a.wrap(name, h), Stream: true})
		}
	}
	if a.spec.has(roleOSS) {
		add("admin", l.Admin, a.admin)
		add("webhook", l.Webhook, a.webhook)
		stream("realtime", l.Realtime, a.api(a.realtime))
		add("mobile", l.Mobile, a.mobile)
	}
	if a.spec.has(roleCSS) {
		add("customer", l.Customer, a.customer)
		stream("customer_realtime", l.CustomerRealtime, a.api(a.custLive))
	}
	if a.spec.has(rolePDFService) {
		add("pdfservice", l.PDFService, a.api(nil))
	}
	if a.spec.has(roleCron) && !a.spec.has(roleOSS) {
		add("cron", l.Cron, a.api(nil))
	}
	if a.spec.has(roleTSA) {
		add("tsa", l.TSA, a.tsa)
	}
	if l.Ops != "" {
		out = append(out, httpkit.Listener{Name: "ops", Addr: l.Ops, Handler: a.ops()})
	}
	if l.Debug != "" {
		dbg := http.NewServeMux()
		dbg.HandleFunc("/debug/pprof/", pprof.Index)
		dbg.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		dbg.HandleFunc("/debug/pprof/profile", pprof.Profile)
		dbg.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		dbg.HandleFunc("/debug/pprof/trace", pprof.Trace)
		add("debug", l.Debug, dbg)
	}
	return out
}

// wrap mounts the bare health endpoints next to h and applies the standard
// middleware. Metrics and the detailed readiness are only on ops.
func (a *app) wrap(name string, h http.Handler) http.Handler {
	mux := http.NewServeMux()
	health := &httpkit.Health{Checks: a.checks, Peers: a.peers}
	health.MountPublic(mux)
	mux.Handle("/", h)
	return httpkit.Chain(mux, httpkit.Standard(a.log, a.httpm, a.tracer, name)...)
}

// ops is the operations listener (listen.ops): /healthz, the detailed
// /readyz with every check's result, and /metrics.
func (a *app) ops() http.Handler {
	mux := http.NewServeMux()
	health := &httpkit.Health{Checks: a.checks, Peers: a.peers}
	health.Mount(mux, a.reg.Handler())
	return httpkit.Chain(a.api(mux), httpkit.Standard(a.log, a.httpm, a.tracer, "ops")...)
}

// api wraps a JSON API mux; unknown paths answer a JSON 404.
func (a *app) api(mux *http.ServeMux) http.Handler {
	if mux == nil {
		mux = http.NewServeMux()
	}
	mux.Handle("/", httpkit.Handle(a.log, func(w http.ResponseWriter, r *http.Request) error {
		return esign.E("http", esign.NotFound, "no such endpoint")
	}))
	return httpkit.Chain(mux, httpkit.LimitBody(a.cfg.HTTP.MaxBodyBytes))
}

// printBanner tells the newcomer where to click.
func (a *app) printBanner(w io.Writer, addrs map[string]string) {
	url := func(public, name string) string {
		if public != "" {
			return public
		}
		return "http://" + displayAddr(addrs[name]) + "/"
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "esign %s is running (embedded deployment: SQLite at %s, in-process bus, built-in TSA)\n", version, a.cfg.Database.URL)
	fmt.Fprintf(w, "  Admin UI (operators):   %s\n", url(a.cfg.Public.AdminURL, "admin"))
	fmt.Fprintf(w, "  Customer UI:            %s\n", url(a.cfg.Public.CustomerURL, "customer"))
	if a.initialPassword != "" {
		fmt.Fprintf(w, "  Operator login:         user %q, password in %s (the first sign-in sets up an authenticator app)\n", initialAdmin, a.initialPassword)
		fmt.Fprintf(w, "                          change it with: esign user password --username %s\n", initialAdmin)
	}
	if a.demoCredentials != "" {
		fmt.Fprintf(w, "  Webhook (esign demo):   user:password in %s\n", a.demoCredentials)
	}
	var others []string
	for _, n := range []string{"webhook", "mobile", "realtime", "customer_realtime", "tsa", "pdfservice"} {
		if addr, ok := addrs[n]; ok {
			others = append(others, fmt.Sprintf("%s http://%s", n, displayAddr(addr)))
		}
	}
	sort.Strings(others)
	fmt.Fprintf(w, "  Other listeners:        %s\n", strings.Join(others, ", "))
	if a.devPKI != nil {
		fmt.Fprintf(w, "  Trust anchor (dev CA):  %s\n", filepath.Join(a.devPKI.Dir, pki.FileCABundle))
	}
	if addr, ok := addrs["ops"]; ok {
		fmt.Fprintf(w, "  Operations:             http://%s/metrics, /readyz (detailed); /healthz, /readyz on every listener\n", displayAddr(addr))
	}
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
	fmt.Fprintln(w)
}

// displayAddr turns a wildcard bind address into one a browser can open.
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// openTracing makes the process's tracer provider from the tracing.*
// settings (a no-op one when tracing.endpoint is empty), or one that sends
// its spans to spans (tests).
func openTracing(ctx context.Context, cfg config.Config, process string, spans sdktrace.SpanExporter) (*tracing.Provider, error) {
	name := cfg.Tracing.ServiceName
	if name == "" {
		name = "esign-" + process
	}
	tp, err := tracing.New(ctx, tracing.Config{Endpoint: cfg.Tracing.Endpoint, SampleRatio: cfg.Tracing.SampleRatio,
		ServiceName: name, Version: version, Exporter: spans})
	if err != nil {
		return nil, esign.E("open tracing", esign.Invalid, err)
	}
	return tp, nil
}
