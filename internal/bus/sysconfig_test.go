package bus_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"esign/internal/bus"
	"esign/internal/bus/inproc"
)

func TestPushSystemConfigEvery(t *testing.T) {
	b := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
	defer b.Close()
	var h bus.SystemConfigHolder
	if err := h.Subscribe(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	var version atomic.Int64
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- bus.PushSystemConfigEvery(ctx, b, 10*time.Millisecond, slog.New(slog.DiscardHandler),
			func(context.Context) (bus.SystemConfig, error) {
				v := version.Add(1)
				if v == 2 {
					return bus.SystemConfig{}, errors.New("settings store down") // skipped, retried
				}
				return bus.SystemConfig{Version: v, Settings: map[string]string{"k": "v"}}, nil
			})
	}()
	wctx, wcancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer wcancel()
	for _, v := range []int64{1, 3} {
		if cfg, err := h.Wait(wctx, v); err != nil || cfg.Settings["k"] != "v" {
			t.Fatalf("Wait(%d) = %+v, %v", v, cfg, err)
		}
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("PushSystemConfigEvery returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("PushSystemConfigEvery did not stop with its context")
	}
}
