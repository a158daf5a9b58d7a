package httpkit

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"esign/internal/esign"
)

func TestTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	mux := http.NewServeMux()
	mux.Handle("GET /v1/offers/{id}", Handle(discard, func(w http.ResponseWriter, r *http.Request) error {
		if r.PathValue("id") == "broken" {
			return esign.E("get", esign.Internal, "boom")
		}
		return nil
	}))
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		// A probe's own work (oss pings its peers over the bus) is not
		// recorded either.
		_, span := tp.Tracer("t").Start(r.Context(), "ping")
		span.End()
	})
	mux.HandleFunc("GET /plain", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	h := Chain(mux, Trace(tp, "mobile"))
	tests := []struct {
		path, name string
		status     int
		failed     bool
	}{
		{"/v1/offers/secret-token-1", "mobile GET /v1/offers/{id}", 200, false},
		{"/v1/offers/broken", "mobile GET /v1/offers/{id}", 500, true},
		{"/plain", "mobile GET", 202, false},
		{"/readyz", "", 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.path[1:], func(t *testing.T) {
			before := len(rec.Ended())
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", tt.path, nil))
			spans := rec.Ended()[before:]
			if tt.name == "" {
				if len(spans) != 0 {
					t.Fatalf("a probe made spans: %v", spans)
				}
				return
			}
			if len(spans) != 1 {
				t.Fatalf("%d spans", len(spans))
			}
			s := spans[0]
			if s.Name() != tt.name || s.SpanKind() != trace.SpanKindServer {
				t.Errorf("span %q (%v), want %q", s.Name(), s.SpanKind(), tt.name)
			}
			if (s.Status().Code == codes.Error) != tt.failed {
				t.Errorf("status %v, want failed %v", s.Status(), tt.failed)
			}
			var status int64
			for _, a := range s.Attributes() {
				if a.Key == "http.response.status_code" {
					status = a.Value.AsInt64()
				}
				if a.Value.Type() == attribute.STRING && a.Value.AsString() == tt.path {
					t.Errorf("the URL path is recorded: %v", a)
				}
			}
			if status != int64(tt.status) {
				t.Errorf("status attribute %d, want %d", status, tt.status)
			}
		})
	}
}

func TestTraceOff(t *testing.T) {
	var sawSpan bool
	h := Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawSpan = trace.SpanContextFromContext(r.Context()).IsValid()
	}), Trace(noop.NewTracerProvider(), "mobile"), Trace(nil, "mobile"))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if sawSpan {
		t.Error("tracing off, yet the handler's context holds a span")
	}
}
