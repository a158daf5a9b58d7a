package amqp

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"esign/internal/bus"
	"esign/internal/bus/bustest"
	"esign/internal/esign"
	"esign/internal/esigntest"
)

// closeConnections makes the broker drop every connection whose name
// contains name, as a broker restart or a network cut would.
func closeConnections(t *testing.T, rabbitmqctl, name string) int {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), rabbitmqctl, "list_connections", "-q", "pid", "client_properties").CombinedOutput()
	if err != nil {
		t.Fatalf("rabbitmqctl list_connections: %v\n%s", err, out)
	}
	var pids []string
	for line := range strings.SplitSeq(string(out), "\n") {
		if strings.Contains(line, name) {
			pid, _, _ := strings.Cut(line, "\t")
			pids = append(pids, pid)
		}
	}
	// Drop them all at once, as a broker restart would.
	var wg sync.WaitGroup
	for _, pid := range pids {
		wg.Go(func() {
			if out, err := exec.CommandContext(t.Context(), rabbitmqctl, "close_connection", pid, "esign fault test").CombinedOutput(); err != nil {
				t.Errorf("rabbitmqctl close_connection %s: %v\n%s", pid, err, out)
			}
		})
	}
	wg.Wait()
	return len(pids)
}

// TestBrokerConnectionDrop drops the connections of a server and a client
// while calls and events flow: calls during the outage fail fast with
// Unavailable, calls succeed again soon after without a restart, and no
// confirmed event is lost.
func TestBrokerConnectionDrop(t *testing.T) {
	url := esigntest.ServerURL(t, esigntest.AMQPURLEnv)
	ctl := esigntest.Tool(t, "rabbitmqctl")
	if testing.Short() {
		t.Skip("the fault test takes about 15 s")
	}
	runFault(t, url, func(name string) time.Time {
		var dropped time.Time
		for i := range 2 {
			if i > 0 {
				time.Sleep(time.Second)
			}
			if n := closeConnections(t, ctl, name); n < 2 {
				t.Errorf("closed %d connections, want at least 2 (server and client)", n)
			}
			dropped = time.Now()
		}
		return dropped
	})
}

// TestBrokerRestart stops the broker application for two seconds and starts
// it again while calls and events flow. It disturbs every user of the
// broker, so it runs only with ESIGN_TEST_AMQP_RESTART=1.
func TestBrokerRestart(t *testing.T) {
	url := esigntest.ServerURL(t, esigntest.AMQPURLEnv)
	ctl := esigntest.Tool(t, "rabbitmqctl")
	if os.Getenv("ESIGN_TEST_AMQP_RESTART") != "1" {
		t.Skip("set ESIGN_TEST_AMQP_RESTART=1 to stop and start the broker (disturbs its other users)")
	}
	runFault(t, url, func(name string) time.Time {
		run := func(args ...string) {
			if out, err := exec.CommandContext(t.Context(), ctl, args...).CombinedOutput(); err != nil {
				t.Fatalf("rabbitmqctl %v: %v\n%s", args, err, out)
			}
		}
		run("stop_app")
		time.Sleep(2 * time.Second)
		run("start_app")
		run("await_startup")
		return time.Now()
	})
}

// runFault runs calls and confirmed publishes while inject breaks the
// broker, then checks what the fault tests promise. inject returns when the
// broker is usable again.
func runFault(t *testing.T, url string, inject func(name string) time.Time) {
	name := "esign-test-fault-" + bus.NewID()[:8]
	limits := bustest.Limits
	limits.Prefetch = 64
	srv := dialTest(t, url, name+"-server", limits)
	cli := dialTest(t, url, name+"-client", limits)
	q, stream := bustest.Name(t, "rpc"), bustest.Name(t, "events")

	if err := srv.Serve(t.Context(), q, func(ctx context.Context, req *bus.Request) (any, error) {
		return req.Body, nil
	}); err != nil {
		t.Fatal(err)
	}
	var seenMu sync.Mutex
	seen := map[string]bool{}
	if err := srv.Subscribe(t.Context(), stream, "audit", func(ctx context.Context, ev *bus.Event) error {
		var id string
		if err := ev.Decode(&id); err != nil {
			return err
		}
		seenMu.Lock()
		seen[id] = true
		seenMu.Unlock()
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	const callDeadline = time.Second
	var (
		stop                     atomic.Bool
		ok, unavailable, timeout atomic.Int64
		lastOK                   atomic.Int64 // unix nanos of the last successful call
		wg                       sync.WaitGroup
		confirmedMu              sync.Mutex
		confirmed                []string
		failures                 = make(chan error, 100)
	)
	for w := range 8 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				ctx, cancel := context.WithTimeout(t.Context(), callDeadline)
				start := time.Now()
				var got string
				want := fmt.Sprintf("%d-%d", w, i)
				err := cli.Call(ctx, q, "echo", want, &got)
				took := time.Since(start)
				cancel()
				switch {
				case err == nil && got == want:
					ok.Add(1)
					lastOK.Store(time.Now().UnixNano())
				case err == nil:
					failures <- fmt.Errorf("reply %q to %q", got, want)
				case esign.IsKind(err, esign.Unavailable):
					unavailable.Add(1)
					if took > callDeadline/2 {
						failures <- fmt.Errorf("a call took %v to fail with Unavailable; it should fail fast: %w", took, err)
					}
					time.Sleep(10 * time.Millisecond)
				case esign.IsKind(err, esign.Timeout):
					timeout.Add(1)
				default:
					failures <- fmt.Errorf("unexpected error: %w", err)
				}
				if took > callDeadline+500*time.Millisecond {
					failures <- fmt.Errorf("a call took %v, past its %v deadline", took, callDeadline)
				}
			}
		})
	}
	for p := range 2 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				id := fmt.Sprintf("p%d-%d", p, i)
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
				err := cli.Publish(ctx, stream, "audit.test", id)
				cancel()
				if err == nil {
					confirmedMu.Lock()
					confirmed = append(confirmed, id)
					confirmedMu.Unlock()
				} else {
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}

	time.Sleep(500 * time.Millisecond)
	if ok.Load() == 0 {
		t.Fatal("no call succeeded before the fault")
	}
	dropped := inject(name)
	// Calls succeed again without a restart, within 10 s.
	for time.Since(dropped) < 10*time.Second && lastOK.Load() < dropped.UnixNano() {
		time.Sleep(10 * time.Millisecond)
	}
	if lastOK.Load() < dropped.UnixNano() {
		t.Errorf("no call succeeded within 10 s after the last connection drop")
	} else {
		t.Logf("calls succeeded again within %v after the last drop", time.Since(dropped).Round(10*time.Millisecond))
	}
	time.Sleep(500 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Error(err)
	}
	t.Logf("calls: %d ok, %d unavailable, %d timed out; events confirmed: %d", ok.Load(), unavailable.Load(), timeout.Load(), len(confirmed))
	if unavailable.Load() == 0 {
		t.Error("no call saw the outage; the fault was not injected")
	}

	// Every event the broker confirmed reaches the subscriber.
	deadline := time.Now().Add(10 * time.Second)
	var missing []string
	for {
		missing = missing[:0]
		seenMu.Lock()
		for _, id := range confirmed {
			if !seen[id] {
				missing = append(missing, id)
			}
		}
		seenMu.Unlock()
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d confirmed events never arrived, e.g. %v", len(missing), len(confirmed), missing[:min(5, len(missing))])
	}
}

