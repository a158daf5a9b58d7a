package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"esign/internal/esign"
	"esign/internal/notify"
)

// The cron jobs of the spec.
const (
	OfferTimeout     = "OfferTimeout"     // revokes offers past their deadline and tells the customers
	DeleteDocuments  = "DeleteDocuments"  // deletes documents past the retention period
	DeleteExpiredURL = "DeleteExpiredURL" // removes expired short URLs
	AuditAnchor      = "AuditAnchor"      // time-stamps the audit chain's head (docs/evidence.md)
	ArchiveRenewal   = "ArchiveRenewal"   // renews the document time-stamps of sealed contracts (B-LTA)
)

// DefaultSchedules are the spec's schedules, in CronConfig.Location.
var DefaultSchedules = map[string]string{
	OfferTimeout:     "0 8 * * 1", // Monday 08:00
	DeleteDocuments:  "0 6 * * *", // daily 06:00
	DeleteExpiredURL: "0 3 * * *", // daily 03:00
	AuditAnchor:      "0 * * * *", // hourly
	ArchiveRenewal:   "0 4 * * *", // daily 04:00
}

// CronNames lists the cron jobs in a fixed order.
func CronNames() []string {
	return []string{OfferTimeout, DeleteDocuments, DeleteExpiredURL, AuditAnchor, ArchiveRenewal}
}

// CronConfig configures the cron jobs.
type CronConfig struct {
	// Schedules overrides DefaultSchedules per job (see ParseSchedule); the
	// value "off" disables a job.
	Schedules map[string]string
	// Location of the schedules; default time.Local.
	Location *time.Location
	// DocumentRetention: documents of offers that were never signed are
	// deleted this long after the offer was created; default 90 days.
	DocumentRetention time.Duration
	// ContractRetention: signed contracts are deleted this long after
	// signing; 0 (the default) keeps them forever.
	ContractRetention time.Duration
	// Timeout bounds one run; default 15m.
	Timeout time.Duration
	// LateAfter is how long after its slot a run may start and still count
	// as on time (ScheduleStates); a slot that passed less than LateAfter
	// before Start is still enqueued. Default 1m.
	LateAfter time.Duration
	// Disabled turns off scheduling on this replica: it enqueues no slots
	// (it may still work the cron queue, and RunNow works).
	Disabled bool
}

// ExpiredOffer is an offer that OfferTimeout revoked, with whom to tell.
type ExpiredOffer struct {
	OfferID      string
	Title        string
	CustomerName string
	Lang         notify.Lang
	ExpiresAt    time.Time
	Recipients   []Recipient
}

// Recipient is one address of a customer.
type Recipient struct {
	Channel notify.Channel
	To      string
}

// OfferExpirer revokes offers past their deadline. ExpireDueOffers marks every
// open offer whose deadline is before now as expired, in one or more
// transactions, and inside each transaction calls enqueue with the offers
// it changed, so that the notifications commit together with the change.
// It returns the number of offers expired.
type OfferExpirer interface {
	ExpireDueOffers(ctx context.Context, now time.Time, enqueue func(ctx context.Context, tx *sql.Tx, offers []ExpiredOffer) error) (int, error)
}

// DocumentDeleter deletes stored documents past their retention: documents
// of offers never signed that were created before unsignedBefore, and signed
// contracts signed before signedBefore (zero: keep every signed contract).
// It returns the number of documents deleted.
type DocumentDeleter interface {
	DeleteDocuments(ctx context.Context, unsignedBefore, signedBefore time.Time) (int64, error)
}

// OrphanSweeper deletes stored files modified in [from, to) that no row
// names: what a seal attempt left when it was killed between storing its
// files and committing, or kept on a commit whose outcome was unknown and
// that did not commit. DeleteDocuments runs it after the retention.
type OrphanSweeper interface {
	SweepUnreferenced(ctx context.Context, from, to time.Time) (int64, error)
}

// The window of files the sweep looks at: older than OrphanGrace (no seal
// attempt takes a day) and younger than OrphanGrace+OrphanWindow (older
// ones were looked at by the runs of the past week: the walk's queries
// stay bounded by a week of writes).
const (
	OrphanGrace  = 24 * time.Hour
	OrphanWindow = 7 * 24 * time.Hour
)

// ExpiredLinkGrace is how long DeleteExpiredURL keeps a short URL after
// it expired: a customer whose link expired while the offer is still open
// can ask for a fresh one with it (docs/customer-ui.md).
const ExpiredLinkGrace = 30 * 24 * time.Hour

