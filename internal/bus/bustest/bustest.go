// Package bustest is the conformance suite of bus.Bus: every transport runs
// Run against itself, so that the in-process bus and RabbitMQ behave alike.
package bustest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"esign/internal/bus"
	"esign/internal/esign"
)

// Factory returns a new bus with the given limits; it must arrange for the bus
// to be closed (and its test queues removed) with tb.Cleanup.
type Factory func(tb testing.TB, l bus.Limits) bus.Bus

// Limits are the limits the suite runs with.
var Limits = bus.Limits{
	DefaultTimeout: 5 * time.Second,
	MaxMessageSize: 64 << 10,
	MaxDeliveries:  3,
	Prefetch:       16,
	RetryBackoff:   10 * time.Millisecond,
}

// Name returns a queue or stream name unique to this test run.
func Name(tb testing.TB, what string) string {
	return "esign-test:" + bus.NewID()[:12] + ":" + what
}

// runID tells this run of the test binary from every other, on this
// machine or another one sharing the broker.
var runID = strings.ToLower(rand.Text()[:10])

// Namespace returns a bus namespace (amqp.Options.Namespace,
// bus.namespace) unique to tb and to this run of the test binary, so that
// tests using the specification's queue names on a shared broker (two CI
// runs on one machine) never answer each other. The same tb always gets the
// same namespace, so the "processes" of one test find each other.
func Namespace(tb testing.TB) string {
	h := fnv.New64a()
	h.Write([]byte(tb.Name()))
	return fmt.Sprintf("t%s-%016x", runID, h.Sum64())
}

type echoReq struct {
	Text string `json:"text"`
	N    int    `json:"n"`
}

type echoResp struct {
	Text string `json:"text"`
	N    int    `json:"n"`
	CID  string `json:"cid"`
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func serveEcho(t *testing.T, b bus.Bus, queue string) {
	t.Helper()
	err := b.Serve(t.Context(), queue, func(ctx context.Context, req *bus.Request) (any, error) {
		var r echoReq
		if err := req.Decode(&r); err != nil {
			return nil, err
		}
		return echoResp{Text: r.Text, N: r.N + 1, CID: bus.CorrelationID(ctx)}, nil
	})
	if err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// Run runs the conformance suite.
func Run(t *testing.T, newBus Factory) {
	t.Run("CallRoundTrip", func(t *testing.T) { testCallRoundTrip(t, newBus) })
	t.Run("ErrorKinds", func(t *testing.T) { testErrorKinds(t, newBus) })
	t.Run("Deadline", func(t *testing.T) { testDeadline(t, newBus) })
	t.Run("NoServer", func(t *testing.T) { testNoServer(t, newBus) })
	t.Run("StoppedServer", func(t *testing.T) { testStoppedServer(t, newBus) })
	t.Run("HandlerPanic", func(t *testing.T) { testHandlerPanic(t, newBus) })
	t.Run("Oversized", func(t *testing.T) { testOversized(t, newBus) })
	t.Run("ConcurrentCalls", func(t *testing.T) { testConcurrentCalls(t, newBus) })
	t.Run("EventGroups", func(t *testing.T) { testEventGroups(t, newBus) })
	t.Run("EventRetryThenDeadLetter", func(t *testing.T) { testEventDeadLetter(t, newBus) })
	t.Run("EventRetryThenSuccess", func(t *testing.T) { testEventRetrySuccess(t, newBus) })
	t.Run("PrivateSubscriptions", func(t *testing.T) { testPrivate(t, newBus) })
	t.Run("Ping", func(t *testing.T) { testPing(t, newBus) })
	t.Run("SystemConfigPush", func(t *testing.T) { testSystemConfig(t, newBus) })
	t.Run("BadNames", func(t *testing.T) { testBadNames(t, newBus) })
	t.Run("TraceContext", func(t *testing.T) { testTraceContext(t, newBus) })
}

func testBadNames(t *testing.T, newBus Factory) {
	b := newBus(t, Limits)
	h := func(ctx context.Context, req *bus.Request) (any, error) { return nil, nil }
	eh := func(ctx context.Context, ev *bus.Event) error { return nil }
	tests := []struct{ name, bad string }{
		{"empty", ""},
		{"reserved", "amq.rabbitmq.reply-to"},
		{"space", "has space"},
		{"long", strings.Repeat("n", 201)},
		{"control", "tab\there"},
	}
	for _, tt := range tests {
		name := tt.bad
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxT(t, 2*time.Second)
			for what, err := range map[string]error{
				"Call":      b.Call(ctx, name, "m", nil, nil),
				"Serve":     b.Serve(ctx, name, h),
				"Publish":   b.Publish(ctx, name, "e", nil),
				"Subscribe": b.Subscribe(ctx, name, "g", eh),
				"Group":     b.Subscribe(ctx, Name(t, "s"), name+"x y", eh),
			} {
				if !esign.IsKind(err, esign.Invalid) {
					t.Errorf("%s with name %q = %v, want Invalid", what, name, err)
				}
			}
		})
	}
}

