package tracing

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"esign/internal/bus"
	"esign/internal/esign"
)

// Bus returns b with a span around every Call (client), served request
// (server), Publish (producer) and handled event (consumer); calls and
// events carry the W3C trace context of their span in the envelope, and
// the server and consumer spans are its children, in whichever process
// they run. system names the transport ("rabbitmq", "inproc"). With a
// no-op tp, b is returned as it is.
func Bus(b bus.Bus, tp trace.TracerProvider, system string) bus.Bus {
	if IsNoop(tp) {
		return b
	}
	t := &tracedBus{b: b, tracer: tp.Tracer("esign/internal/bus"), system: attribute.String("messaging.system", system)}
	if dl, ok := b.(bus.DeadLetterer); ok {
		return &tracedDLBus{tracedBus: t, dl: dl}
	}
	return t
}

type tracedBus struct {
	b      bus.Bus
	tracer trace.Tracer
	system attribute.KeyValue
}

type tracedDLBus struct {
	*tracedBus
	dl bus.DeadLetterer
}

func (t *tracedDLBus) TakeDeadLetters(ctx context.Context, stream, group string, max int) ([]*bus.Event, error) {
	return t.dl.TakeDeadLetters(ctx, stream, group, max)
}

func (t *tracedBus) start(ctx context.Context, name string, kind trace.SpanKind, op, dest string) (context.Context, trace.Span) {
	return t.tracer.Start(ctx, name, trace.WithSpanKind(kind), trace.WithAttributes(t.system,
		attribute.String("messaging.operation.name", op),
		attribute.String("messaging.destination.name", dest)))
}

// end records err on span (its kind as esign.error.kind) and ends it.
func end(span trace.Span, err error) {
	if err != nil {
		span.SetAttributes(attribute.String("esign.error.kind", esign.ErrorKind(err).String()))
		span.SetStatus(codes.Error, esign.ErrorKind(err).String())
		// The message only: the cause may name hosts or users.
		span.RecordError(errors.New(esign.ErrorMessage(err)))
	}
	span.End()
}

func (t *tracedBus) Call(ctx context.Context, queue, method string, req, resp any) (err error) {
	ctx, span := t.start(ctx, "call "+queue+" "+method, trace.SpanKindClient, "call", queue)
	defer func() { end(span, err) }()
	return t.b.Call(bus.WithTraceContext(ctx, Inject(ctx)), queue, method, req, resp)
}

func (t *tracedBus) Serve(ctx context.Context, queue string, h bus.Handler) error {
	return t.b.Serve(ctx, queue, func(ctx context.Context, req *bus.Request) (res any, err error) {
		ctx, span := t.start(Extract(ctx, req.Trace), "serve "+queue+" "+req.Method, trace.SpanKindServer, "serve", queue)
		span.SetAttributes(attribute.String("messaging.message.id", req.ID), attribute.Bool("esign.redelivered", req.Redelivered))
		defer func() { end(span, err) }()
		return h(ctx, req)
	})
}

func (t *tracedBus) Publish(ctx context.Context, stream, eventType string, body any) (err error) {
	ctx, span := t.start(ctx, "publish "+stream+" "+eventType, trace.SpanKindProducer, "publish", stream)
	defer func() { end(span, err) }()
	return t.b.Publish(bus.WithTraceContext(ctx, Inject(ctx)), stream, eventType, body)
}

func (t *tracedBus) Subscribe(ctx context.Context, stream, group string, h bus.EventHandler) error {
	return t.b.Subscribe(ctx, stream, group, func(ctx context.Context, ev *bus.Event) (err error) {
		ctx, span := t.start(Extract(ctx, ev.Trace), "process "+stream+" "+ev.Type, trace.SpanKindConsumer, "process", stream)
		span.SetAttributes(attribute.String("messaging.message.id", ev.ID),
			attribute.String("messaging.consumer.group.name", group), attribute.Int("esign.attempt", ev.Attempt))
		defer func() { end(span, err) }()
		return h(ctx, ev)
	})
}

func (t *tracedBus) Close() error { return t.b.Close() }
