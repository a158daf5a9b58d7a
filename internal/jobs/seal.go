package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"esign/internal/esign"
)

// QueueSeal is the River queue of Phase 5: sealing the documents of a
// verified signature into the contract (docs/protocol.md).
const QueueSeal = "seal"

// Sealer seals a verified signature's documents into its contract. An
// error makes the job retry with backoff; an error of kind Invalid (the
// signature is not waiting for its seal) ends it without a retry.
type Sealer interface {
	SealSignature(ctx context.Context, signatureID string) error
}

// SealConfig configures sealing jobs.
type SealConfig struct {
	Workers     int           // concurrent sealings per replica; default 8
	MaxAttempts int           // default 25 (with the backoff below: about a day)
	BackoffBase time.Duration // default 2s
	BackoffMax  time.Duration // default 1h
	Timeout     time.Duration // one attempt; default 30s (must stay below Config.RescueAfter)
}

func (c SealConfig) withDefaults() SealConfig {
	c.Workers = cmpOr(c.Workers, 8)
	c.MaxAttempts = cmpOr(c.MaxAttempts, 25)
	c.BackoffBase = cmpOr(c.BackoffBase, 2*time.Second)
	c.BackoffMax = cmpOr(c.BackoffMax, time.Hour)
	c.Timeout = cmpOr(c.Timeout, 30*time.Second)
	return c
}

type sealArgs struct {
	SignatureID string `json:"signature_id" river:"unique"`
}

func (sealArgs) Kind() string { return "seal" }

// EnqueueSeal schedules the sealing of the signature inside tx (the one
// that records the verified M2), so a verified signature always gets its
// seal. Enqueuing the same signature twice creates one job.
func (q *Queue) EnqueueSeal(ctx context.Context, tx *sql.Tx, signatureID string) (int64, error) {
	if signatureID == "" {
		return 0, esign.E("jobs.EnqueueSeal", esign.Invalid, "a seal job needs a signature id")
	}
	opts := &river.InsertOpts{Queue: QueueSeal, MaxAttempts: q.cfg.Seal.withDefaults().MaxAttempts, Priority: 1,
		UniqueOpts: river.UniqueOpts{ByArgs: true}}
	res, err := q.insert(ctx, tx, sealArgs{SignatureID: signatureID}, opts)
	if err != nil {
		return 0, fmt.Errorf("jobs: enqueue seal of %s: %w", signatureID, err)
	}
	return res.Job.ID, nil
}

type sealWorker struct {
	river.WorkerDefaults[sealArgs]
	q *Queue
}

func (w *sealWorker) Work(ctx context.Context, job *river.Job[sealArgs]) error {
	if w.q.deps.Sealer == nil { // registered for rescues only; the queue is not worked here
		return esign.E("jobs.seal", esign.Unavailable, "this process does not seal")
	}
	err := w.q.deps.Sealer.SealSignature(ctx, job.Args.SignatureID)
	// A key store that said when to come back (a remote signing service's
	// 429 with Retry-After) is tried again then rather than after the
	// backoff; snoozing does not spend an attempt, so it is done at most
	// MaxAttempts times (River's "snoozes" metadata) before the ordinary
	// retries take over.
	if d := esign.ErrorRetryAfter(err); d > 0 && !esign.IsKind(err, esign.Invalid) && snoozes(job.Metadata) < w.q.cfg.Seal.withDefaults().MaxAttempts {
		return river.JobSnooze(d)
	}
	return cancelInvalid(err)
}

// snoozes is how often River snoozed the job (its metadata's "snoozes").
func snoozes(metadata []byte) int {
	var m struct {
		Snoozes int `json:"snoozes"`
	}
	json.Unmarshal(metadata, &m)
	return m.Snoozes
}

func (w *sealWorker) NextRetry(job *river.Job[sealArgs]) time.Time {
	c := w.q.cfg.Seal.withDefaults()
	return w.q.retryAt(job.Attempt, c.BackoffBase, c.BackoffMax)
}

func (w *sealWorker) Timeout(*river.Job[sealArgs]) time.Duration {
	return w.q.cfg.Seal.withDefaults().Timeout
}

// addSealWorker registers the seal worker, and works the seal queue when
// the process seals.
//
// Every client registers the worker, also one without a Sealer that does
// not work the seal queue: River's leader rescues the jobs a dead process
// left running, and it discards a job whose kind its client does not know
// ("unhandled job kind") — a lost seal when a cron process leads.
func (q *Queue) addSealWorker(workers *river.Workers, queues map[string]river.QueueConfig) error {
	if err := river.AddWorkerSafely(workers, &sealWorker{q: q}); err != nil {
		return fmt.Errorf("jobs: register seal worker: %w", err)
	}
	if q.deps.Sealer != nil {
		queues[QueueSeal] = river.QueueConfig{MaxWorkers: q.cfg.Seal.withDefaults().Workers}
	}
	return nil
}
