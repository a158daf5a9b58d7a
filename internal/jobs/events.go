package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"esign/internal/esign"
)

// QueueEvents is the River queue of event deliveries to the bank's
// callback URLs (docs/webhook-api.md, "Events out").
const QueueEvents = "events"

// EventDeliverer posts one stored event to one callback URL. An error makes
// the job retry with backoff; an error of kind Invalid (the event or the
// delivery no longer exists) ends it without a retry.
type EventDeliverer interface {
	DeliverEvent(ctx context.Context, eventID, url string, attempt int) error
}

// EventConfig configures event deliveries.
type EventConfig struct {
	Workers     int           // default 10
	MaxAttempts int           // default 25 (with the backoff below: about four days)
	BackoffBase time.Duration // default 10s
	BackoffMax  time.Duration // default 4h
	Timeout     time.Duration // one attempt; default 30s (must stay below Config.RescueAfter)
}

func (c EventConfig) withDefaults() EventConfig {
	c.Workers = cmpOr(c.Workers, 10)
	c.MaxAttempts = cmpOr(c.MaxAttempts, 25)
	c.BackoffBase = cmpOr(c.BackoffBase, 10*time.Second)
	c.BackoffMax = cmpOr(c.BackoffMax, 4*time.Hour)
	c.Timeout = cmpOr(c.Timeout, 30*time.Second)
	return c
}

type eventArgs struct {
	EventID string `json:"event_id" river:"unique"`
	URL     string `json:"url" river:"unique"`
}

func (eventArgs) Kind() string { return "event" }

// EnqueueEvent schedules the delivery of the event to url inside tx (nil:
// on its own). Enqueuing the same event and URL twice creates one job.
func (q *Queue) EnqueueEvent(ctx context.Context, tx *sql.Tx, eventID, url string) (int64, error) {
	if eventID == "" || url == "" {
		return 0, esign.E("jobs.EnqueueEvent", esign.Invalid, "an event delivery needs an event id and a URL")
	}
	opts := &river.InsertOpts{Queue: QueueEvents, MaxAttempts: q.cfg.Events.withDefaults().MaxAttempts, Priority: 3,
		UniqueOpts: river.UniqueOpts{ByArgs: true}}
	res, err := q.insert(ctx, tx, eventArgs{EventID: eventID, URL: url}, opts)
	if err != nil {
		return 0, fmt.Errorf("jobs: enqueue event %s: %w", eventID, err)
	}
	return res.Job.ID, nil
}

type eventWorker struct {
	river.WorkerDefaults[eventArgs]
	q *Queue
}

func (w *eventWorker) Work(ctx context.Context, job *river.Job[eventArgs]) error {
	if w.q.deps.Events == nil { // registered for rescues only; the queue is not worked here
		return esign.E("jobs.events", esign.Unavailable, "this process does not deliver events")
	}
	err := w.q.deps.Events.DeliverEvent(ctx, job.Args.EventID, job.Args.URL, job.Attempt)
	return cancelInvalid(err)
}

func (w *eventWorker) NextRetry(job *river.Job[eventArgs]) time.Time {
	c := w.q.cfg.Events.withDefaults()
	return w.q.retryAt(job.Attempt, c.BackoffBase, c.BackoffMax)
}

func (w *eventWorker) Timeout(*river.Job[eventArgs]) time.Duration {
	return w.q.cfg.Events.withDefaults().Timeout
}

// addEventWorker registers the event worker when the process delivers
// events.
//
// Every client registers the worker, also one that does not work the
// events queue, so that River's leader can rescue the queue's jobs (see
// addSealWorker).
func (q *Queue) addEventWorker(workers *river.Workers, queues map[string]river.QueueConfig) error {
	if err := river.AddWorkerSafely(workers, &eventWorker{q: q}); err != nil {
		return fmt.Errorf("jobs: register event worker: %w", err)
	}
	if q.deps.Events != nil {
		queues[QueueEvents] = river.QueueConfig{MaxWorkers: q.cfg.Events.withDefaults().Workers}
	}
	return nil
}
