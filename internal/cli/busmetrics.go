package cli

import (
	"context"

	"esign/internal/bus"
	"esign/internal/esign"
	"esign/internal/metrics"
)

// countedBus counts the RPC calls the process makes on the bus, by queue,
// method and outcome (ok or the error's kind), as esign_bus_calls_total:
// the bus round trips a signing flow costs (docs/performance.md). Each call
// counts once, at the caller; events are not calls.
func countedBus(b bus.Bus, reg *metrics.Registry) bus.Bus {
	if reg == nil {
		return b
	}
	c := &callCounter{Bus: b, calls: reg.Counter("esign_bus_calls_total",
		"RPC calls made on the message bus, by queue, method and result (ok or the error kind).", "queue", "method", "result")}
	if dl, ok := b.(bus.DeadLetterer); ok {
		return &callCounterDL{callCounter: c, DeadLetterer: dl}
	}
	return c
}

type callCounter struct {
	bus.Bus
	calls *metrics.CounterVec
}

func (c *callCounter) Call(ctx context.Context, queue, method string, req, resp any) error {
	err := c.Bus.Call(ctx, queue, method, req, resp)
	result := "ok"
	if err != nil {
		result = esign.ErrorKind(err).String()
	}
	c.calls.Inc(queue, method, result)
	return err
}

type callCounterDL struct {
	*callCounter
	bus.DeadLetterer
}
