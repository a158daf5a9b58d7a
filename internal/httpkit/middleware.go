package httpkit

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/trace"

	"esign/internal/esign"
	"esign/internal/metrics"
)

type ctxKey int

const requestIDKey ctxKey = iota

// RequestID returns the request id of ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// validRequestID accepts ids a proxy may have set: short and printable.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain applies mws so that the first one is the outermost.
func Chain(h http.Handler, mws ...Middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// Standard is the chain every listener starts with: request id, the
// request's span (tp may be a no-op provider), then logging and metrics
// (whose log line carries the trace id), then panic recovery (inside, so
// that a recovered panic is logged and counted as the 500 it became).
func Standard(log *slog.Logger, m *HTTPMetrics, tp trace.TracerProvider, listener string) []Middleware {
	return []Middleware{WithRequestID(), Trace(tp, listener), Observe(log, m, listener), Recover(log)}
}

// Recover turns a panic in a handler into a 500 with an error id, and logs
// the stack. No panic reaches the client as a dropped connection.
func Recover(log *slog.Logger) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.ErrorContext(r.Context(), "panic in handler", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
					WriteError(w, r, log, esign.E("http", esign.Internal, fmt.Errorf("panic: %v", v)))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// WithRequestID takes a well-formed X-Request-Id from the client or makes
// one, puts it in the context and echoes it in the response.
func WithRequestID() Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get("X-Request-Id")
			if !validRequestID.MatchString(id) {
				id = rand.Text()[:16]
			}
			w.Header().Set("X-Request-Id", id)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
		})
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// HTTPMetrics are the request metrics of a process.
type HTTPMetrics struct {
	requests *metrics.CounterVec
	duration *metrics.HistogramVec
	inflight *metrics.GaugeVec
}

// NewHTTPMetrics registers the HTTP metric families in reg.
func NewHTTPMetrics(reg *metrics.Registry) *HTTPMetrics {
	return &HTTPMetrics{
		requests: reg.Counter("esign_http_requests_total", "HTTP requests served.", "listener", "method", "code"),
		duration: reg.Histogram("esign_http_request_duration_seconds", "HTTP request latency.", metrics.DefaultBuckets, "listener"),
		inflight: reg.Gauge("esign_http_requests_in_flight", "HTTP requests being served.", "listener"),
	}
}

// Observe logs each request (debug level for health and metrics probes) and
// records its metrics under the listener name. Query strings are not logged:
// they may carry tokens.
func Observe(log *slog.Logger, m *HTTPMetrics, listener string) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			m.inflight.Add(1, listener)
			rec := &statusRecorder{ResponseWriter: w}
			defer func() {
				m.inflight.Add(-1, listener)
				if rec.status == 0 {
					rec.status = http.StatusOK
				}
				elapsed := time.Since(start)
				m.requests.Inc(listener, methodLabel(r.Method), strconv.Itoa(rec.status))
				// A sampled request's trace id is the latency's exemplar.
				var traceID string
				if sc := trace.SpanContextFromContext(r.Context()); sc.IsSampled() {
					traceID = sc.TraceID().String()
				}
				m.duration.ObserveExemplar(elapsed.Seconds(), traceID, listener)
				level := slog.LevelInfo
				switch r.URL.Path {
				case "/healthz", "/readyz", "/metrics":
					level = slog.LevelDebug
				}
				log.LogAttrs(r.Context(), level, "http",
					slog.String("listener", listener),
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.Int("status", rec.status),
					slog.Int64("bytes", rec.bytes),
					slog.Duration("duration", elapsed),
					slog.String("request_id", RequestID(r.Context())))
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

// methodLabel keeps the metric's cardinality bounded.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// SecureHeaders sets the headers every response of a browser-facing listener
// carries: a strict Content-Security-Policy (no inline script, no framing),
// no sniffing, no referrer leaks. csp may be empty for the default.
func SecureHeaders(csp string) Middleware {
	if csp == "" {
		csp = DefaultCSP
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
			next.ServeHTTP(w, r)
		})
	}
}

// DefaultCSP allows only same-origin resources.
const DefaultCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// LimitBody caps every request body at n bytes; a larger body fails the
// handler's read with *http.MaxBytesError.
func LimitBody(n int64) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body != nil {
				r.Body = http.MaxBytesReader(w, r.Body, n)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// CrossOrigin rejects cross-origin state-changing requests from browsers
// (CSRF) using Fetch metadata, the standard library's CrossOriginProtection.
func CrossOrigin() Middleware {
	cop := http.NewCrossOriginProtection()
	return cop.Handler
}
