package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"esign/internal/bus"
	busamqp "esign/internal/bus/amqp"
	"esign/internal/bus/inproc"
)

// rpcSummary is the one JSON line the rpc scenario prints.
type rpcSummary struct {
	Scenario     string  `json:"scenario"`
	Transport    string  `json:"transport"`
	Concurrency  int     `json:"concurrency"`
	PayloadBytes int     `json:"payload_bytes"`
	DurationS    float64 `json:"duration_s"`
	Calls        int     `json:"calls"`
	CallsPerS    float64 `json:"calls_per_s"`
	P50Ms        float64 `json:"p50_ms"`
	P99Ms        float64 `json:"p99_ms"`
	MaxMs        float64 `json:"max_ms"`
	Errors       int     `json:"errors"`
	FirstError   string  `json:"first_error,omitempty"`
}

// runRPC measures round trips through Call → Serve(echo) → reply. On AMQP
// the server and the client use separate connections, as two processes
// would.
func runRPC(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rpc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	transport := fs.String("transport", "inproc", "bus transport: amqp or inproc")
	url := fs.String("amqp-url", os.Getenv("ESIGN_TEST_AMQP_URL"), "RabbitMQ URL for --transport amqp")
	concurrency := fs.Int("concurrency", 64, "concurrent callers")
	duration := fs.Duration("duration", 10*time.Second, "measured duration")
	warmup := fs.Duration("warmup", time.Second, "unmeasured warm-up before the measurement")
	payload := fs.Int("payload", 256, "request body size in bytes (echoed back)")
	channels := fs.Int("channels", 0, "AMQP channels per Serve and for Call (0: the transport's defaults)")
	timeout := fs.Duration("timeout", 5*time.Second, "deadline of each call")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *concurrency < 1 || *duration <= 0 || *payload < 0 {
		return fmt.Errorf("rpc: --concurrency must be ≥ 1, --duration > 0, --payload ≥ 0")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	limits := bus.Limits{Prefetch: max(*concurrency, bus.DefaultPrefetch)}

	var server, client bus.Bus
	switch *transport {
	case "inproc":
		b := inproc.New(inproc.Options{Limits: limits, Logger: log})
		defer b.Close()
		server, client = b, b
	case "amqp":
		if *url == "" {
			return fmt.Errorf("rpc: --amqp-url (or ESIGN_TEST_AMQP_URL) is required for --transport amqp")
		}
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		s, err := busamqp.Dial(dctx, busamqp.Options{URL: *url, Name: "esign-bench-server", Limits: limits, ServeChannels: *channels, Logger: log})
		if err != nil {
			return fmt.Errorf("rpc: %w", err)
		}
		c, err := busamqp.Dial(dctx, busamqp.Options{URL: *url, Name: "esign-bench-client", Limits: limits, CallChannels: *channels, Logger: log})
		if err != nil {
			s.Close()
			return fmt.Errorf("rpc: %w", err)
		}
		defer func() {
			names := s.Declared()
			c.Close()
			s.Close()
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := busamqp.DeleteTopology(cctx, *url, names); err != nil {
				fmt.Fprintln(stderr, "esign-bench: clean-up:", err)
			}
		}()
		server, client = s, c
	default:
		return fmt.Errorf("rpc: unknown --transport %q (amqp or inproc)", *transport)
	}

	queue := "esign-bench:rpc-" + bus.NewID()[:8]
	sctx, stopServer := context.WithCancel(ctx)
	defer stopServer()
	if err := server.Serve(sctx, queue, func(ctx context.Context, req *bus.Request) (any, error) {
		return req.Body, nil
	}); err != nil {
		return fmt.Errorf("rpc: serve: %w", err)
	}
	body := strings.Repeat("x", *payload)

	res, err := runLoad(ctx, loadOptions{Concurrency: *concurrency, Warmup: *warmup, Duration: *duration},
		func(ctx context.Context, _, _ int) error {
			var reply string
			cctx, cancel := context.WithTimeout(ctx, *timeout)
			defer cancel()
			if err := client.Call(cctx, queue, "echo", body, &reply); err != nil {
				return err
			}
			if len(reply) != len(body) {
				return fmt.Errorf("echo returned %d bytes, sent %d", len(reply), len(body))
			}
			return nil
		})
	if err != nil {
		return err
	}
	sum := rpcSummary{Scenario: "rpc", Transport: *transport, Concurrency: *concurrency, PayloadBytes: *payload,
		DurationS: duration.Seconds(), Calls: res.OK, CallsPerS: res.PerS, P50Ms: res.P50Ms, P99Ms: res.P99Ms,
		MaxMs: res.MaxMs, Errors: res.Errors, FirstError: res.FirstError}
	return json.NewEncoder(stdout).Encode(sum)
}
