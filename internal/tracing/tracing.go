// Package tracing sets up OpenTelemetry tracing for one process: the
// tracer provider with its OTLP/HTTP exporter and sampler, the W3C trace
// context to and from the bus envelope, a bus.Bus that makes a span of
// every call, request, publish and event, and a slog.Handler that adds the
// trace and span ids to each record logged with a traced context.
//
// Nothing here is global: the process makes one Provider and passes it to
// whatever traces (httpkit's middleware, the bus, the job queue). With
// tracing off the Provider is OpenTelemetry's no-op provider.
package tracing

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"esign/internal/bus"
)

// Config selects where spans go and which are kept.
type Config struct {
	// Endpoint is the OTLP/HTTP traces URL of a collector
	// (http://collector:4318/v1/traces). Empty, and no Exporter: off.
	Endpoint string
	// SampleRatio is the share of new traces that are recorded (0..1). A
	// span whose remote parent was sampled is always recorded.
	SampleRatio float64
	// ServiceName and Version are the resource's service.name and
	// service.version.
	ServiceName, Version string
	// Exporter, when set, receives the spans instead of Endpoint, as soon
	// as each ends (tests: tracetest.NewInMemoryExporter).
	Exporter sdktrace.SpanExporter
}

// Provider is the tracer provider of one process.
type Provider struct {
	trace.TracerProvider
	sdk *sdktrace.TracerProvider // nil when off
}

// New returns the process's provider: a no-op one when cfg has neither an
// Endpoint nor an Exporter. It does not connect anywhere: spans are sent
// in batches in the background and dropped (with a log line from the
// exporter) while the collector is unreachable.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if cfg.Endpoint == "" && cfg.Exporter == nil {
		return &Provider{TracerProvider: noop.NewTracerProvider()}, nil
	}
	host, _ := os.Hostname()
	res := resource.NewSchemaless(
		attribute.String("service.name", cfg.ServiceName),
		attribute.String("service.version", cfg.Version),
		attribute.String("service.instance.id", host+"/"+strconv.Itoa(os.Getpid())),
	)
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))),
	}
	if cfg.Exporter != nil {
		opts = append(opts, sdktrace.WithSyncer(cfg.Exporter))
	} else {
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(cfg.Endpoint))
		if err != nil {
			return nil, fmt.Errorf("tracing: OTLP exporter for %s: %w", cfg.Endpoint, err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	sdk := sdktrace.NewTracerProvider(opts...)
	return &Provider{TracerProvider: sdk, sdk: sdk}, nil
}

// Enabled reports whether spans are recorded at all.
func (p *Provider) Enabled() bool { return p != nil && p.sdk != nil }

// Shutdown sends the spans still buffered and stops the exporter.
func (p *Provider) Shutdown(ctx context.Context) error {
	if !p.Enabled() {
		return nil
	}
	if err := p.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: shut down: %w", err)
	}
	return nil
}

// propagator reads and writes the W3C traceparent and tracestate.
var propagator propagation.TraceContext

// Inject returns the W3C trace context of ctx's span (zero when ctx has no
// valid span).
func Inject(ctx context.Context) bus.TraceContext {
	c := propagation.MapCarrier{}
	propagator.Inject(ctx, c)
	return bus.TraceContext{Parent: c["traceparent"], State: c["tracestate"]}
}

// Extract returns ctx with the remote span context of tc as its parent; a
// missing or malformed tc leaves ctx as it is.
func Extract(ctx context.Context, tc bus.TraceContext) context.Context {
	if tc.Parent == "" {
		return ctx
	}
	c := propagation.MapCarrier{"traceparent": tc.Parent}
	if tc.State != "" {
		c["tracestate"] = tc.State
	}
	return propagator.Extract(ctx, c)
}

// IsNoop reports whether tp records nothing (nil or OpenTelemetry's no-op
// provider), so that callers can skip their instrumentation entirely.
func IsNoop(tp trace.TracerProvider) bool {
	switch tp := tp.(type) {
	case nil, noop.TracerProvider:
		return true
	case *Provider:
		return !tp.Enabled()
	}
	return false
}
