package jobs

import (
	"context"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// spanSealer records the span each seal runs in.
type spanSealer struct {
	mu    sync.Mutex
	spans map[string]trace.SpanContext
}

func (s *spanSealer) SealSignature(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spans[id] = trace.SpanContextFromContext(ctx)
	return nil
}

func (s *spanSealer) span(id string) (trace.SpanContext, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, ok := s.spans[id]
	return sc, ok
}

// TestTraceAcrossTheQueue: a seal job enqueued inside a span (oss's
// request) is worked by another process's queue in a span whose parent is
// the enqueuing one, in the same trace; a job enqueued outside any span
// starts a trace of its own.
func TestTraceAcrossTheQueue(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			db := openDB(t, d)
			ossSpans, workerSpans := tracetest.NewSpanRecorder(), tracetest.NewSpanRecorder()
			ossTP := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(ossSpans))
			workerTP := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(workerSpans))

			cfg := testConfig(d)
			cfg.InsertOnly, cfg.Tracer = true, ossTP
			enqueuer, err := New(db.DB, cfg, Deps{})
			if err != nil {
				t.Fatal(err)
			}
			s := &spanSealer{spans: map[string]trace.SpanContext{}}
			wcfg := testConfig(d)
			wcfg.Tracer = workerTP
			deps := testDeps(t, db, newRecordingSender())
			deps.Sealer = s
			startQueue(t, db, wcfg, deps)

			ctx, request := ossTP.Tracer("t").Start(t.Context(), "mobile POST /m2")
			if _, err := enqueuer.EnqueueSeal(ctx, nil, "traced"); err != nil {
				t.Fatal(err)
			}
			request.End()
			if _, err := enqueuer.EnqueueSeal(t.Context(), nil, "untraced"); err != nil {
				t.Fatal(err)
			}
			var traced, untraced trace.SpanContext
			waitFor(t, 10*time.Second, "both seals", func() bool {
				var ok1, ok2 bool
				traced, ok1 = s.span("traced")
				untraced, ok2 = s.span("untraced")
				return ok1 && ok2
			})

			var enqueue sdktrace.ReadOnlySpan
			for _, sp := range ossSpans.Ended() {
				if sp.Name() == "enqueue seal" {
					enqueue = sp
				}
			}
			if enqueue == nil || enqueue.Parent().SpanID() != request.SpanContext().SpanID() || enqueue.SpanKind() != trace.SpanKindProducer {
				t.Fatalf("no enqueue span under the request: %v", enqueue)
			}
			jobs := map[trace.SpanID]sdktrace.ReadOnlySpan{}
			waitFor(t, 5*time.Second, "the job spans", func() bool {
				for _, sp := range workerSpans.Ended() {
					jobs[sp.SpanContext().SpanID()] = sp
				}
				return len(jobs) >= 2
			})
			job := jobs[traced.SpanID()]
			if job == nil || job.Name() != "job seal" || job.SpanKind() != trace.SpanKindConsumer {
				t.Fatalf("the seal did not run in its job's span: %v", job)
			}
			if job.Parent().SpanID() != enqueue.SpanContext().SpanID() || !job.Parent().IsRemote() ||
				traced.TraceID() != request.SpanContext().TraceID() {
				t.Errorf("job span parent %v trace %v, want the enqueue span %v", job.Parent(), traced.TraceID(), enqueue.SpanContext())
			}
			if u := jobs[untraced.SpanID()]; u == nil || u.Parent().IsValid() || untraced.TraceID() == traced.TraceID() {
				t.Errorf("a job enqueued outside a span: %v", u)
			}
		})
	}
}
