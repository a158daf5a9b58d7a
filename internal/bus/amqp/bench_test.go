package amqp

import (
	"context"
	"strings"
	"testing"

	"esign/internal/bus"
	"esign/internal/bus/bustest"
	"esign/internal/esigntest"
)

// BenchmarkCall measures RPC round trips over the broker, with the server and
// the client on separate connections; -cpu sets GOMAXPROCS and
// RunParallel runs 16 callers per proc.
func BenchmarkCall(b *testing.B) {
	url := esigntest.ServerURL(b, esigntest.AMQPURLEnv)
	l := bus.Limits{Prefetch: 128}
	srv := dialTest(b, url, "esign-bench-server", l)
	cli := dialTest(b, url, "esign-bench-client", l)
	q := bustest.Name(b, "bench")
	if err := srv.Serve(b.Context(), q, func(ctx context.Context, req *bus.Request) (any, error) {
		return req.Body, nil
	}); err != nil {
		b.Fatal(err)
	}
	body := strings.Repeat("x", 256)
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var reply string
		for pb.Next() {
			if err := cli.Call(context.Background(), q, "echo", body, &reply); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPublish measures confirmed event publishes.
func BenchmarkPublish(b *testing.B) {
	url := esigntest.ServerURL(b, esigntest.AMQPURLEnv)
	cli := dialTest(b, url, "esign-bench-publisher", bus.Limits{})
	s := bustest.Name(b, "bench")
	// A durable group queue so that the events are routed and stored.
	if err := cli.Subscribe(b.Context(), s, "sink", func(ctx context.Context, ev *bus.Event) error { return nil }); err != nil {
		b.Fatal(err)
	}
	body := strings.Repeat("x", 256)
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := cli.Publish(context.Background(), s, "bench", body); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
