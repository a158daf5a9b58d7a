package tracing

import (
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Transport returns rt (http.DefaultTransport when nil) making a client
// span of every request sent with a traced context and sending its W3C
// trace context in the traceparent and tracestate headers, so that the
// receiver (the bank's event endpoint) can continue the trace. The span
// records the method, the host and the status, not the URL's path or
// query (they may hold credentials). With a no-op tp, rt is returned as
// it is.
func Transport(rt http.RoundTripper, tp trace.TracerProvider) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	if IsNoop(tp) {
		return rt
	}
	return &transport{rt: rt, tracer: tp.Tracer("esign/internal/tracing")}
}

type transport struct {
	rt     http.RoundTripper
	tracer trace.Tracer
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return t.rt.RoundTrip(req) // not part of a trace: no root span per request
	}
	ctx, span := t.tracer.Start(ctx, req.Method, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("http.request.method", req.Method),
		attribute.String("server.address", req.URL.Hostname())))
	defer span.End()
	req = req.Clone(ctx) // a RoundTripper must not change the caller's request
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(req.Header))
	resp, err := t.rt.RoundTrip(req)
	if err != nil {
		span.SetStatus(codes.Error, "no response")
		return nil, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 500 {
		span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
	}
	return resp, nil
}
