// Package jobs is the background work of esign on River, in the same
// database as the data (SQLite in the embedded deployment, PostgreSQL in
// production): the notification outbox (a notification is enqueued in the
// transaction of the change that causes it and sent by a worker after
// commit, with retries and backoff) and the spec's cron jobs as periodic
// jobs that run once per schedule slot across all replicas.
//
// The package depends on the storage only through the small interfaces
// declared here (LogStore, RunStore, OfferExpirer, DocumentDeleter,
// URLDeleter); sqlstore implements them.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel/trace"

	"esign/internal/esign"
	"esign/internal/metrics"
	"esign/internal/notify"
)

// Dialect names the database River runs on.
type Dialect string

// The supported databases. Both are used through database/sql: SQLite with
// the modernc.org/sqlite driver, PostgreSQL with pgx's stdlib driver.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// The River queues.
const (
	QueueNotify = "notify"
	QueueCron   = "cron"
)

// Config configures a Queue. The zero value of every field has a sensible
// default.
type Config struct {
	Dialect Dialect
	// ID names this replica in River's tables and in run records; default: River's generated id.
	ID string
	// Workers is the number of notifications sent concurrently by this
	// replica; default 50. Fetching is by polling, so throughput per replica
	// is bounded by about Workers per FetchCooldown (100ms).
	Workers int
	// PollInterval is how often idle workers look for new jobs. database/sql
	// offers no LISTEN, so this bounds the delay between commit and send;
	// default 500ms.
	PollInterval time.Duration
	// RescueAfter is how long a job may stay "running" before it is
	// considered orphaned by a crashed replica and retried; default 45s. It
	// must exceed the attempt timeouts of the notify, events and seal
	// queues (Notify.SendTimeout, Events.Timeout, Seal.Timeout): a live
	// attempt has ended (its context cancelled) before the rescuer may touch
	// its job, so no job runs twice at once. A cron run may take longer
	// (Cron.Timeout); its job is rescued only after Cron.Timeout+RescueAfter.
	// River's rescuer looks every 30s, so a dead replica's job runs again
	// within RescueAfter+30s of the attempt's start, plus its retry backoff.
	RescueAfter time.Duration
	// InsertOnly builds a client that enqueues but runs no workers and no
	// schedules (e.g. a process that only serves HTTP, or
	// `esign cron run NAME`, which only needs RunNow).
	InsertOnly bool
	Notify     NotifyConfig
	Events     EventConfig // deliveries of events to the bank's callback URLs
	Seal       SealConfig  // sealing of verified signatures
	Cron       CronConfig
	Logger     *slog.Logger
	// Tracer, when set, carries the trace context of whoever enqueues a
	// job into its metadata and makes a span of each attempt.
	Tracer trace.TracerProvider
	// Metrics, when set, counts the attempts of the jobs this queue works
	// (esign_job_attempts_total{kind,outcome}).
	Metrics *metrics.Registry
}

// NotifyConfig tunes notification delivery.
type NotifyConfig struct {
	// MaxAttempts for a notification; default 12 (about 3½ hours with the
	// default backoff). Messages carrying a one-time code use CodeMaxAttempts.
	MaxAttempts int
	// CodeMaxAttempts for 2FA and association codes, which are useless
	// after a few minutes; default 5.
	CodeMaxAttempts int
	// BackoffBase and BackoffMax shape the retry delay base·2^(attempt−1),
	// capped at max, ±10 % jitter; defaults 10s and 30m.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// RateLimits per channel and recipient, e.g. {SMS: {N: 5, Per: time.Hour}}.
	// A notification over the limit is not sent; it is recorded as
	// rate_limited and its job cancelled.
	RateLimits map[notify.Channel]notify.Limit
	// SendTimeout bounds one delivery attempt; default 30s.
	SendTimeout time.Duration
}

