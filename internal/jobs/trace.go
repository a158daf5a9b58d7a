package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// traceMiddleware carries the W3C trace context from where a job is
// enqueued (an HTTP request, a bus handler) to where it is worked, maybe
// in another process: the enqueuer's context goes into the job's metadata
// ("traceparent", "tracestate") and each attempt is a span whose parent it
// is.
type traceMiddleware struct {
	river.MiddlewareDefaults
	tracer trace.Tracer
}

var (
	_ rivertype.JobInsertMiddleware = (*traceMiddleware)(nil)
	_ rivertype.WorkerMiddleware    = (*traceMiddleware)(nil)
)

func (m *traceMiddleware) InsertMany(ctx context.Context, params []*rivertype.JobInsertParams, doInner func(context.Context) ([]*rivertype.JobInsertResult, error)) ([]*rivertype.JobInsertResult, error) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return doInner(ctx) // a schedule's slot: no trace to continue
	}
	name := "enqueue"
	if len(params) == 1 {
		name += " " + params[0].Kind
	}
	ctx, span := m.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindProducer))
	defer span.End()
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	for _, p := range params {
		md, err := withTraceMetadata(p.Metadata, c)
		if err != nil {
			return nil, err
		}
		p.Metadata = md
	}
	res, err := doInner(ctx)
	if err != nil {
		span.SetStatus(codes.Error, "enqueue failed")
	}
	return res, err
}

// withTraceMetadata adds the carrier's keys to a job's JSON metadata.
func withTraceMetadata(md []byte, c propagation.MapCarrier) ([]byte, error) {
	m := map[string]any{}
	if len(md) > 0 {
		if err := json.Unmarshal(md, &m); err != nil {
			return nil, fmt.Errorf("jobs: job metadata: %w", err)
		}
	}
	for k, v := range c {
		m[k] = v
	}
	return json.Marshal(m)
}

func (m *traceMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	var md struct {
		Traceparent string `json:"traceparent"`
		Tracestate  string `json:"tracestate"`
	}
	_ = json.Unmarshal(job.Metadata, &md) // no or odd metadata: a new trace
	if md.Traceparent != "" {
		ctx = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": md.Traceparent, "tracestate": md.Tracestate})
	}
	ctx, span := m.tracer.Start(ctx, "job "+job.Kind, trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(
		attribute.String("esign.job.kind", job.Kind),
		attribute.String("esign.job.queue", job.Queue),
		attribute.String("esign.job.id", strconv.FormatInt(job.ID, 10)),
		attribute.Int("esign.job.attempt", job.Attempt)))
	defer span.End()
	err := doInner(ctx)
	if err != nil {
		span.SetStatus(codes.Error, "job failed")
	}
	return err
}
