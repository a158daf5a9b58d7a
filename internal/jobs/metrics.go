package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"esign/internal/metrics"
)

// Outcomes of a job's attempt, the outcome label of
// esign_job_attempts_total.
const (
	OutcomeOK        = "ok"        // the job is done
	OutcomeRetry     = "retry"     // failed; it runs again after its backoff
	OutcomeDiscarded = "discarded" // failed on its last attempt: given up for good
	OutcomeCancelled = "cancelled" // ended without a retry (what it worked on is gone or invalid)
)

// metricsMiddleware counts the attempts of every job by kind and outcome.
type metricsMiddleware struct {
	river.MiddlewareDefaults
	attempts *metrics.CounterVec
}

var _ rivertype.WorkerMiddleware = (*metricsMiddleware)(nil)

func newMetricsMiddleware(reg *metrics.Registry, kinds []string) *metricsMiddleware {
	m := &metricsMiddleware{attempts: reg.Counter("esign_job_attempts_total",
		"Attempts of jobs by kind (seal, notify, event, cron) and outcome (ok, retry, discarded, cancelled).", "kind", "outcome")}
	for _, k := range kinds { // every series from the start: rate() and alerts see zeros, not gaps
		for _, o := range []string{OutcomeOK, OutcomeRetry, OutcomeDiscarded, OutcomeCancelled} {
			m.attempts.Add(0, k, o)
		}
	}
	return m
}

func (m *metricsMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	err := doInner(ctx)
	m.attempts.Inc(job.Kind, outcome(job, err))
	return err
}

func outcome(job *rivertype.JobRow, err error) string {
	var cancel *rivertype.JobCancelError
	switch {
	case err == nil:
		return OutcomeOK
	case errors.As(err, &cancel):
		return OutcomeCancelled
	case job.Attempt >= job.MaxAttempts:
		return OutcomeDiscarded
	}
	return OutcomeRetry
}

// Depth is the number of jobs of a queue in a state.
type Depth struct {
	Queue, State string
	Jobs         int64
}

// DepthStates are the states Depths counts: jobs waiting to run or running.
var DepthStates = []string{"available", "scheduled", "retryable", "running"}

// Depths counts the jobs of every queue (QueueNotify, QueueCron, QueueSeal,
// QueueEvents) in each of DepthStates, zeros included.
func (q *Queue) Depths(ctx context.Context) ([]Depth, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT queue, state, count(*) FROM river_job
		WHERE state IN ('available', 'scheduled', 'retryable', 'running') GROUP BY queue, state`)
	if err != nil {
		return nil, fmt.Errorf("jobs: count jobs: %w", err)
	}
	defer rows.Close()
	n := map[[2]string]int64{}
	for rows.Next() {
		var queue, state string
		var c int64
		if err := rows.Scan(&queue, &state, &c); err != nil {
			return nil, fmt.Errorf("jobs: count jobs: %w", err)
		}
		n[[2]string{queue, state}] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs: count jobs: %w", err)
	}
	var out []Depth
	for _, queue := range []string{QueueNotify, QueueCron, QueueSeal, QueueEvents} {
		for _, state := range DepthStates {
			out = append(out, Depth{Queue: queue, State: state, Jobs: n[[2]string{queue, state}]})
		}
	}
	return out, nil
}