// Queue is the job queue of one process: it enqueues in the caller's
// transaction and, unless InsertOnly, works notifications and cron jobs.
type Queue struct {
	db     *sql.DB
	cfg    Config
	deps   Deps
	client *river.Client[*sql.Tx]
	log    *slog.Logger
	now    func() time.Time
	crons  map[string]cronEntry

	started atomic.Int64       // UnixNano of Start: the base of ScheduleStates before a first run
	stop    context.CancelFunc // ends the schedule loops
	loops   sync.WaitGroup
}

// Deps are the collaborators of a Queue. Senders that are nil make
// notifications on their channel fail permanently (recorded, not retried).
type Deps struct {
	Renderer *notify.Renderer
	SMS      SMSSender
	Email    EmailSender
	Push     PushSender
	Limiter  notify.Limiter // nil: no rate limits
	Log      LogStore       // required when working notifications
	Runs     RunStore       // required when running cron jobs

	Offers    OfferExpirer
	Documents DocumentDeleter
	Orphans   OrphanSweeper  // nil: no sweep of unreferenced files
	Archive   ArchiveRenewer // nil: ArchiveRenewal fails (no TSA or document store in this process)
	URLs      URLDeleter
	Audit     AuditAnchorer  // nil: AuditAnchor runs fail
	Events    EventDeliverer // nil: this process does not deliver events
	Sealer    Sealer         // nil: this process does not seal

	Now func() time.Time // default time.Now
}

// Migrate creates or upgrades River's own tables.
func Migrate(ctx context.Context, db *sql.DB, d Dialect) error {
	var err error
	switch d {
	case SQLite:
		var m *rivermigrate.Migrator[*sql.Tx]
		if m, err = rivermigrate.New(riversqlite.New(db), nil); err == nil {
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		}
	case Postgres:
		var m *rivermigrate.Migrator[*sql.Tx]
		if m, err = rivermigrate.New(riverdatabasesql.New(db), nil); err == nil {
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		}
	default:
		return esign.Errorf("jobs.Migrate", esign.Invalid, "unknown dialect %q", d)
	}
	if err != nil {
		return fmt.Errorf("jobs: migrate river tables: %w", err)
	}
	return nil
}

