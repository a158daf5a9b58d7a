// Command esign-bench runs load and benchmark scenarios against esign's
// parts and prints one JSON summary line per run.
//
//	esign-bench rpc --transport amqp --concurrency 64 --duration 10s
//	esign-bench pdfsign --size 1048576 --level B-B --concurrency 1 --duration 10s
//	esign-bench mobile --url http://127.0.0.1:10185 --op login --concurrency 4 --duration 10s
//	esign-bench flow --url http://127.0.0.1:10185 --concurrency 8 --duration 30s
//	bench/faults.sh --short   (esign-bench faults and esign-bench proxy underneath)
//	ESIGN_BENCH_WEBHOOK_AUTH=user:pw esign-bench upload --url http://127.0.0.1:10182 --size 1048576 --duration 10s
//	ESIGN_BENCH_WEBHOOK_AUTH=user:pw esign-bench upload --size 45000000 --concurrency 8 --uploads 1 --pid $(pidof esign)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: esign-bench <scenario> [flags]

scenarios:
  rpc      bus RPC round trips (esign-bench rpc -h for flags)
  pdfsign  PAdES signing of one input (esign-bench pdfsign -h for flags)
  mobile   mobile REST API logins or offer lists against a running oss (esign-bench mobile -h)
  upload   webhook offer uploads against a running oss, optionally its peak memory (--pid) (esign-bench upload -h)
  flow     complete signing flows (reference device clients, M1/M2, sealed contract) against a running system (esign-bench flow -h)
  faults   the fault-injection suite under a signing load (run by bench/faults.sh; docs/reliability.md)
  proxy    TCP proxies that cut, terminate or stall connections, switched over HTTP (for bench/faults.sh)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "esign-bench:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no scenario given")
	}
	switch args[0] {
	case "rpc":
		return runRPC(ctx, args[1:], stdout, stderr)
	case "pdfsign":
		return runPDFSignTo(ctx, args[1:], stdout, stderr)
	case "mobile":
		return runMobile(ctx, args[1:], stdout, stderr)
	case "upload":
		return runUpload(ctx, args[1:], stdout, stderr)
	case "flow":
		return runFlow(ctx, args[1:], stdout, stderr)
	case "faults":
		return runFaults(ctx, args[1:], stdout, stderr)
	case "proxy":
		return runProxy(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown scenario %q", args[0])
}