func testCallRoundTrip(t *testing.T, newBus Factory) {
	b := newBus(t, Limits)
	q := Name(t, "echo")
	serveEcho(t, b, q)
	tests := []struct {
		name string
		cid  string
		req  echoReq
	}{
		{"plain", "", echoReq{Text: "hello", N: 1}},
		{"unicode", "", echoReq{Text: "árvíztűrő tükörfúrógép ✓ \u2028", N: -5}},
		{"correlation", "req-42", echoReq{Text: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxT(t, 5*time.Second)
			if tt.cid != "" {
				ctx = bus.WithCorrelationID(ctx, tt.cid)
			}
			var resp echoResp
			if err := b.Call(ctx, q, "echo", tt.req, &resp); err != nil {
				t.Fatalf("Call: %v", err)
			}
			if resp.Text != tt.req.Text || resp.N != tt.req.N+1 {
				t.Errorf("reply = %+v, want text %q n %d", resp, tt.req.Text, tt.req.N+1)
			}
			if resp.CID == "" || (tt.cid != "" && resp.CID != tt.cid) {
				t.Errorf("handler saw correlation id %q, want %q (or a fresh one)", resp.CID, tt.cid)
			}
		})
	}
}

func testErrorKinds(t *testing.T, newBus Factory) {
	b := newBus(t, Limits)
	q := Name(t, "errors")
	secret := errors.New("pq: password authentication failed for user bank")
	errs := map[string]error{
		"not_found":    esign.E("store.GetOffer", esign.NotFound, "offer not found"),
		"invalid":      esign.WithCode("signing.M2", esign.Invalid, "ts_order", "timestamps are out of order"),
		"forbidden":    esign.E("acl", esign.Forbidden, "not your offer"),
		"unauthorized": esign.E("auth", esign.Unauthorized, "log in first"),
		"conflict":     esign.WithCode("store", esign.Conflict, "already_signed", "the offer is signed already"),
		"unavailable":  esign.E("pdf", esign.Unavailable, secret),
		"too_many":     esign.E("rate", esign.TooMany, "slow down"),
		"internal":     esign.E("store", secret),
		"plain":        secret,
		"bad_body":     nil, // the handler cannot decode the body: Invalid
	}
	err := b.Serve(t.Context(), q, func(ctx context.Context, req *bus.Request) (any, error) {
		switch req.Method {
		case "bad_body":
			var v struct{ N int }
			return nil, req.Decode(&v)
		case "bad_reply":
			return json.RawMessage("{not json"), nil
		}
		return nil, errs[req.Method]
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method string
		kind   esign.Kind
		code   string
		msg    string
	}{
		{"not_found", esign.NotFound, "", "offer not found"},
		{"invalid", esign.Invalid, "ts_order", "timestamps are out of order"},
		{"forbidden", esign.Forbidden, "", "not your offer"},
		{"unauthorized", esign.Unauthorized, "", "log in first"},
		{"conflict", esign.Conflict, "already_signed", "the offer is signed already"},
		{"unavailable", esign.Unavailable, "", "the service is temporarily unavailable"},
		{"too_many", esign.TooMany, "", "slow down"},
		{"internal", esign.Internal, "", "an internal error occurred"},
		{"plain", esign.Internal, "", "an internal error occurred"},
		{"bad_body", esign.Invalid, "", "the message body does not match the expected form"},
		{"bad_reply", esign.Internal, "", "the reply cannot be encoded"},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			body := any(map[string]int{"n": 1})
			if tt.method == "bad_body" {
				body = map[string]string{"N": "not a number"}
			}
			err := b.Call(ctxT(t, 5*time.Second), q, tt.method, body, nil)
			var e *esign.Error
			if !errors.As(err, &e) {
				t.Fatalf("Call error = %v (%T), want *esign.Error", err, err)
			}
			if e.Kind != tt.kind || e.Code != tt.code || e.Msg != tt.msg {
				t.Errorf("got kind %v code %q msg %q, want %v %q %q", e.Kind, e.Code, e.Msg, tt.kind, tt.code, tt.msg)
			}
			if strings.Contains(err.Error(), "password") {
				t.Errorf("internal cause leaked to the caller: %v", err)
			}
		})
	}
}

