package inproc_test

import (
	"log/slog"
	"sync"
	"testing"

	"esign/internal/bus"
	"esign/internal/bus/bustest"
	"esign/internal/bus/inproc"
)

// nopClose lets several "processes" of one test share one in-process bus, as
// several processes share one broker.
type nopClose struct{ *inproc.Bus }

func (nopClose) Close() error { return nil }

func TestConformance(t *testing.T) {
	var mu sync.Mutex
	buses := map[string]*inproc.Bus{}
	bustest.Run(t, func(tb testing.TB, l bus.Limits) bus.Bus {
		mu.Lock()
		defer mu.Unlock()
		if b := buses[tb.Name()]; b != nil {
			return nopClose{b}
		}
		log := slog.New(slog.DiscardHandler)
		if testing.Verbose() {
			log = slog.New(slog.NewTextHandler(tb.Output(), nil))
		}
		b := inproc.New(inproc.Options{Limits: l, Logger: log})
		buses[tb.Name()] = b
		tb.Cleanup(func() { b.Close() })
		return b
	})
}

func TestNoLeaks(t *testing.T) {
	bustest.NoLeaks(t, func(t *testing.T) bus.Bus {
		return inproc.New(inproc.Options{Limits: bustest.Limits, Logger: slog.New(slog.DiscardHandler)})
	})
}