// URLDeleter removes short URLs (Shortener) that expired before now and
// returns how many.
type URLDeleter interface {
	DeleteExpiredShorteners(ctx context.Context, now time.Time) (int64, error)
}

// AuditAnchorer time-stamps the audit chain's head (auditchain.Anchor)
// and says what it did, e.g. "anchored seq 42" or "the head is anchored
// already".
type AuditAnchorer interface {
	AnchorAudit(ctx context.Context) (string, error)
}

// ArchiveRenewer renews the archives of sealed contracts (ArchiveRenewal):
// the B-LTA contracts whose newest document time-stamp's TSA certificates
// expire within the renewal margin, or use weak algorithms, get its
// validation data and a new document time-stamp (docs/pades.md, "Archive
// renewal"). logf writes a line to the run's log.
type ArchiveRenewer interface {
	RenewArchives(ctx context.Context, logf func(level slog.Level, format string, args ...any)) (RenewalResult, error)
}

// RenewalResult counts what a renewal run did.
type RenewalResult struct {
	Checked int // contracts whose archive expiry was unknown or within the margin
	Renewed int // contracts renewed
	Failed  int // contracts that could not be renewed (logged)
}

// Run is one run of a cron job: a BackgroundProcess row.
type Run struct {
	ID        string
	Name      string
	Trigger   string    // "schedule" or "manual"
	Slot      time.Time // the schedule slot; zero for manual runs
	Node      string    // the replica that ran it
	StartedAt time.Time
	EndedAt   time.Time
	Status    string // running, succeeded, failed
	Result    string // e.g. "expired 3 offers"
	Error     string
}

// RunStore records cron runs (BackgroundProcess) and their log lines
// (BackgroundProcessLog). LastScheduledRun returns the newest run of the
// named job with trigger "schedule" (ok false: none).
type RunStore interface {
	BeginRun(ctx context.Context, r Run) (id string, err error)
	LogRun(ctx context.Context, runID string, level slog.Level, msg string, at time.Time) error
	EndRun(ctx context.Context, r Run) error
	LastScheduledRun(ctx context.Context, name string) (r Run, ok bool, err error)
}

type cronArgs struct {
	Name string `json:"name"`
}

func (cronArgs) Kind() string { return "cron" }

type cronEntry struct {
	name     string
	schedule Schedule
	period   time.Duration // the unique-per-slot guard's period (minGap)
	run      func(ctx context.Context, rec *runLog) (string, error)
}

// setupCron parses the schedules. The slots are enqueued by startSchedules
// on every replica that runs schedules, not by River's leader: each insert
// is unique by (name, slot) — the slot is the job's scheduled time, rounded
// down to the shortest gap between two slots — so the database's unique
// index lets exactly one insert of a slot through however many replicas
// try, and no slot depends on which process holds River's leadership.
func (q *Queue) setupCron() error {
	c := &q.cfg.Cron
	if c.Location == nil {
		c.Location = time.Local
	}
	c.DocumentRetention = cmpOr(c.DocumentRetention, 90*24*time.Hour)
	q.crons = map[string]cronEntry{
		OfferTimeout:     {name: OfferTimeout, run: q.runOfferTimeout},
		DeleteDocuments:  {name: DeleteDocuments, run: q.runDeleteDocuments},
		DeleteExpiredURL: {name: DeleteExpiredURL, run: q.runDeleteExpiredURL},
		AuditAnchor:      {name: AuditAnchor, run: q.runAuditAnchor},
		ArchiveRenewal:   {name: ArchiveRenewal, run: q.runArchiveRenewal},
	}
	for name := range c.Schedules {
		if _, ok := q.crons[name]; !ok {
			return esign.Errorf("jobs.setupCron", esign.Invalid, "unknown cron job %q (known: %s)", name, strings.Join(CronNames(), ", "))
		}
	}
	for _, name := range CronNames() {
		spec := DefaultSchedules[name]
		if s, ok := c.Schedules[name]; ok {
			spec = s
		}
		if spec == "off" {
			continue
		}
		sched, err := ParseSchedule(spec, c.Location)
		if err != nil {
			return esign.E("jobs.setupCron", esign.Invalid, fmt.Sprintf("cron %s", name), err)
		}
		e := q.crons[name]
		e.schedule, e.period = sched, minGap(sched, q.now())
		q.crons[name] = e
	}
	return nil
}

