package amqp

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"esign/internal/bus"
	"esign/internal/bus/bustest"
	"esign/internal/esign"
	"esign/internal/esigntest"
)

func testLogger(tb testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tb.Output(), nil))
	}
	return slog.New(slog.DiscardHandler)
}

// dialTest connects a bus for tb, in tb's own namespace, and removes the
// queues and exchanges it declared when tb ends.
func dialTest(tb testing.TB, url, name string, l bus.Limits) *Bus {
	tb.Helper()
	return dialNamespace(tb, url, name, bustest.Namespace(tb), l)
}

func dialNamespace(tb testing.TB, url, name, ns string, l bus.Limits) *Bus {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := Dial(ctx, Options{URL: url, Name: name, Namespace: ns, Limits: l, Logger: testLogger(tb)})
	if err != nil {
		tb.Fatalf("Dial: %v", err)
	}
	tb.Cleanup(func() {
		names := b.Declared()
		b.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := DeleteTopology(ctx, url, names); err != nil {
			tb.Errorf("clean-up: %v", err)
		}
	})
	return b
}

func TestConformance(t *testing.T) {
	url := esigntest.ServerURL(t, esigntest.AMQPURLEnv)
	bustest.Run(t, func(tb testing.TB, l bus.Limits) bus.Bus {
		return dialTest(tb, url, "esign-test-conformance", l)
	})
}

func TestDialFails(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := Dial(ctx, Options{URL: "amqp://guest:guest@127.0.0.1:1/", Logger: testLogger(t)})
	if err == nil {
		t.Fatal("Dial to a closed port succeeded")
	}
	_, err = Dial(ctx, Options{URL: "amqp://guest:guest@127.0.0.1:1/", Namespace: "Bank A", Logger: testLogger(t)})
	if !esign.IsKind(err, esign.Invalid) || !strings.Contains(err.Error(), "namespace") {
		t.Errorf("Dial with a bad namespace = %v, want Invalid", err)
	}
}

// TestQueueDeleted deletes a served queue under its consumer: the server
// declares it again and calls work again, on the same connection.
func TestQueueDeleted(t *testing.T) {
	url := esigntest.ServerURL(t, esigntest.AMQPURLEnv)
	b := dialTest(t, url, "esign-test-queue-deleted", bustest.Limits)
	q := bustest.Name(t, "deleted")
	if err := bus.ServePing(t.Context(), b, q); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := bus.Ping(ctx, b, q); err != nil {
		t.Fatal(err)
	}
	if err := DeleteTopology(ctx, url, map[string]bool{b.broker(q): false}); err != nil {
		t.Fatal(err)
	}
	var err error
	for ctx.Err() == nil {
		pctx, pcancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err = bus.Ping(pctx, b, q)
		pcancel()
		if err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the server did not come back after its queue was deleted: %v", err)
}

func TestNoLeaks(t *testing.T) {
	url := esigntest.ServerURL(t, esigntest.AMQPURLEnv)
	bustest.NoLeaks(t, func(t *testing.T) bus.Bus {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		b, err := Dial(ctx, Options{URL: url, Name: "esign-test-leaks", Namespace: bustest.Namespace(t), Limits: bustest.Limits, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := DeleteTopology(ctx, url, b.Declared()); err != nil {
				t.Errorf("clean-up: %v", err)
			}
		})
		return b
	})
}

// TestNamespaces runs two deployments on one broker with the
// specification's names, each in its own namespace: a call in one is
// answered only by its own server, and an event published in one reaches
// only its own subscribers (a durable group and a private subscription).
func TestNamespaces(t *testing.T) {
	url := esigntest.ServerURL(t, esigntest.AMQPURLEnv)
	// One message at a time per consumer, so that each subscriber sees its
	// queue in order.
	limits := bustest.Limits
	limits.Prefetch = 1
	type deployment struct {
		name     string
		srv, cli *Bus
		group    chan string
		private  chan string
	}
	var deps []*deployment
	for _, name := range []string{"a", "b"} {
		ns := bustest.Namespace(t) + "-" + name
		d := &deployment{
			name:    name,
			srv:     dialNamespace(t, url, "esign-test-ns-"+name+"-server", ns, limits),
			cli:     dialNamespace(t, url, "esign-test-ns-"+name+"-client", ns, limits),
			group:   make(chan string, 16),
			private: make(chan string, 16),
		}
		if err := d.srv.Serve(t.Context(), bus.QueueApp, func(ctx context.Context, req *bus.Request) (any, error) {
			return name, nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, sub := range []struct {
			group string
			got   chan string
		}{{"audit", d.group}, {"", d.private}} {
			if err := d.srv.Subscribe(t.Context(), bus.StreamServiceBus, sub.group, func(ctx context.Context, ev *bus.Event) error {
				var from string
				if err := ev.Decode(&from); err != nil {
					return err
				}
				sub.got <- from
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		deps = append(deps, d)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	t.Run("Calls", func(t *testing.T) {
		for _, d := range deps {
			// Two servers with two channels each: twenty calls would
			// reach the other deployment's server if they shared a queue.
			for range 20 {
				var who string
				if err := d.cli.Call(ctx, bus.QueueApp, "who", nil, &who); err != nil {
					t.Fatal(err)
				}
				if who != d.name {
					t.Fatalf("a call in namespace %s was answered by %s", d.name, who)
				}
			}
		}
	})

	t.Run("Events", func(t *testing.T) {
		// Each deployment publishes its own name, a's first (confirmed
		// before b's is sent). Queues are FIFO and consumers take one
		// message at a time: a's event, had it reached b's queues, would
		// arrive there before b's own.
		for _, d := range deps {
			if err := d.cli.Publish(ctx, bus.StreamServiceBus, "hello", d.name); err != nil {
				t.Fatal(err)
			}
		}
		for _, d := range deps {
			for what, got := range map[string]chan string{"group": d.group, "private": d.private} {
				select {
				case from := <-got:
					if from != d.name {
						t.Errorf("the %s subscriber of namespace %s received an event of %s", what, d.name, from)
					}
				case <-ctx.Done():
					t.Fatalf("the %s subscriber of namespace %s received nothing", what, d.name)
				}
			}
		}
	})
}
