package cli

import (
	"context"
	"net/http"
	"strings"

	"esign/internal/adminui"
	"esign/internal/bus"
	"esign/internal/config"
	"esign/internal/esign"
	"esign/internal/locale"
	"esign/internal/notify"
	"esign/internal/operators"
)

// pushSystemConfig sends the settings to css at once (after an operator
// changed them): to the css of this process directly, to every other
// replica over the bus.
func (a *app) pushSystemConfig(ctx context.Context) error {
	if a.bus == nil {
		return esign.E("push system configuration", esign.Unavailable, "the bus is not open")
	}
	cfg, err := a.systemConfig(ctx)
	if err != nil {
		return err
	}
	if a.sysConfig != nil {
		a.sysConfig.Set(cfg)
	}
	return bus.PushSystemConfig(ctx, a.bus, cfg)
}

// redisPrefix is the start of every Redis key of the deployment: "esign:",
// and with bus.namespace set "esign:{namespace}:", so that deployments (and
// test runs) sharing a Redis server keep apart their sessions and rate
// limit counters as they keep apart their RabbitMQ names.
func redisPrefix(cfg config.Config) string {
	if ns := cfg.Bus.Namespace; ns != "" {
		return "esign:" + ns + ":"
	}
	return "esign:"
}

// operatorSessionPrefix is the Redis key prefix of the operators' sessions.
func operatorSessionPrefix(cfg config.Config) string { return redisPrefix(cfg) + "opsess:" }

// adminUI builds the operators' web interface of oss: the operators
// service on the process's database, keys, document store and customer
// service; sessions and rate limits in Redis when redis.url is set.
func (a *app) adminUI() (http.Handler, error) {
	var sessions operators.SessionStore = &operators.DBSessions{DB: a.db}
	var limiter notify.Limiter = notify.NewMemoryLimiter(nil)
	if rdb := a.redis(); rdb != nil {
		sessions = &operators.RedisSessions{RDB: rdb, Prefix: operatorSessionPrefix(a.cfg)}
		limiter = notify.NewRedisLimiter(rdb, redisPrefix(a.cfg)+"rl:admin:", nil)
	}
	offerSvc, err := a.offerService()
	if err != nil {
		return nil, err
	}
	d := operators.Deps{DB: a.db, Sessions: sessions, Limiter: limiter, Secrets: a.keys, Customers: a.customers, Docs: a.docs,
		Offers: offerSvc}
	if a.cfg.Notify.UsesInbox() {
		d.Inbox = a.db.Inbox()
	}
	if a.queue != nil {
		d.Jobs = a.queue
	}
	d.PushSettings = a.pushSystemConfig
	svc, err := operators.New(d, operators.DefaultConfig())
	if err != nil {
		return nil, err
	}
	brand, err := a.cfg.Branding.Brand()
	if err != nil {
		return nil, err
	}
	ui, err := adminui.New(svc, a.log, adminui.Config{Secure: strings.HasPrefix(a.cfg.Public.AdminURL, "https://"),
		MaxBodyBytes: a.cfg.HTTP.MaxBodyBytes, UploadMaxBytes: a.cfg.Webhook.MaxBodyBytes, Version: version, Live: a.operatorLive(),
		Brand: brand, SealPreview: brand.SealText(sealFields(a.cfg, "C-PREVIEW")),
		Messages: locale.Dir(a.cfg.Customize.Dir).Messages()})
	if err != nil {
		return nil, err
	}
	a.realtime = http.NewServeMux()
	ui.MountLive(a.realtime)
	return ui.Handler(), nil
}
