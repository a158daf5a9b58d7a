package tracing_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"esign/internal/bus"
	"esign/internal/bus/amqp/amqptest"
	"esign/internal/bus/inproc"
	"esign/internal/esign"
	"esign/internal/httpkit"
	"esign/internal/metrics"
	"esign/internal/pki"
	"esign/internal/seal"
	"esign/internal/tracing"
	"esign/internal/tsa/tsatest"
)

// process is one traced process of a test: its provider and the spans it
// exported.
type process struct {
	tp    *tracing.Provider
	spans *tracetest.InMemoryExporter
}

func newProcess(t *testing.T, name string) process {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp, err := tracing.New(t.Context(), tracing.Config{ServiceName: name, SampleRatio: 1, Exporter: exp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return process{tp: tp, spans: exp}
}

// span returns the one span named name, waiting a little for spans ended
// by another goroutine (a handler's, after its reply was sent).
func (p process) span(t *testing.T, name string) tracetest.SpanStub {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var found []tracetest.SpanStub
		var names []string
		for _, s := range p.spans.GetSpans() {
			names = append(names, s.Name)
			if s.Name == name {
				found = append(found, s)
			}
		}
		if len(found) == 1 {
			return found[0]
		}
		if len(found) > 1 || time.Now().After(deadline) {
			t.Fatalf("%d spans named %q; the process has %q", len(found), name, names)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type identity struct{ id pki.Identity }

func (i identity) Identity(context.Context) (pki.Identity, error) { return i.id, nil }

// staticIdentity is the development signer as the bank's seal.
func staticIdentity(id pki.Identity) seal.Identities { return identity{id} }

// TestTraceAcrossProcesses follows one request as a trace: a mobile
// client's request (with its own traceparent) reaches oss, which has the
// digest sealed by pdfservice over the bus and publishes the contract's
// update, which a third process handles. Each process has its own
// provider, as the real ones do; the spans must form one tree across them.
func TestTraceAcrossProcesses(t *testing.T) {
	tests := []struct {
		name string
		// buses returns the buses of oss, pdfservice and the subscriber.
		buses func(t *testing.T) (oss, pdf, sub bus.Bus, system string)
	}{
		{"inproc", func(t *testing.T) (bus.Bus, bus.Bus, bus.Bus, string) {
			b := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
			t.Cleanup(func() { b.Close() })
			return b, b, b, "inproc"
		}},
		{"rabbitmq", func(t *testing.T) (bus.Bus, bus.Bus, bus.Bus, string) {
			server, client := amqptest.Pair(t, "tracing")
			return client, server, server, "rabbitmq"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rawOSS, rawPDF, rawSub, system := tt.buses(t)
			oss, pdf, sub := newProcess(t, "esign-oss"), newProcess(t, "esign-pdfservice"), newProcess(t, "esign-css")
			ossBus := tracing.Bus(rawOSS, oss.tp, system)
			pdfBus := tracing.Bus(rawPDF, pdf.tp, system)
			subBus := tracing.Bus(rawSub, sub.tp, system)

			ts := tsatest.Start(t, 0)
			svc := &seal.Service{IDs: staticIdentity(ts.Dev.Signer), TSA: ts.Client}
			if err := svc.Serve(t.Context(), pdfBus); err != nil {
				t.Fatal(err)
			}
			delivered := make(chan trace.SpanContext, 1)
			if err := subBus.Subscribe(t.Context(), bus.StreamContractUpdates, "live", func(ctx context.Context, ev *bus.Event) error {
				delivered <- trace.SpanContextFromContext(ctx)
				return nil
			}); err != nil {
				t.Fatal(err)
			}

			var logs syncBuffer
			log := slog.New(tracing.LogHandler(slog.NewJSONHandler(&logs, nil)))
			mux := http.NewServeMux()
			mux.Handle("POST /v1/seal", httpkit.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
				digest := sha256.Sum256([]byte("contract.pdf"))
				if _, err := (&seal.Client{Bus: ossBus, Timestamp: true}).SignDigest(r.Context(), digest[:]); err != nil {
					return err
				}
				log.InfoContext(r.Context(), "sealed")
				return ossBus.Publish(r.Context(), bus.StreamContractUpdates, "contract.sealed", map[string]string{"id": "c1"})
			}))
			srv := httptest.NewServer(httpkit.Chain(mux, httpkit.Standard(log, httpkit.NewHTTPMetrics(metrics.NewRegistry()), oss.tp, "mobile")...))
			defer srv.Close()

			const mobileTrace, mobileSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
			req, _ := http.NewRequest("POST", srv.URL+"/v1/seal", nil)
			req.Header.Set("traceparent", "00-"+mobileTrace+"-"+mobileSpan+"-01")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			var got trace.SpanContext
			select {
			case got = <-delivered:
			case <-time.After(10 * time.Second):
				t.Fatal("the event was not delivered")
			}

			httpSpan := oss.span(t, "mobile POST /v1/seal")
			call := oss.span(t, "call "+bus.QueuePDFService+" "+seal.MethodSignDigest)
			serve := pdf.span(t, "serve "+bus.QueuePDFService+" "+seal.MethodSignDigest)
			publish := oss.span(t, "publish "+bus.StreamContractUpdates+" contract.sealed")
			process := sub.span(t, "process "+bus.StreamContractUpdates+" contract.sealed")
			edges := []struct {
				child, parent tracetest.SpanStub
				kind          trace.SpanKind
				remote        bool
			}{
				{httpSpan, tracetest.SpanStub{}, trace.SpanKindServer, true},
				{call, httpSpan, trace.SpanKindClient, false},
				{serve, call, trace.SpanKindServer, true},
				{publish, httpSpan, trace.SpanKindProducer, false},
				{process, publish, trace.SpanKindConsumer, true},
			}
			for _, e := range edges {
				c := e.child
				if c.SpanContext.TraceID().String() != mobileTrace {
					t.Errorf("%s: trace %s, want the mobile client's %s", c.Name, c.SpanContext.TraceID(), mobileTrace)
				}
				wantParent := mobileSpan
				if e.parent.Name != "" {
					wantParent = e.parent.SpanContext.SpanID().String()
				}
				if c.Parent.SpanID().String() != wantParent || c.Parent.IsRemote() != e.remote {
					t.Errorf("%s: parent %s (remote %v), want %s (remote %v)", c.Name, c.Parent.SpanID(), c.Parent.IsRemote(), wantParent, e.remote)
				}
				if c.SpanKind != e.kind {
					t.Errorf("%s: kind %v, want %v", c.Name, c.SpanKind, e.kind)
				}
			}
			if got.SpanID() != process.SpanContext.SpanID() {
				t.Errorf("the event handler ran in span %s, want %s", got.SpanID(), process.SpanContext.SpanID())
			}
			if s := serve.Resource.String(); !strings.Contains(s, "service.name=esign-pdfservice") {
				t.Errorf("pdfservice's resource: %s", s)
			}

			// The log line written inside the request names its trace.
			var line struct {
				Msg     string `json:"msg"`
				TraceID string `json:"trace_id"`
				SpanID  string `json:"span_id"`
			}
			for l := range strings.SplitSeq(logs.String(), "\n") {
				if json.Unmarshal([]byte(l), &line) == nil && line.Msg == "sealed" {
					break
				}
			}
			if line.TraceID != mobileTrace || line.SpanID != httpSpan.SpanContext.SpanID().String() {
				t.Errorf("log line %+v, want trace %s span %s", line, mobileTrace, httpSpan.SpanContext.SpanID())
			}
		})
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestBusErrorsAndNewTraces: a failed call marks both spans as errors with
// the error's kind and its user-safe message only; a call made outside any
// span starts a trace of its own that the server continues.
func TestBusErrorsAndNewTraces(t *testing.T) {
	b := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
	defer b.Close()
	p := newProcess(t, "esign-test")
	tb := tracing.Bus(b, p.tp, "inproc")
	if err := tb.Serve(t.Context(), "esign:test", func(ctx context.Context, req *bus.Request) (any, error) {
		return nil, esign.E("lookup", esign.NotFound, "no such offer", errSecret)
	}); err != nil {
		t.Fatal(err)
	}
	err := tb.Call(t.Context(), "esign:test", "get", nil, nil)
	if !esign.IsKind(err, esign.NotFound) {
		t.Fatalf("call: %v", err)
	}
	call, serve := p.span(t, "call esign:test get"), p.span(t, "serve esign:test get")
	if call.Parent.IsValid() {
		t.Errorf("a call outside a span has parent %v", call.Parent)
	}
	if serve.Parent.SpanID() != call.SpanContext.SpanID() || serve.SpanContext.TraceID() != call.SpanContext.TraceID() {
		t.Errorf("serve's parent %v, want the call %v", serve.Parent, call.SpanContext)
	}
	for _, s := range []tracetest.SpanStub{call, serve} {
		if s.Status.Code != codes.Error || s.Status.Description != "not_found" {
			t.Errorf("%s: status %+v", s.Name, s.Status)
		}
		for _, ev := range s.Events {
			for _, a := range ev.Attributes {
				if strings.Contains(a.Value.Emit(), "password") {
					t.Errorf("%s records the internal cause: %s", s.Name, a.Value.Emit())
				}
			}
		}
	}
}

var errSecret = errorString("connect postgres://esign:password@db")

type errorString string

func (e errorString) Error() string { return string(e) }

// TestOffIsTransparent: without an endpoint the provider is a no-op, the
// bus is returned as it is and nothing is put in the envelope.
func TestOffIsTransparent(t *testing.T) {
	tp, err := tracing.New(t.Context(), tracing.Config{ServiceName: "esign-test"})
	if err != nil {
		t.Fatal(err)
	}
	if tp.Enabled() || !tracing.IsNoop(tp) {
		t.Error("a provider without endpoint records")
	}
	b := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
	defer b.Close()
	if got := tracing.Bus(b, tp, "inproc"); got != bus.Bus(b) {
		t.Error("the bus was wrapped with tracing off")
	}
	if tc := tracing.Inject(t.Context()); tc != (bus.TraceContext{}) {
		t.Errorf("trace context without a span: %+v", tc)
	}
}

// TestPropagation: Inject and Extract round-trip the W3C header values,
// and malformed values from the wire are ignored.
func TestPropagation(t *testing.T) {
	p := newProcess(t, "esign-test")
	ctx, span := p.tp.Tracer("t").Start(t.Context(), "root")
	defer span.End()
	tc := tracing.Inject(ctx)
	if !strings.HasPrefix(tc.Parent, "00-"+span.SpanContext().TraceID().String()+"-") {
		t.Fatalf("traceparent %q", tc.Parent)
	}
	back := trace.SpanContextFromContext(tracing.Extract(t.Context(), tc))
	if back.TraceID() != span.SpanContext().TraceID() || back.SpanID() != span.SpanContext().SpanID() || !back.IsRemote() {
		t.Errorf("extracted %v, want %v", back, span.SpanContext())
	}
	for _, bad := range []string{"", "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"} {
		if sc := trace.SpanContextFromContext(tracing.Extract(t.Context(), bus.TraceContext{Parent: bad})); sc.IsValid() {
			t.Errorf("%q accepted as %v", bad, sc)
		}
	}
}

// TestLogHandler: records logged with a traced context carry its ids,
// also through WithAttrs and WithGroup; others carry none.
func TestLogHandler(t *testing.T) {
	p := newProcess(t, "esign-test")
	ctx, span := p.tp.Tracer("t").Start(t.Context(), "root")
	defer span.End()
	var b bytes.Buffer
	log := slog.New(tracing.LogHandler(slog.NewTextHandler(&b, nil)))
	tests := []struct {
		name string
		log  func()
		want bool
	}{
		{"context", func() { log.InfoContext(ctx, "x") }, true},
		{"attrs", func() { log.With("k", "v").InfoContext(ctx, "x") }, true},
		{"group", func() { log.WithGroup("g").InfoContext(ctx, "x") }, true},
		{"no_context", func() { log.Info("x") }, false},
	}
	tid := span.SpanContext().TraceID().String()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.Reset()
			tt.log()
			if got := strings.Contains(b.String(), tid) && strings.Contains(b.String(), span.SpanContext().SpanID().String()); got != tt.want {
				t.Errorf("trace id in %q: %v, want %v", b.String(), got, tt.want)
			}
		})
	}
}

// TestTransport: a request sent in a traced context is a client span whose
// context the receiver gets in traceparent; the caller's request is not
// changed, and a request outside any trace goes out as it is.
func TestTransport(t *testing.T) {
	got := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("traceparent")
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	p := newProcess(t, "esign-oss")
	client := &http.Client{Transport: tracing.Transport(nil, p.tp)}
	ctx, job := p.tp.Tracer("t").Start(t.Context(), "job event")
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/events?token=secret", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	job.End()
	post := p.span(t, "POST")
	if want := "00-" + post.SpanContext.TraceID().String() + "-" + post.SpanContext.SpanID().String() + "-01"; <-got != want {
		t.Errorf("the receiver did not get the POST span's context %s", want)
	}
	if post.Parent.SpanID() != job.SpanContext().SpanID() || post.SpanKind != trace.SpanKindClient || post.Status.Code != codes.Error {
		t.Errorf("POST span: parent %v kind %v status %v", post.Parent, post.SpanKind, post.Status)
	}
	for _, a := range post.Attributes {
		if strings.Contains(a.Value.Emit(), "secret") {
			t.Errorf("the URL's query is recorded: %v", a)
		}
	}
	if req.Header.Get("traceparent") != "" {
		t.Error("the caller's request was changed")
	}
	req, _ = http.NewRequestWithContext(t.Context(), "POST", srv.URL, nil)
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
	}
	if tp := <-got; tp != "" {
		t.Errorf("a request outside any trace sent traceparent %q", tp)
	}
}

// TestOTLPExport: with an endpoint, the spans reach the collector's
// OTLP/HTTP traces URL (at the latest when the provider shuts down).
func TestOTLPExport(t *testing.T) {
	got := make(chan string, 4)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- r.Method + " " + r.URL.Path + " " + r.Header.Get("Content-Type") + " " + strconv.FormatBool(bytes.Contains(body, []byte("esign-test-span")))
	}))
	defer collector.Close()
	tp, err := tracing.New(t.Context(), tracing.Config{Endpoint: collector.URL + "/v1/traces", SampleRatio: 1, ServiceName: "esign-test"})
	if err != nil {
		t.Fatal(err)
	}
	if !tp.Enabled() {
		t.Fatal("a provider with an endpoint is off")
	}
	_, span := tp.Tracer("t").Start(t.Context(), "esign-test-span")
	span.End()
	if err := tp.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case req := <-got:
		if req != "POST /v1/traces application/x-protobuf true" {
			t.Errorf("the collector got %q", req)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing exported")
	}
}
