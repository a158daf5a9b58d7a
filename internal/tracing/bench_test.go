package tracing_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"esign/internal/bus"
	"esign/internal/bus/inproc"
	"esign/internal/httpkit"
	"esign/internal/metrics"
	"esign/internal/tracing"
)

type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// providers are the settings the overhead is measured with: tracing off
// (the default), on with every trace sampled (batched to an exporter that
// drops them, so the collector's cost is not counted), and on with none
// sampled (sample_ratio 0, no sampled parent).
func providers(b *testing.B) []struct {
	name string
	tp   trace.TracerProvider
} {
	on := func(ratio float64) trace.TracerProvider {
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}),
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))))
		b.Cleanup(func() { tp.Shutdown(context.Background()) })
		return tp
	}
	return []struct {
		name string
		tp   trace.TracerProvider
	}{{"off", noop.NewTracerProvider()}, {"sampled", on(1)}, {"unsampled", on(0)}}
}

// BenchmarkHTTPMiddleware: the standard chain of every listener around a
// handler that does nothing.
func BenchmarkHTTPMiddleware(b *testing.B) {
	log := slog.New(tracing.LogHandler(slog.NewTextHandler(io.Discard, nil)))
	for _, p := range providers(b) {
		b.Run(p.name, func(b *testing.B) {
			h := httpkit.Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
				httpkit.Standard(log, httpkit.NewHTTPMetrics(metrics.NewRegistry()), p.tp, "bench")...)
			req := httptest.NewRequest("GET", "/x", nil)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}

// BenchmarkBusCall: a call over the in-process bus (the transport's cost
// is the smallest there, so the tracing's share is the largest).
func BenchmarkBusCall(b *testing.B) {
	for _, p := range providers(b) {
		b.Run(p.name, func(b *testing.B) {
			raw := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
			defer raw.Close()
			tb := tracing.Bus(raw, p.tp, "inproc")
			if err := tb.Serve(b.Context(), "esign:bench", func(ctx context.Context, req *bus.Request) (any, error) {
				return nil, nil
			}); err != nil {
				b.Fatal(err)
			}
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				if err := tb.Call(ctx, "esign:bench", "m", nil, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