// startSchedules starts one loop per enabled schedule unless scheduling is
// disabled on this replica. Stop ends them.
func (q *Queue) startSchedules(ctx context.Context) {
	if q.cfg.Cron.Disabled {
		return
	}
	ctx, q.stop = context.WithCancel(ctx)
	for _, name := range CronNames() {
		if e := q.crons[name]; e.schedule != nil {
			q.loops.Go(func() { q.scheduleLoop(ctx, e) })
		}
	}
}

// scheduleLoop enqueues each slot of e when it comes. Of slots already
// past — at start, or after the process was paused — only the newest is
// enqueued, and only if it passed less than LateAfter ago (a restart just
// after a slot); older ones are skipped.
func (q *Queue) scheduleLoop(ctx context.Context, e cronEntry) {
	late := q.cfg.Cron.LateAfter
	slot := e.schedule.Next(q.now().Add(-late))
	for !slot.IsZero() {
		now := q.now()
		if slot = lastDue(e.schedule, slot, now); now.Sub(slot) > late {
			slot = e.schedule.Next(now)
			continue
		}
		if wait := slot.Sub(now); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		q.enqueueSlot(ctx, e, slot)
		slot = e.schedule.Next(slot)
	}
}

// lastDue returns the newest slot of s from slot up to now, or slot itself
// while it is still ahead.
func lastDue(s Schedule, slot, now time.Time) time.Time {
	for {
		next := s.Next(slot)
		if next.IsZero() || next.After(now) {
			return slot
		}
		slot = next
	}
}

// enqueueSlot inserts the job of one slot, retrying a failed insert (the
// database is down) with backoff until the slot is LateAfter old. A slot
// another replica inserted first is refused as a duplicate, which is fine.
func (q *Queue) enqueueSlot(ctx context.Context, e cronEntry, slot time.Time) {
	opts := cronInsertOpts(e.period)
	opts.ScheduledAt = slot
	for attempt := 1; ; attempt++ {
		_, err := q.client.Insert(ctx, cronArgs{Name: e.name}, opts)
		if err == nil || ctx.Err() != nil {
			return
		}
		if q.now().After(slot.Add(q.cfg.Cron.LateAfter)) {
			q.log.ErrorContext(ctx, "cron: slot not enqueued", "job", e.name, "slot", slot, "error", err)
			return
		}
		q.log.WarnContext(ctx, "cron: enqueue slot", "job", e.name, "slot", slot, "attempt", attempt, "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff(attempt, 200*time.Millisecond, 5*time.Second)):
		}
	}
}

// cronInsertOpts makes a periodic insert unique per (name, slot): River
// rounds the job's scheduled time (the slot) down to a multiple of period.
func cronInsertOpts(period time.Duration) *river.InsertOpts {
	return &river.InsertOpts{
		Queue:       QueueCron,
		MaxAttempts: cronMaxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByPeriod: period},
	}
}

// ScheduleState is what readiness and metrics show of one schedule.
type ScheduleState struct {
	Name    string
	LastRun time.Time // start of the newest scheduled run; zero: none recorded
	DueBy   time.Time // the schedule is overdue once this passes without a new run
	Overdue bool      // two slots passed since the last run (or since Start) without a run
}

// ScheduleStates reports every enabled schedule, in CronNames order. A
// schedule is overdue when the second slot after its last scheduled run —
// or after Start, if that is later — is more than LateAfter past: two
// periods went by and nothing ran.
func (q *Queue) ScheduleStates(ctx context.Context) ([]ScheduleState, error) {
	if q.deps.Runs == nil {
		return nil, esign.E("jobs.ScheduleStates", esign.Invalid, "jobs: no RunStore configured")
	}
	now := q.now()
	var out []ScheduleState
	for _, name := range CronNames() {
		e := q.crons[name]
		if e.schedule == nil {
			continue
		}
		last, ok, err := q.deps.Runs.LastScheduledRun(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("jobs: last run of %s: %w", name, err)
		}
		st := ScheduleState{Name: name}
		base := now
		if ns := q.started.Load(); ns != 0 {
			base = time.Unix(0, ns)
		}
		if ok {
			st.LastRun = last.StartedAt
			ran := last.Slot
			if ran.IsZero() {
				ran = last.StartedAt
			}
			if ran.After(base) {
				base = ran
			}
		}
		if second := e.schedule.Next(e.schedule.Next(base)); !second.IsZero() {
			st.DueBy = second.Add(q.cfg.Cron.LateAfter)
			st.Overdue = now.After(st.DueBy)
		}
		out = append(out, st)
	}
	return out, nil
}

type cronWorker struct {
	river.WorkerDefaults[cronArgs]
	q *Queue
}

