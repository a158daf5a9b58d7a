// Package amqptest connects tests to the RabbitMQ broker of
// $ESIGN_TEST_AMQP_URL in a namespace of their own.
package amqptest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"esign/internal/bus/amqp"
	"esign/internal/bus/bustest"
	"esign/internal/esigntest"
)

// Pair dials a server and a client connection to the broker at
// $ESIGN_TEST_AMQP_URL (as two processes would have), in tb's own bus
// namespace, and deletes what the server declared when the test ends. It
// skips tb when the variable is unset (esigntest.ServerURL).
func Pair(tb testing.TB, name string) (server, client *amqp.Bus) {
	tb.Helper()
	url := esigntest.ServerURL(tb, esigntest.AMQPURLEnv)
	dial := func(name string) *amqp.Bus {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b, err := amqp.Dial(ctx, amqp.Options{URL: url, Name: name, Namespace: bustest.Namespace(tb), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	server, client = dial(name+"-server"), dial(name+"-client")
	tb.Cleanup(func() {
		names := server.Declared()
		client.Close()
		server.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := amqp.DeleteTopology(ctx, url, names); err != nil {
			tb.Errorf("clean-up: %v", err)
		}
	})
	return server, client
}
