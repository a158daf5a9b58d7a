package rpc_test

import (
	"context"
	"log/slog"
	"testing"

	"esign/internal/bus"
	"esign/internal/bus/inproc"
	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/rpc"
)

// BenchmarkListOffers measures offer.list (20 offers) through the client,
// the bus and the server onto the SQLite-backed service: the cost css pays
// per offer-list page.
func BenchmarkListOffers(b *testing.B) {
	for _, transport := range []string{"inproc", "amqp"} {
		b.Run(transport, func(b *testing.B) {
			var server, client bus.Bus
			switch transport {
			case "inproc":
				ib := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
				b.Cleanup(func() { ib.Close() })
				server, client = ib, ib
			case "amqp":
				s, c := amqpPair(b, "esign-bench-rpc")
				server, client = s, c
			}
			e := customerstest.New(b, customerstest.OpenDB(b, "sqlite"), nil, customers.Config{}, nil)
			q := rpc.Queues{App: "esign-bench:" + bus.NewID()[:8] + ":app", Customer: "esign-bench:" + bus.NewID()[:8] + ":customer",
				Offer: "esign-bench:" + bus.NewID()[:8] + ":offer", Contract: "esign-bench:" + bus.NewID()[:8] + ":contract",
				Document: "esign-bench:" + bus.NewID()[:8] + ":document", Timestamp: "esign-bench:" + bus.NewID()[:8] + ":timestamp"}
			if err := rpc.NewServer(e.Svc, rpc.ServerOptions{}).Serve(b.Context(), server, q); err != nil {
				b.Fatal(err)
			}
			cl := rpc.NewClient(client, q)
			a := onboard(b, e, cl, "Bench")
			for range 19 {
				e.Offer(b, a.c.ID, "More")
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					os, err := cl.ListOffers(context.Background(), a.session, 20, 0)
					if err != nil || len(os) != 20 {
						b.Errorf("list: %d offers, %v", len(os), err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
