package httpkit

import (
	"context"
	"crypto/rand"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

const routeKey ctxKey = iota + 100

// route is where the innermost handler records the ServeMux pattern that
// matched, for the span's name (the URL path itself may hold tokens).
type route struct{ pattern string }

// recordRoute notes r's ServeMux pattern for the request's span.
func recordRoute(r *http.Request) {
	if rt, ok := r.Context().Value(routeKey).(*route); ok && r.Pattern != "" {
		rt.pattern = r.Pattern
	}
}

// Trace makes a server span of every request, named after the listener,
// the method and, for handlers behind Handle, the matched pattern
// ("mobile POST /v1/signatures/{id}/m2"). A W3C traceparent header sent by
// the client (a mobile app or a gateway that traces) becomes the span's
// parent. The URL's path and query are not recorded: they may hold
// tokens. With a no-op tp it adds nothing.
func Trace(tp trace.TracerProvider, listener string) Middleware {
	if _, ok := tp.(noop.TracerProvider); ok || tp == nil || isNoop(tp) {
		return func(next http.Handler) http.Handler { return next }
	}
	tracer := tp.Tracer("esign/internal/httpkit")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/healthz", "/readyz", "/metrics":
				// Probes and scrapes, every few seconds, are not traced,
				// nor are the bus calls they make (oss pings its peers):
				// their context holds an unsampled parent.
				next.ServeHTTP(w, r.WithContext(trace.ContextWithSpanContext(r.Context(), unsampled())))
				return
			}
			ctx := propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
			ctx, span := tracer.Start(ctx, listener+" "+r.Method, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(
					attribute.String("http.request.method", methodLabel(r.Method)),
					attribute.String("esign.listener", listener)))
			defer span.End()
			rt := &route{}
			ctx = context.WithValue(ctx, routeKey, rt)
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r.WithContext(ctx))
			if rt.pattern != "" {
				span.SetName(listener + " " + rt.pattern)
				span.SetAttributes(attribute.String("http.route", rt.pattern))
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			span.SetAttributes(attribute.Int("http.response.status_code", status))
			if status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
		})
	}
}

// isNoop reports whether tp says it records nothing.
func isNoop(tp trace.TracerProvider) bool {
	e, ok := tp.(interface{ Enabled() bool })
	return ok && !e.Enabled()
}

// unsampled returns a valid span context that is not sampled, so that the
// parent-based sampler records none of its children.
func unsampled() trace.SpanContext {
	var tid trace.TraceID
	var sid trace.SpanID
	rand.Read(tid[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	rand.Read(sid[:])
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid})
}