func testDeadline(t *testing.T, newBus Factory) {
	b := newBus(t, Limits)
	q := Name(t, "slow")
	sawDeadline := make(chan bool, 1)
	err := b.Serve(t.Context(), q, func(ctx context.Context, req *bus.Request) (any, error) {
		_, ok := ctx.Deadline()
		select {
		case sawDeadline <- ok:
		default:
		}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = b.Call(ctx, q, "wait", nil, nil)
	took := time.Since(start)
	if !esign.IsKind(err, esign.Timeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Call error = %v, want Timeout wrapping context.DeadlineExceeded", err)
	}
	if took > 2*time.Second {
		t.Errorf("Call returned after %v, long after its 300ms deadline", took)
	}
	select {
	case ok := <-sawDeadline:
		if !ok {
			t.Error("the handler's context had no deadline")
		}
	case <-time.After(5 * time.Second):
		t.Error("the handler never ran")
	}
}

func testNoServer(t *testing.T, newBus Factory) {
	b := newBus(t, Limits)
	start := time.Now()
	err := b.Call(ctxT(t, 5*time.Second), Name(t, "nobody"), "x", nil, nil)
	if !esign.IsKind(err, esign.Unavailable) {
		t.Errorf("Call to a queue nobody serves = %v, want Unavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Call took %v; it should fail fast", d)
	}
}

func testStoppedServer(t *testing.T, newBus Factory) {
	b := newBus(t, Limits)
	q := Name(t, "stopped")
	ctx, cancel := context.WithCancel(t.Context())
	if err := b.Serve(ctx, q, func(ctx context.Context, req *bus.Request) (any, error) { return "ok", nil }); err != nil {
		t.Fatal(err)
	}
	var s string
	if err := b.Call(ctxT(t, 5*time.Second), q, "x", nil, &s); err != nil || s != "ok" {
		t.Fatalf("Call = %q, %v", s, err)
	}
	cancel()
	// The queue outlives its server: calls wait for a server until their deadline.
	var err error
	for range 50 {
		err = b.Call(ctxT(t, 200*time.Millisecond), q, "x", nil, &s)
		if err != nil {
			break
		}
		time.Sleep(20 * time.Millisecond) // the consumer is being cancelled
	}
	if !esign.IsKind(err, esign.Timeout) {
		t.Errorf("Call after the server stopped = %v, want Timeout", err)
	}
}

func testHandlerPanic(t *testing.T, newBus Factory) {
	b := newBus(t, Limits)
	q := Name(t, "panic")
	err := b.Serve(t.Context(), q, func(ctx context.Context, req *bus.Request) (any, error) {
		if req.Method == "panic" {
			var m map[string]int
			m["boom"]++ // nil map write
		}
		return "fine", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Call(ctxT(t, 5*time.Second), q, "panic", nil, nil); !esign.IsKind(err, esign.Internal) {
		t.Errorf("Call to a panicking handler = %v, want Internal", err)
	}
	var s string
	if err := b.Call(ctxT(t, 5*time.Second), q, "ok", nil, &s); err != nil || s != "fine" {
		t.Errorf("the server did not survive the panic: %q, %v", s, err)
	}
}

func testOversized(t *testing.T, newBus Factory) {
	b := newBus(t, Limits)
	q := Name(t, "big")
	err := b.Serve(t.Context(), q, func(ctx context.Context, req *bus.Request) (any, error) {
		var n int
		if err := req.Decode(&n); err != nil {
			return nil, err
		}
		return strings.Repeat("x", n), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("y", Limits.MaxMessageSize)
	if err := b.Call(ctxT(t, 5*time.Second), q, "x", big, nil); !esign.IsKind(err, esign.Invalid) || esign.ErrorCode(err) != "message_too_large" {
		t.Errorf("oversized request: %v, want Invalid message_too_large", err)
	}
	var s string
	if err := b.Call(ctxT(t, 5*time.Second), q, "x", Limits.MaxMessageSize, &s); !esign.IsKind(err, esign.Internal) {
		t.Errorf("oversized reply: %v, want Internal", err)
	}
	if err := b.Call(ctxT(t, 5*time.Second), q, "x", 10, &s); err != nil || len(s) != 10 {
		t.Errorf("small reply after the oversized one: %q, %v", s, err)
	}
	sub := Name(t, "bigstream")
	if err := b.Publish(ctxT(t, 5*time.Second), sub, "x", big); !esign.IsKind(err, esign.Invalid) {
		t.Errorf("oversized event: %v, want Invalid", err)
	}
}

func testConcurrentCalls(t *testing.T, newBus Factory) {
	b := newBus(t, Limits)
	q := Name(t, "conc")
	serveEcho(t, b, q)
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for w := range 20 {
		wg.Go(func() {
			for i := range 20 {
				var r echoResp
				req := echoReq{Text: fmt.Sprintf("%d-%d", w, i), N: i}
				if err := b.Call(ctxT(t, 10*time.Second), q, "echo", req, &r); err != nil {
					errs <- err
				} else if r.Text != req.Text || r.N != i+1 {
					errs <- fmt.Errorf("reply %+v to %+v: crossed wires", r, req)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

type recorder struct {
	mu   sync.Mutex
	seen map[string]int
	n    chan struct{}
}

func newRecorder() *recorder { return &recorder{seen: map[string]int{}, n: make(chan struct{}, 10000)} }

func (r *recorder) handler(ctx context.Context, ev *bus.Event) error {
	var v string
	if err := ev.Decode(&v); err != nil {
		return err
	}
	r.mu.Lock()
	r.seen[v]++
	r.mu.Unlock()
	r.n <- struct{}{}
	return nil
}

func (r *recorder) wait(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for range n {
		select {
		case <-r.n:
		case <-timeout:
			t.Fatalf("timed out waiting for %d events", n)
		}
	}
}

func (r *recorder) count() (distinct, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.seen {
		total += c
	}
	return len(r.seen), total
}

func testEventGroups(t *testing.T, newBus Factory) {
	b := newBus(t, Limits)
	s := Name(t, "events")
	a, c := newRecorder(), newRecorder()
	for _, sub := range []struct {
		group string
		r     *recorder
	}{{"a", a}, {"a", a}, {"c", c}} {
		if err := b.Subscribe(t.Context(), s, sub.group, sub.r.handler); err != nil {
			t.Fatal(err)
		}
	}
	const n = 50
	for i := range n {
		if err := b.Publish(ctxT(t, 5*time.Second), s, "test.event", fmt.Sprint(i)); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	a.wait(t, n)
	c.wait(t, n)
	time.Sleep(100 * time.Millisecond) // let any duplicate show up
	for name, r := range map[string]*recorder{"a": a, "c": c} {
		if d, tot := r.count(); d != n || tot != n {
			t.Errorf("group %s got %d distinct / %d total events, want %d", name, d, tot, n)
		}
	}
}

func testEventDeadLetter(t *testing.T, newBus Factory) {
	b := newBus(t, Limits)
	dl, ok := b.(bus.DeadLetterer)
	if !ok {
		t.Skip("the transport has no dead-letter access")
	}
	tests := []struct {
		name  string
		err   error
		calls int
	}{
		{"retryable", esign.E("h", esign.Unavailable, "down"), Limits.MaxDeliveries},
		{"internal", errors.New("bug"), Limits.MaxDeliveries},
		{"permanent", esign.E("h", esign.Invalid, "bad event"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Name(t, "dlq")
			var calls atomic.Int32
			attempts := make(chan int, 100)
			err := b.Subscribe(t.Context(), s, "g", func(ctx context.Context, ev *bus.Event) error {
				calls.Add(1)
				attempts <- ev.Attempt
				return tt.err
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Publish(ctxT(t, 5*time.Second), s, "fail", "payload"); err != nil {
				t.Fatal(err)
			}
			var dead []*bus.Event
			deadline := time.Now().Add(10 * time.Second)
			for len(dead) == 0 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
				dead, err = dl.TakeDeadLetters(ctxT(t, 5*time.Second), s, "g", 10)
				if err != nil {
					t.Fatal(err)
				}
			}
			if len(dead) != 1 || dead[0].Type != "fail" || string(dead[0].Body) != `"payload"` {
				t.Fatalf("dead letters = %v, want the one event", dead)
			}
			time.Sleep(100 * time.Millisecond) // no delivery after dead-lettering
			if got := int(calls.Load()); got != tt.calls {
				t.Errorf("handler called %d times, want %d", got, tt.calls)
			}
			for i := 1; i <= tt.calls; i++ {
				if a := <-attempts; a != i {
					t.Errorf("delivery %d had Attempt %d", i, a)
				}
			}
		})
	}
}

func testEventRetrySuccess(t *testing.T, newBus Factory) {
	b := newBus(t, Limits)
	s := Name(t, "retry")
	done := make(chan int, 1)
	var calls atomic.Int32
	err := b.Subscribe(t.Context(), s, "g", func(ctx context.Context, ev *bus.Event) error {
		if calls.Add(1) < int32(Limits.MaxDeliveries) {
			return esign.E("h", esign.Unavailable, "not yet")
		}
		done <- ev.Attempt
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctxT(t, 5*time.Second), s, "e", 1); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-done:
		if a != Limits.MaxDeliveries {
			t.Errorf("succeeded on Attempt %d, want %d", a, Limits.MaxDeliveries)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the event was not delivered again")
	}
	if dl, ok := b.(bus.DeadLetterer); ok {
		time.Sleep(100 * time.Millisecond)
		if dead, err := dl.TakeDeadLetters(ctxT(t, 5*time.Second), s, "g", 10); err != nil || len(dead) != 0 {
			t.Errorf("dead letters after success: %v, %v", dead, err)
		}
	}
}

func testPrivate(t *testing.T, newBus Factory) {
	b1, b2 := newBus(t, Limits), newBus(t, Limits)
	s := Name(t, "broadcast")
	r1, r2 := newRecorder(), newRecorder()
	ctx, cancel := context.WithCancel(t.Context())
	if err := b1.Subscribe(ctx, s, "", r1.handler); err != nil {
		t.Fatal(err)
	}
	if err := b2.Subscribe(t.Context(), s, "", r2.handler); err != nil {
		t.Fatal(err)
	}
	if err := b1.Publish(ctxT(t, 5*time.Second), s, "e", "one"); err != nil {
		t.Fatal(err)
	}
	r1.wait(t, 1)
	r2.wait(t, 1)
	cancel() // b1's subscription ends; publishing must not block on it
	time.Sleep(100 * time.Millisecond)
	for i := range 5 {
		if err := b1.Publish(ctxT(t, 5*time.Second), s, "e", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	r2.wait(t, 5)
	if d, _ := r1.count(); d != 1 {
		t.Errorf("a cancelled subscription received %d events, want 1", d)
	}
}

func testPing(t *testing.T, newBus Factory) {
	b := newBus(t, Limits)
	q := Name(t, "ping")
	if err := bus.Ping(ctxT(t, 2*time.Second), b, q); !esign.IsKind(err, esign.Unavailable) {
		t.Errorf("Ping with no server = %v, want Unavailable", err)
	}
	if err := bus.ServePing(t.Context(), b, q); err != nil {
		t.Fatal(err)
	}
	if err := bus.Ping(ctxT(t, 2*time.Second), b, q); err != nil {
		t.Errorf("Ping: %v", err)
	}
	other := Name(t, "ping-nobody")
	err := bus.PingAll(ctxT(t, 2*time.Second), b, q, other)
	if !esign.IsKind(err, esign.Unavailable) || !strings.Contains(err.Error(), other) || strings.Contains(err.Error(), q+":") {
		t.Errorf("PingAll with one queue down = %v, want Unavailable naming only %s", err, other)
	}
	if err := bus.PingAll(ctxT(t, 2*time.Second), b, q); err != nil {
		t.Errorf("PingAll: %v", err)
	}
}

func testSystemConfig(t *testing.T, newBus Factory) {
	oss, css1, css2 := newBus(t, Limits), newBus(t, Limits), newBus(t, Limits)
	var h1, h2 bus.SystemConfigHolder
	if err := h1.Subscribe(t.Context(), css1); err != nil {
		t.Fatal(err)
	}
	if err := h2.Subscribe(t.Context(), css2); err != nil {
		t.Fatal(err)
	}
	if err := bus.PushSystemConfig(ctxT(t, 5*time.Second), oss, bus.SystemConfig{}); !esign.IsKind(err, esign.Invalid) {
		t.Errorf("pushing version 0: %v, want Invalid", err)
	}
	for _, v := range []int64{2, 1} { // an older push arriving late must not win
		cfg := bus.SystemConfig{Version: v, UpdatedAt: time.Now().UTC(), Settings: map[string]string{"brand": fmt.Sprint("v", v)}}
		if err := bus.PushSystemConfig(ctxT(t, 5*time.Second), oss, cfg); err != nil {
			t.Fatal(err)
		}
	}
	for i, h := range []*bus.SystemConfigHolder{&h1, &h2} {
		cfg, err := h.Wait(ctxT(t, 10*time.Second), 2)
		if err != nil {
			t.Fatalf("css%d: %v", i+1, err)
		}
		time.Sleep(50 * time.Millisecond)
		if cfg, _ = h.Latest(); cfg.Version != 2 || cfg.Settings["brand"] != "v2" {
			t.Errorf("css%d holds %+v, want version 2", i+1, cfg)
		}
	}
}

// NoLeaks checks that a bus used for calls, serving, publishing and
// subscribing leaves no goroutine behind after Close. Run it outside of
// parallel tests. newBus must return a bus that is not closed by Cleanup.
func NoLeaks(t *testing.T, newBus func(t *testing.T) bus.Bus) {
	before := runtime.NumGoroutine()
	b := newBus(t)
	q, s := Name(t, "leak"), Name(t, "leak")
	serveEcho(t, b, q)
	r := newRecorder()
	if err := b.Subscribe(t.Context(), s, "g", r.handler); err != nil {
		t.Fatal(err)
	}
	if err := b.Subscribe(t.Context(), s, "", r.handler); err != nil {
		t.Fatal(err)
	}
	var resp echoResp
	if err := b.Call(ctxT(t, 5*time.Second), q, "echo", echoReq{Text: "x"}, &resp); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctxT(t, 5*time.Second), s, "e", "x"); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 2)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Call(ctxT(t, time.Second), q, "echo", nil, nil); !esign.IsKind(err, esign.Unavailable) {
		t.Errorf("Call after Close = %v, want Unavailable", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after Close:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// testTraceContext: the W3C trace context set on the sender's context
// reaches the handler of a call and of an event; without one, none does.
func testTraceContext(t *testing.T, newBus Factory) {
	b := newBus(t, Limits)
	q, s := Name(t, "traced"), Name(t, "traced")
	calls := make(chan bus.TraceContext, 2)
	if err := b.Serve(t.Context(), q, func(ctx context.Context, req *bus.Request) (any, error) {
		calls <- req.Trace
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	events := make(chan bus.TraceContext, 2)
	if err := b.Subscribe(t.Context(), s, "traced", func(ctx context.Context, ev *bus.Event) error {
		events <- ev.Trace
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tc := bus.TraceContext{Parent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", State: "esign=1"}
	for _, want := range []bus.TraceContext{tc, {}} {
		ctx := ctxT(t, 5*time.Second)
		if want != (bus.TraceContext{}) {
			ctx = bus.WithTraceContext(ctx, want)
		}
		if err := b.Call(ctx, q, "m", nil, nil); err != nil {
			t.Fatal(err)
		}
		if err := b.Publish(ctx, s, "e", nil); err != nil {
			t.Fatal(err)
		}
		for what, ch := range map[string]chan bus.TraceContext{"call": calls, "event": events} {
			select {
			case got := <-ch:
				if got != want {
					t.Errorf("%s: handler saw %+v, want %+v", what, got, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: no delivery", what)
			}
		}
	}
}
