package bus

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"esign/internal/esign"
)

// EventSystemConfig is the event type of a system-configuration push.
const EventSystemConfig = "system.config"

// SystemConfig is the configuration oss pushes to css: the settings css needs
// but cannot read itself (it has no database). Version increases with every
// change; a receiver ignores a push older than what it holds.
type SystemConfig struct {
	Version   int64             `json:"version"`
	UpdatedAt time.Time         `json:"updated_at"`
	Settings  map[string]string `json:"settings"`
	// TrustAnchors are the PEM certificates oss trusts besides the system
	// roots (the development CA of its data directory), for css's PDF
	// verification: public certificates, no secret.
	TrustAnchors string `json:"trust_anchors,omitempty"`
}

// Validate checks a received configuration.
func (c *SystemConfig) Validate() error {
	if c.Version <= 0 {
		return esign.Errorf("bus.SystemConfig.Validate", esign.Invalid, "version must be positive, not %d", c.Version)
	}
	return nil
}

// PushSystemConfig broadcasts cfg to every css replica on StreamSystemOSS.
// oss pushes at start, on every change and periodically, so that a css
// replica that starts later receives it too.
func PushSystemConfig(ctx context.Context, b Bus, cfg SystemConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	return b.Publish(ctx, StreamSystemOSS, EventSystemConfig, cfg)
}

// SystemConfigHolder keeps the latest SystemConfig received. The zero value
// holds nothing; it is safe for concurrent use.
type SystemConfigHolder struct {
	mu      sync.RWMutex
	cfg     SystemConfig
	have    bool
	changed chan struct{}
}

// Latest returns the newest configuration received and whether there is one.
func (h *SystemConfigHolder) Latest() (SystemConfig, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.cfg, h.have
}

// Wait blocks until a configuration of at least version is held, or ctx is
// done.
func (h *SystemConfigHolder) Wait(ctx context.Context, version int64) (SystemConfig, error) {
	for {
		h.mu.Lock()
		if h.have && h.cfg.Version >= version {
			cfg := h.cfg
			h.mu.Unlock()
			return cfg, nil
		}
		if h.changed == nil {
			h.changed = make(chan struct{})
		}
		ch := h.changed
		h.mu.Unlock()
		select {
		case <-ctx.Done():
			return SystemConfig{}, CallError("bus.SystemConfigHolder.Wait", ctx.Err())
		case <-ch:
		}
	}
}

// Set stores cfg unless a newer version is already held; it reports whether
// cfg was stored.
func (h *SystemConfigHolder) Set(cfg SystemConfig) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.have && cfg.Version <= h.cfg.Version {
		return false
	}
	h.cfg, h.have = cfg, true
	if h.changed != nil {
		close(h.changed)
		h.changed = nil
	}
	return true
}

// Subscribe makes h receive the pushes on b until ctx is done. Each process
// has its own private subscription, so every replica gets every push.
func (h *SystemConfigHolder) Subscribe(ctx context.Context, b Bus) error {
	return b.Subscribe(ctx, StreamSystemOSS, "", func(ctx context.Context, ev *Event) error {
		if ev.Type != EventSystemConfig {
			return nil // other types on the stream are not ours
		}
		var cfg SystemConfig
		if err := ev.Decode(&cfg); err != nil {
			return err
		}
		if err := cfg.Validate(); err != nil {
			return err
		}
		h.Set(cfg)
		return nil
	})
}

// PushSystemConfigEvery pushes the configuration that load returns at once
// and then every interval, until ctx is done (oss runs it for the life of the
// process; css replicas that start later get the next push). Failures are
// logged and retried at the next tick. It returns ctx's error.
func PushSystemConfigEvery(ctx context.Context, b Bus, every time.Duration, log *slog.Logger, load func(context.Context) (SystemConfig, error)) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, min(every, 30*time.Second))
		cfg, err := load(pctx)
		if err == nil {
			err = PushSystemConfig(pctx, b, cfg)
		}
		cancel()
		if err != nil && ctx.Err() == nil {
			log.Warn("bus: system config push failed; retrying at the next tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