// New builds a Queue on db (which must have River's tables, see Migrate).
// On SQLite the pool should hold one connection (db.SetMaxOpenConns(1)), as
// River's driver recommends. Call Start to begin working.
func New(db *sql.DB, cfg Config, deps Deps) (*Queue, error) {
	const op = "jobs.New"
	if cfg.Workers <= 0 {
		cfg.Workers = 50
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 500 * time.Millisecond
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = 45 * time.Second
	}
	n := &cfg.Notify
	n.MaxAttempts = cmpOr(n.MaxAttempts, 12)
	n.CodeMaxAttempts = cmpOr(n.CodeMaxAttempts, 5)
	n.BackoffBase = cmpOr(n.BackoffBase, 10*time.Second)
	n.BackoffMax = cmpOr(n.BackoffMax, 30*time.Minute)
	n.SendTimeout = cmpOr(n.SendTimeout, 30*time.Second)
	cfg.Cron.Timeout = cmpOr(cfg.Cron.Timeout, 15*time.Minute)
	cfg.Cron.LateAfter = cmpOr(cfg.Cron.LateAfter, time.Minute)
	if !cfg.InsertOnly && (cfg.RescueAfter <= n.SendTimeout ||
		(deps.Events != nil && cfg.RescueAfter <= cfg.Events.withDefaults().Timeout) ||
		(deps.Sealer != nil && cfg.RescueAfter <= cfg.Seal.withDefaults().Timeout)) {
		return nil, esign.E(op, esign.Invalid, "jobs: RescueAfter must exceed Notify.SendTimeout, Events.Timeout and Seal.Timeout")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	q := &Queue{cfg: cfg, deps: deps, log: cfg.Logger, now: deps.Now, db: db}

	rc := &river.Config{
		ID:                   cfg.ID,
		Logger:               cfg.Logger,
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        min(100*time.Millisecond, cfg.PollInterval),
		RescueStuckJobsAfter: cfg.RescueAfter,
		JobTimeout:           n.SendTimeout,
		MaxAttempts:          n.MaxAttempts,
	}
	if cfg.Tracer != nil {
		rc.Middleware = append(rc.Middleware, &traceMiddleware{tracer: cfg.Tracer.Tracer("esign/internal/jobs")})
	}
	if cfg.Metrics != nil && !cfg.InsertOnly {
		rc.Middleware = append(rc.Middleware, newMetricsMiddleware(cfg.Metrics, []string{notifyArgs{}.Kind(), cronArgs{}.Kind(), eventArgs{}.Kind(), sealArgs{}.Kind()}))
	}
	if !cfg.InsertOnly {
		if deps.Log == nil || deps.Renderer == nil {
			return nil, esign.E(op, esign.Invalid, "jobs: a worker needs Deps.Log and Deps.Renderer")
		}
		workers := river.NewWorkers()
		if err := river.AddWorkerSafely(workers, &notifyWorker{q: q}); err != nil {
			return nil, fmt.Errorf("jobs: register notify worker: %w", err)
		}
		if err := river.AddWorkerSafely(workers, &cronWorker{q: q}); err != nil {
			return nil, fmt.Errorf("jobs: register cron worker: %w", err)
		}
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{
			QueueNotify: {MaxWorkers: cfg.Workers},
			// Cron runs come by the minute or from an operator: they need
			// not be looked for every PollInterval. At the default 100ms
			// that saves 10 of the about 40 idle queries a second of each
			// process that runs workers (docs/performance.md, "oss CPU").
			QueueCron: {MaxWorkers: 1, FetchPollInterval: max(cfg.PollInterval, min(time.Second, 10*cfg.PollInterval))},
		}
		if err := q.addEventWorker(workers, rc.Queues); err != nil {
			return nil, err
		}
		if err := q.addSealWorker(workers, rc.Queues); err != nil {
			return nil, err
		}
	}
	if err := q.setupCron(); err != nil {
		return nil, err
	}
	var err error
	switch cfg.Dialect {
	case SQLite:
		q.client, err = river.NewClient(riversqlite.New(db), rc)
	case Postgres:
		q.client, err = river.NewClient(riverdatabasesql.New(db), rc)
	default:
		return nil, esign.Errorf(op, esign.Invalid, "jobs: unknown dialect %q", cfg.Dialect)
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: river client: %w", err)
	}
	return q, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Start begins working jobs and, unless Cron.Disabled, enqueuing the cron
// schedules' slots (see startSchedules). It returns once started; work
// stops when ctx is cancelled or Stop is called.
func (q *Queue) Start(ctx context.Context) error {
	q.started.Store(q.now().UnixNano())
	if q.cfg.InsertOnly {
		return nil
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	q.startSchedules(ctx)
	return nil
}

// Stop stops fetching new jobs and waits for running ones until ctx is done,
// then cancels them (they are retried later by a live replica).
func (q *Queue) Stop(ctx context.Context) error {
	if q.cfg.InsertOnly {
		return nil
	}
	if q.stop != nil {
		q.stop()
		q.loops.Wait()
	}
	err := q.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		hard, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = q.client.StopAndCancel(hard)
	}
	if err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

// JobInfo is what operators see of a job.
type JobInfo struct {
	ID          int64
	Kind        string // "notify" or "cron"
	Queue       string
	State       string // available, scheduled, running, retryable, completed, cancelled, discarded
	Attempt     int
	MaxAttempts int
	Errors      []string // one per failed attempt, oldest first
	Summary     string   // what the job is about, personal data masked
	CreatedAt   time.Time
	ScheduledAt time.Time
	FinalizedAt time.Time
}

// JobFilter selects jobs for Jobs.
type JobFilter struct {
	Kind   string   // "notify", "cron" or empty
	States []string // empty: all
	Limit  int      // default 100, at most 1000
}

// Job returns one job by id.
func (q *Queue) Job(ctx context.Context, id int64) (JobInfo, error) {
	row, err := q.client.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return JobInfo{}, esign.E("jobs.Job", esign.NotFound, "job not found")
	}
	if err != nil {
		return JobInfo{}, fmt.Errorf("jobs: get job %d: %w", id, err)
	}
	return jobInfo(row), nil
}

// Jobs lists jobs, newest first.
func (q *Queue) Jobs(ctx context.Context, f JobFilter) ([]JobInfo, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	p := river.NewJobListParams().First(min(limit, 1000)).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	if f.Kind != "" {
		p = p.Kinds(f.Kind)
	}
	if len(f.States) > 0 {
		states := make([]rivertype.JobState, len(f.States))
		for i, s := range f.States {
			states[i] = rivertype.JobState(s)
		}
		p = p.States(states...)
	}
	res, err := q.client.JobList(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("jobs: list: %w", err)
	}
	out := make([]JobInfo, len(res.Jobs))
	for i, row := range res.Jobs {
		out[i] = jobInfo(row)
	}
	return out, nil
}

// RetryJob makes a job available to run again at once (River's JobRetry):
// a failed (discarded) or cancelled job gets one more attempt, a retrying
// one runs now instead of at its backoff. A running job is left alone.
// Errors: NotFound.
func (q *Queue) RetryJob(ctx context.Context, id int64) (JobInfo, error) {
	row, err := q.client.JobRetry(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return JobInfo{}, esign.E("jobs.RetryJob", esign.NotFound, "job not found")
	}
	if err != nil {
		return JobInfo{}, fmt.Errorf("jobs: retry job %d: %w", id, err)
	}
	return jobInfo(row), nil
}

// CancelJob cancels a job that has not finished (River's JobCancel): it
// is not attempted again; a running job is cancelled through its context.
// A finished job stays as it is. Errors: NotFound.
func (q *Queue) CancelJob(ctx context.Context, id int64) (JobInfo, error) {
	row, err := q.client.JobCancel(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return JobInfo{}, esign.E("jobs.CancelJob", esign.NotFound, "job not found")
	}
	if err != nil {
		return JobInfo{}, fmt.Errorf("jobs: cancel job %d: %w", id, err)
	}
	return jobInfo(row), nil
}

func jobInfo(row *rivertype.JobRow) JobInfo {
	ji := JobInfo{
		ID: row.ID, Kind: row.Kind, Queue: row.Queue, State: string(row.State),
		Attempt: row.Attempt, MaxAttempts: row.MaxAttempts,
		CreatedAt: row.CreatedAt, ScheduledAt: row.ScheduledAt,
		Summary: summarize(row.Kind, row.EncodedArgs),
	}
	if row.FinalizedAt != nil {
		ji.FinalizedAt = *row.FinalizedAt
	}
	for _, e := range row.Errors {
		ji.Errors = append(ji.Errors, e.Error)
	}
	return ji
}

// insert adds a job inside tx, or on its own when tx is nil.
func (q *Queue) insert(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	if tx != nil {
		return q.client.InsertTx(ctx, tx, args, opts)
	}
	return q.client.Insert(ctx, args, opts)
}

// cancelInvalid ends a job without a retry when err is of kind Invalid
// (what it works on no longer exists or is in the wrong state); any other
// error retries.
func cancelInvalid(err error) error {
	if esign.IsKind(err, esign.Invalid) {
		return river.JobCancel(err)
	}
	return err
}

// retryAt is when attempt's retry runs: backoff from now.
func (q *Queue) retryAt(attempt int, base, max time.Duration) time.Time {
	return q.now().Add(backoff(attempt, base, max))
}