// TestBadInput puts malformed and oversized messages straight onto a queue
// and a stream: they are rejected (events to the dead-letter queue), and the
// consumers keep working.
func TestBadInput(t *testing.T) {
	url := esigntest.ServerURL(t, esigntest.AMQPURLEnv)
	b := dialTest(t, url, "esign-test-badinput", bustest.Limits)
	q, stream := bustest.Name(t, "rpc"), bustest.Name(t, "events")
	var calls atomic.Int32
	if err := b.Serve(t.Context(), q, func(ctx context.Context, req *bus.Request) (any, error) {
		calls.Add(1)
		return "ok", nil
	}); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 10)
	if err := b.Subscribe(t.Context(), stream, "g", func(ctx context.Context, ev *bus.Event) error {
		var s string
		if err := ev.Decode(&s); err != nil {
			return err
		}
		got <- s
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	replies, err := ch.Consume("amq.rabbitmq.reply-to", "", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	huge := `{"v":1,"id":"x","type":"t","body":"` + strings.Repeat("A", bustest.Limits.MaxMessageSize) + `"}`
	bad := []struct {
		name string
		body string
	}{
		{"not_json", "\x00\xff garbage"},
		{"wrong_version", `{"v":99,"id":"x","type":"t"}`},
		{"no_id", `{"v":1,"type":"t"}`},
		{"trailing", `{"v":1,"id":"x","type":"t"} {}`},
		{"oversized", huge},
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			err := ch.PublishWithContext(ctx, "", b.broker(q), false, false, amqp.Publishing{
				CorrelationId: tt.name, ReplyTo: "amq.rabbitmq.reply-to", Body: []byte(tt.body)})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case d := <-replies:
				env, err := bus.ParseEnvelope(d.Body, 0)
				if err != nil {
					t.Fatalf("reply is not an envelope: %v", err)
				}
				if d.CorrelationId != tt.name || env.Error == nil || env.Error.Kind != "invalid" {
					t.Errorf("reply %s %+v, want an invalid error for %s", d.CorrelationId, env.Error, tt.name)
				}
			case <-ctx.Done():
				t.Fatal("no reply to a malformed request")
			}
			if err := ch.PublishWithContext(ctx, b.broker(stream), "x", false, false, amqp.Publishing{MessageId: tt.name, Body: []byte(tt.body)}); err != nil {
				t.Fatal(err)
			}
		})
	}
	if calls.Load() != 0 {
		t.Errorf("the handler saw %d malformed requests", calls.Load())
	}
	var s string
	if err := b.Call(ctx, q, "x", nil, &s); err != nil || s != "ok" {
		t.Errorf("a good call after the bad ones: %q, %v", s, err)
	}
	if err := b.Publish(ctx, stream, "x", "good"); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "good" {
			t.Errorf("subscriber got %q", s)
		}
	case <-ctx.Done():
		t.Fatal("the subscriber stopped working")
	}
	var dead []*bus.Event
	for len(dead) < len(bad) && ctx.Err() == nil {
		d, err := b.TakeDeadLetters(ctx, stream, "g", 10)
		if err != nil {
			t.Fatal(err)
		}
		dead = append(dead, d...)
		time.Sleep(20 * time.Millisecond)
	}
	if len(dead) != len(bad) {
		t.Errorf("%d events in the dead-letter queue, want %d", len(dead), len(bad))
	}
	for _, d := range dead {
		if d.Type != "" && d.Type != "x" {
			t.Errorf("unexpected dead letter %+v", d)
		}
	}
}