// Timeout is River's bound of a cron attempt and so also when the rescuer
// may take a cron job left running: Cron.Timeout, which Work enforces
// itself, plus RescueAfter, so that a live run has ended and recorded its
// outcome before its job can be rescued.
func (w *cronWorker) Timeout(*river.Job[cronArgs]) time.Duration {
	return w.q.cfg.Cron.Timeout + w.q.cfg.RescueAfter
}

// NextRetry retries a failed run soon — most failures are a database or
// disk that was away for seconds — doubling from cronRetryBase up to
// cronRetryMax, so that with cronMaxAttempts a slot survives an outage of
// about a minute and runs once it ends, not a minute after.
func (w *cronWorker) NextRetry(job *river.Job[cronArgs]) time.Time {
	return w.q.retryAt(job.Attempt, cronRetryBase, cronRetryMax)
}

const (
	cronRetryBase   = 2 * time.Second
	cronRetryMax    = time.Minute
	cronMaxAttempts = 6 // retries after 2, 4, 8, 16 and 32 s
)

func (w *cronWorker) Work(ctx context.Context, job *river.Job[cronArgs]) error {
	e, ok := w.q.crons[job.Args.Name]
	if !ok {
		return river.JobCancel(fmt.Errorf("unknown cron job %q", job.Args.Name))
	}
	ctx, cancel := context.WithTimeout(ctx, w.q.cfg.Cron.Timeout)
	defer cancel()
	_, err := w.q.runCron(ctx, e, "schedule", job.ScheduledAt)
	return err
}

// RunNow runs the named cron job in this process, now, outside the schedule
// (`esign cron run NAME`), and records the run with trigger "manual".
func (q *Queue) RunNow(ctx context.Context, name string) (Run, error) {
	e, ok := q.crons[name]
	if !ok {
		return Run{}, esign.Errorf("jobs.RunNow", esign.NotFound, "unknown cron job %q (known: %s)", name, strings.Join(CronNames(), ", "))
	}
	ctx, cancel := context.WithTimeout(ctx, q.cfg.Cron.Timeout)
	defer cancel()
	return q.runCron(ctx, e, "manual", time.Time{})
}

// Schedules returns the effective schedule of every enabled cron job with
// its next slot after now.
func (q *Queue) Schedules(now time.Time) map[string]time.Time {
	out := map[string]time.Time{}
	for name, e := range q.crons {
		if e.schedule != nil {
			out[name] = e.schedule.Next(now)
		}
	}
	return out
}

// runLog collects a run's log lines into the RunStore.
type runLog struct {
	q   *Queue
	id  string
	ctx context.Context
}

func (l *runLog) logf(level slog.Level, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.q.log.Log(l.ctx, level, "cron: "+msg, "run", l.id)
	if err := l.q.deps.Runs.LogRun(l.ctx, l.id, level, msg, l.q.now()); err != nil {
		l.q.log.WarnContext(l.ctx, "cron: record log line", "run", l.id, "error", err)
	}
}

func (q *Queue) runCron(ctx context.Context, e cronEntry, trigger string, slot time.Time) (Run, error) {
	if q.deps.Runs == nil {
		return Run{}, esign.E("jobs.runCron", esign.Invalid, "jobs: no RunStore configured")
	}
	r := Run{Name: e.name, Trigger: trigger, Slot: slot, Node: q.client.ID(), StartedAt: q.now(), Status: "running"}
	id, err := q.deps.Runs.BeginRun(ctx, r)
	if err != nil {
		return r, fmt.Errorf("jobs: begin run %s: %w", e.name, err)
	}
	r.ID = id
	result, runErr := e.run(ctx, &runLog{q: q, id: id, ctx: ctx})
	r.EndedAt, r.Result, r.Status = q.now(), result, "succeeded"
	if runErr != nil {
		r.Status, r.Error = "failed", runErr.Error()
	}
	// Record the end even when ctx ended, so the run does not look alive.
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := q.deps.Runs.EndRun(endCtx, r); err != nil {
		return r, errors.Join(runErr, fmt.Errorf("jobs: end run %s: %w", e.name, err))
	}
	return r, runErr
}

