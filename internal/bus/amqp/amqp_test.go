package amqp

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"esign/internal/bus"
	"esign/internal/bus/bustest"
	"esign/internal/esigntest"
)

func testLogger(tb testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tb.Output(), nil))
	}
	return slog.New(slog.DiscardHandler)
}

// dialTest connects a bus for tb and removes the queues and exchanges it
// declared when tb ends.
func dialTest(tb testing.TB, url, name string, l bus.Limits) *Bus {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := Dial(ctx, Options{URL: url, Name: name, Limits: l, Logger: testLogger(tb)})
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
	if err := DeleteTopology(ctx, url, map[string]bool{q: false}); err != nil {
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
		b, err := Dial(ctx, Options{URL: url, Name: "esign-test-leaks", Limits: bustest.Limits, Logger: testLogger(t)})
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
