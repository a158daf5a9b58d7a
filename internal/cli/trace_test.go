package cli

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"esign/internal/bus"
	"esign/internal/seal"
)

// TestTraceProduction follows a customer's signing as one trace across
// the production processes, each with its own tracer provider, over
// PostgreSQL and RabbitMQ: the mobile API request that completes the
// signature (oss) → the seal job it enqueued (oss's queue) → the call to
// pdfservice → pdfservice's handling of it, the contract's update
// delivered over the bus, and the contract's event delivered to the
// bank's endpoint with the trace context.
func TestTraceProduction(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes against PostgreSQL, RabbitMQ and Redis")
	}
	p := startProduction(t)
	// The bank's event endpoint, which gets the trace context too.
	var mu sync.Mutex
	var received []string // traceparent of each delivery
	bank := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		received = append(received, r.Header.Get("traceparent"))
		mu.Unlock()
	}))
	defer bank.Close()
	p.env = append(p.env, "ESIGN_WEBHOOK_EVENT_URLS="+bank.URL+"/events", "ESIGN_WEBHOOK_EVENT_SECRET="+strings.Repeat("s", 32))
	ossSpans, pdfSpans := tracetest.NewInMemoryExporter(), tracetest.NewInMemoryExporter()
	oss := startTracedProcess(t, "oss", p.env, ossSpans)
	startTracedProcess(t, "pdfservice", p.env, pdfSpans)
	ref := "esign-trace-" + strings.ToLower(rand.Text()[:10])
	code, stdout, stderr := run(t, t.Context(), p.env, nil, demoFlags(oss, "--webhook-credentials", p.credFile, "--customer-ref", ref, "--out", p.dir)...)
	if code != 0 {
		t.Fatalf("esign demo: exit %d\n%s\n%s", code, stdout, stderr)
	}

	byID := map[trace.SpanID]tracetest.SpanStub{}
	find := func(exp *tracetest.InMemoryExporter, name string) []tracetest.SpanStub {
		var out []tracetest.SpanStub
		for _, s := range exp.GetSpans() {
			byID[s.SpanContext.SpanID()] = s
			if s.Name == name {
				out = append(out, s)
			}
		}
		return out
	}
	callName := "call " + bus.QueuePDFService + " " + seal.MethodSignDigest
	var jobs, calls, serves, updates, deliveries []tracetest.SpanStub
	deadline := time.Now().Add(10 * time.Second)
	for {
		find(ossSpans, "")
		find(pdfSpans, "")
		jobs, calls = find(ossSpans, "job seal"), find(ossSpans, callName)
		deliveries = find(ossSpans, "POST")
		serves = find(pdfSpans, "serve "+bus.QueuePDFService+" "+seal.MethodSignDigest)
		updates = nil
		for _, s := range ossSpans.GetSpans() {
			if strings.HasPrefix(s.Name, "process "+bus.StreamContractUpdates+" ") {
				updates = append(updates, s)
			}
		}
		if len(jobs) > 0 && len(serves) > 0 && len(updates) > 0 && len(deliveries) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(jobs) == 0 || len(serves) == 0 {
		t.Fatalf("%d seal job spans, %d pdfservice spans", len(jobs), len(serves))
	}
	// The root of the seal job's trace: the mobile API request.
	job := jobs[0]
	root := job
	for root.Parent.IsValid() {
		parent, ok := byID[root.Parent.SpanID()]
		if !ok {
			t.Fatalf("span %q has parent %s, which no process recorded", root.Name, root.Parent.SpanID())
		}
		root = parent
	}
	if !strings.HasPrefix(root.Name, "mobile POST ") || root.SpanKind != trace.SpanKindServer {
		t.Errorf("the seal job's trace starts at %q (%v), want the mobile API request", root.Name, root.SpanKind)
	}
	inTrace := func(ss []tracetest.SpanStub, parent trace.SpanID) *tracetest.SpanStub {
		for i, s := range ss {
			if s.SpanContext.TraceID() == job.SpanContext.TraceID() && (parent == (trace.SpanID{}) || s.Parent.SpanID() == parent) {
				return &ss[i]
			}
		}
		return nil
	}
	call := inTrace(calls, job.SpanContext.SpanID())
	if call == nil {
		t.Fatal("no call to pdfservice under the seal job")
	}
	serve := inTrace(serves, call.SpanContext.SpanID())
	if serve == nil || !serve.Parent.IsRemote() || serve.Resource.String() == job.Resource.String() {
		t.Fatalf("pdfservice's span is not the child of oss's call: %+v", serve)
	}
	if update := inTrace(updates, trace.SpanID{}); update == nil {
		t.Errorf("no contract update delivered in the trace; updates: %d", len(updates))
	}
	// The bank's endpoint got the event of the sealed contract with the
	// trace context of its delivery: the POST span of a job event.
	post := inTrace(deliveries, trace.SpanID{})
	if post == nil || byID[post.Parent.SpanID()].Name != "job event" {
		t.Fatalf("no delivery to the bank in the trace (%d POST spans)", len(deliveries))
	}
	mu.Lock()
	want := "00-" + post.SpanContext.TraceID().String() + "-" + post.SpanContext.SpanID().String() + "-01"
	if !slices.Contains(received, want) {
		t.Errorf("the bank received traceparents %q, want %q among them", received, want)
	}
	mu.Unlock()
	// The whole trace, for whoever reads the test's output.
	var all []tracetest.SpanStub
	for _, s := range byID {
		if s.SpanContext.TraceID() == job.SpanContext.TraceID() {
			all = append(all, s)
		}
	}
	slices.SortFunc(all, func(a, b tracetest.SpanStub) int { return a.StartTime.Compare(b.StartTime) })
	for _, s := range all {
		svc, _ := s.Resource.Set().Value("service.name")
		t.Logf("%-18s %-60s parent %s", svc.AsString(), s.Name, byID[s.Parent.SpanID()].Name)
	}
}
