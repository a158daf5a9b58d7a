package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"esign/internal/bus"
	"esign/internal/bus/amqp"
	"esign/internal/bus/inproc"
	"esign/internal/esign"
	"esign/internal/rpc"
	"esign/internal/tracing"
)

// needsBus: every role talks over the bus except a TSA on its own.
func (p processSpec) needsBus() bool { return p.roles&^roleTSA != 0 }

// openBus connects the process to the message bus: the in-process bus
// inside `esign all`, RabbitMQ for the separate processes (their queues and
// exchanges in bus.namespace).
func (a *app) openBus(ctx context.Context) error {
	if !a.spec.needsBus() {
		return nil
	}
	limits := bus.Limits{DefaultTimeout: a.cfg.Bus.RequestTimeout}
	switch {
	case a.spec.name == "all":
		a.bus = tracing.Bus(inproc.New(inproc.Options{Limits: limits, Logger: a.log}), a.tracer, "inproc")
	case a.cfg.Bus.AMQPURL != "":
		host, _ := os.Hostname()
		name := fmt.Sprintf("esign %s@%s", a.spec.name, host)
		if ns := a.cfg.Bus.Namespace; ns != "" {
			name += " (" + ns + ")"
		}
		b, err := amqp.Dial(ctx, amqp.Options{URL: a.cfg.Bus.AMQPURL, Name: name, Namespace: a.cfg.Bus.Namespace, Limits: limits, Logger: a.log})
		if err != nil {
			return esign.E("open bus", esign.ErrorKind(err), "connect to RabbitMQ: "+esign.ErrorMessage(err))
		}
		a.bus = tracing.Bus(b, a.tracer, "rabbitmq")
	default:
		return usagef("bus.amqp_url must be set: the separate processes talk over RabbitMQ (the embedded deployment is 'esign all')")
	}
	a.bus = countedBus(a.bus, a.reg)
	a.closers = append(a.closers, a.bus.Close)
	return a.serveBus(ctx)
}

// serveBus starts what each role serves on the bus and the readiness checks
// that use it.
func (a *app) serveBus(ctx context.Context) error {
	b := a.bus
	if a.spec.has(roleCSS) {
		if err := bus.ServePing(ctx, b, bus.QueueCSSPing); err != nil {
			return fmt.Errorf("serve %s: %w", bus.QueueCSSPing, err)
		}
		a.sysConfig = &bus.SystemConfigHolder{}
		if err := a.sysConfig.Subscribe(ctx, b); err != nil {
			return fmt.Errorf("subscribe to the system configuration: %w", err)
		}
		// Pushes only reach subscribers that exist, so css also asks oss
		// for the configuration until it has one.
		a.background(func(ctx context.Context) { fetchSystemConfig(ctx, b, a.sysConfig, a.log) })
		// css is ready once it holds oss's configuration: it has reached
		// oss over the bus at least once.
		a.checks["system_config"] = func(context.Context) error {
			if _, ok := a.sysConfig.Latest(); !ok {
				return errors.New("no configuration received from oss yet")
			}
			return nil
		}
	}
	if err := a.subscribeLive(ctx); err != nil {
		return fmt.Errorf("subscribe to the live feed: %w", err)
	}
	if a.spec.has(roleCron) {
		if err := bus.ServePing(ctx, b, bus.QueueCronPing); err != nil {
			return fmt.Errorf("serve %s: %w", bus.QueueCronPing, err)
		}
	}
	if a.spec.has(rolePDFService) {
		if err := a.servePDFService(ctx); err != nil {
			return err
		}
	}
	if a.spec.has(roleOSS) {
		// oss reports whether css and cron answer; they are peers, so a
		// replica that is down degrades the report without making oss
		// unready.
		a.peers["css"] = func(ctx context.Context) error { return bus.Ping(ctx, b, bus.QueueCSSPing) }
		a.peers["cron"] = func(ctx context.Context) error { return bus.Ping(ctx, b, bus.QueueCronPing) }
		load := a.systemConfig
		// The customer-facing queues, esign:rpc-app with system.config
		// among them.
		if err := a.serveRPC(ctx, load); err != nil {
			return err
		}
		// Push once now so that css becomes ready at once, then every
		// minute for replicas that start later.
		if cfg, err := load(ctx); err != nil {
			a.log.Warn("load the system configuration", "err", err)
		} else {
			// css in the same process (esign all) holds it before the
			// process announces its listeners: a push is delivered
			// asynchronously and would leave a window where /readyz fails.
			if a.sysConfig != nil {
				a.sysConfig.Set(cfg)
			}
			if err := bus.PushSystemConfig(ctx, b, cfg); err != nil {
				a.log.Warn("push the system configuration", "err", err)
			}
		}
		a.background(func(ctx context.Context) {
			_ = bus.PushSystemConfigEvery(ctx, b, time.Minute, a.log, load)
		})
	}
	return nil
}

// methodSystemConfig on esign:rpc-app returns the current SystemConfig.
const methodSystemConfig = rpc.MethodSystemConfig

// fetchSystemConfig asks oss for the configuration, with backoff, until
// holder has one (from this call or from a push).
func fetchSystemConfig(ctx context.Context, b bus.Bus, holder *bus.SystemConfigHolder, log *slog.Logger) {
	wait := 200 * time.Millisecond
	for ctx.Err() == nil {
		if _, ok := holder.Latest(); ok {
			return
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var cfg bus.SystemConfig
		err := b.Call(cctx, bus.QueueApp, methodSystemConfig, struct{}{}, &cfg)
		cancel()
		if err == nil {
			if err := cfg.Validate(); err == nil {
				holder.Set(cfg)
				return
			}
		}
		log.Debug("system configuration not available from oss yet", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

// settingsLister is the part of the store the system configuration comes from.
type settingsLister interface {
	ListSettings(ctx context.Context, f esign.SettingFilter) ([]*esign.Setting, error)
}

// systemConfig is the configuration oss pushes to css: the settings and
// the trust anchors of its PDF verification.
func (a *app) systemConfig(ctx context.Context) (bus.SystemConfig, error) {
	cfg, err := loadSystemConfig(ctx, a.db)
	if err != nil {
		return cfg, err
	}
	cfg.TrustAnchors = string(extraTrustAnchors(a.cfg))
	return cfg, nil
}

// loadSystemConfig builds the configuration oss pushes to css from the
// Setting rows. Its version is the newest change in milliseconds, so it
// grows with every change.
func loadSystemConfig(ctx context.Context, db settingsLister) (bus.SystemConfig, error) {
	settings, err := db.ListSettings(ctx, esign.SettingFilter{})
	if err != nil {
		return bus.SystemConfig{}, err
	}
	cfg := bus.SystemConfig{Version: 1, Settings: map[string]string{}}
	for _, s := range settings {
		cfg.Settings[s.Key] = s.Value
		if s.UpdatedAt.After(cfg.UpdatedAt) {
			cfg.UpdatedAt = s.UpdatedAt
		}
	}
	if !cfg.UpdatedAt.IsZero() {
		cfg.Version = max(cfg.UpdatedAt.UnixMilli(), 1)
	}
	return cfg, nil
}
