package inproc_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"esign/internal/bus"
	"esign/internal/bus/inproc"
)

// BenchmarkCall measures in-process RPC round trips, JSON encoding included.
func BenchmarkCall(b *testing.B) {
	bb := inproc.New(inproc.Options{Limits: bus.Limits{Prefetch: 128}, Logger: slog.New(slog.DiscardHandler)})
	defer bb.Close()
	if err := bb.Serve(b.Context(), "bench", func(ctx context.Context, req *bus.Request) (any, error) {
		return req.Body, nil
	}); err != nil {
		b.Fatal(err)
	}
	body := strings.Repeat("x", 256)
	b.SetParallelism(16)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var reply string
		for pb.Next() {
			if err := bb.Call(context.Background(), "bench", "echo", body, &reply); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPublish measures publishing to one subscribed group.
func BenchmarkPublish(b *testing.B) {
	bb := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
	defer bb.Close()
	if err := bb.Subscribe(b.Context(), "bench", "sink", func(ctx context.Context, ev *bus.Event) error { return nil }); err != nil {
		b.Fatal(err)
	}
	body := strings.Repeat("x", 256)
	b.ReportAllocs()
	for b.Loop() {
		if err := bb.Publish(context.Background(), "bench", "e", body); err != nil {
			b.Fatal(err)
		}
	}
}