func (q *Queue) runOfferTimeout(ctx context.Context, l *runLog) (string, error) {
	if q.deps.Offers == nil {
		return "", errors.New("no OfferExpirer configured")
	}
	notified := 0
	n, err := q.deps.Offers.ExpireDueOffers(ctx, q.now(), func(ctx context.Context, tx *sql.Tx, offers []ExpiredOffer) error {
		for _, o := range offers {
			for _, rc := range o.Recipients {
				_, err := q.Enqueue(ctx, tx, Notification{
					Kind: notify.OfferExpired, Channel: rc.Channel, Lang: o.Lang, To: rc.To,
					Params: notify.Params{CustomerName: o.CustomerName, OfferTitle: o.Title, ExpiresAt: o.ExpiresAt},
					Data:   map[string]string{"offerId": o.OfferID},
					Key:    "offer-expired-" + o.OfferID + "-" + string(rc.Channel),
				})
				if err != nil {
					return fmt.Errorf("offer %s: %w", o.OfferID, err)
				}
				notified++
			}
		}
		return nil
	})
	if err != nil {
		l.logf(slog.LevelError, "expire offers: %v", err)
		return fmt.Sprintf("expired %d offers", n), err
	}
	l.logf(slog.LevelInfo, "expired %d offers, %d notifications enqueued", n, notified)
	return fmt.Sprintf("expired %d offers, %d notifications", n, notified), nil
}

func (q *Queue) runDeleteDocuments(ctx context.Context, l *runLog) (string, error) {
	if q.deps.Documents == nil {
		return "", errors.New("no DocumentDeleter configured")
	}
	now := q.now()
	unsignedBefore := now.Add(-q.cfg.Cron.DocumentRetention)
	var signedBefore time.Time
	if q.cfg.Cron.ContractRetention > 0 {
		signedBefore = now.Add(-q.cfg.Cron.ContractRetention)
	}
	n, err := q.deps.Documents.DeleteDocuments(ctx, unsignedBefore, signedBefore)
	if err != nil {
		l.logf(slog.LevelError, "delete documents: %v", err)
		return fmt.Sprintf("deleted %d documents", n), err
	}
	l.logf(slog.LevelInfo, "deleted %d documents (unsigned before %s, signed before %s)", n, unsignedBefore.Format(time.RFC3339), fmtTime(signedBefore))
	if q.deps.Orphans == nil {
		return fmt.Sprintf("deleted %d documents", n), nil
	}
	to := now.Add(-OrphanGrace)
	swept, err := q.deps.Orphans.SweepUnreferenced(ctx, to.Add(-OrphanWindow), to)
	if err != nil {
		l.logf(slog.LevelError, "sweep unreferenced files: %v", err)
		return fmt.Sprintf("deleted %d documents, %d unreferenced files", n, swept), err
	}
	l.logf(slog.LevelInfo, "deleted %d unreferenced files (modified %s to %s)", swept, to.Add(-OrphanWindow).Format(time.RFC3339), to.Format(time.RFC3339))
	return fmt.Sprintf("deleted %d documents, %d unreferenced files", n, swept), nil
}

func (q *Queue) runDeleteExpiredURL(ctx context.Context, l *runLog) (string, error) {
	if q.deps.URLs == nil {
		return "", errors.New("no URLDeleter configured")
	}
	n, err := q.deps.URLs.DeleteExpiredShorteners(ctx, q.now().Add(-ExpiredLinkGrace))
	if err != nil {
		l.logf(slog.LevelError, "delete expired URLs: %v", err)
		return fmt.Sprintf("deleted %d URLs", n), err
	}
	l.logf(slog.LevelInfo, "deleted %d expired short URLs", n)
	return fmt.Sprintf("deleted %d URLs", n), nil
}

func (q *Queue) runAuditAnchor(ctx context.Context, l *runLog) (string, error) {
	if q.deps.Audit == nil {
		return "", errors.New("no AuditAnchorer configured")
	}
	res, err := q.deps.Audit.AnchorAudit(ctx)
	if err != nil {
		l.logf(slog.LevelError, "anchor the audit chain: %v", err)
		return res, err
	}
	l.logf(slog.LevelInfo, "%s", res)
	return res, nil
}

func (q *Queue) runArchiveRenewal(ctx context.Context, l *runLog) (string, error) {
	if q.deps.Archive == nil {
		return "", errors.New("no ArchiveRenewer configured (archive renewal needs the document store and a TSA)")
	}
	res, err := q.deps.Archive.RenewArchives(ctx, l.logf)
	out := fmt.Sprintf("renewed %d of %d contracts checked, %d failed", res.Renewed, res.Checked, res.Failed)
	if err != nil {
		l.logf(slog.LevelError, "archive renewal: %v", err)
		return out, err
	}
	l.logf(slog.LevelInfo, "%s", out)
	return out, nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "never (kept forever)"
	}
	return t.Format(time.RFC3339)
}
