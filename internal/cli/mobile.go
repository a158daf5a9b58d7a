package cli

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"esign/internal/config"
	"esign/internal/customers"
	"esign/internal/envelope"
	"esign/internal/httpkit"
	"esign/internal/mobileapi"
	"esign/internal/notify"
)

// mobileAPI builds the mobile-app REST API of oss from the process's
// database, job queue, keys and configuration: sessions and rate limits in
// Redis when redis.url is set, else in the database and in memory.
func (a *app) mobileAPI() (http.Handler, error) {
	key, err := mobileCodeKey(a.cfg, a.keys)
	if err != nil {
		return nil, err
	}
	ts, err := tsaClient(a.cfg, "", nil)
	if err != nil {
		return nil, fmt.Errorf("time-stamping client: %w", err)
	}
	var sessions customers.SessionStore = &customers.DBSessions{DB: a.db}
	var limiter notify.Limiter = notify.NewMemoryLimiter(nil)
	if rdb := a.redis(); rdb != nil {
		sessions = &customers.RedisSessions{RDB: rdb, Prefix: "esign:sess:"}
		limiter = notify.NewRedisLimiter(rdb, "esign:rl:mobile:", nil)
	}
	m := a.cfg.Mobile
	cfg := customers.DefaultConfig()
	cfg.SessionIdle, cfg.SessionMax = m.SessionIdle, m.SessionMax
	cfg.SMSPerNumber = notify.Limit{N: m.SMSPerNumberPerHour, Per: time.Hour}
	cfg.SMSGlobal = notify.Limit{N: m.SMSGlobalPerMinute, Per: time.Minute}
	cfg.LoginPerApp = notify.Limit{N: m.LoginPerAppPer10Min, Per: 10 * time.Minute}
	cfg.RegisterPerIP = notify.Limit{N: m.RegisterPerIPPer10Min, Per: 10 * time.Minute}
	cfg.CodeKey = key
	svc, err := customers.New(customers.Deps{DB: a.db, Queue: a.queue, Sessions: sessions, Limiter: limiter, TSA: ts, Docs: a.docs}, cfg)
	if err != nil {
		return nil, fmt.Errorf("mobile API: %w", err)
	}
	return httpkit.Chain(mobileapi.New(svc, a.log), httpkit.LimitBody(a.cfg.HTTP.MaxBodyBytes)), nil
}

// mobileCodeKey returns mobile.code_key, or a key derived from the envelope
// keyring's primary key, so that every replica with the same keys derives
// the same.
func mobileCodeKey(cfg config.Config, keys *envelope.Keyring) ([]byte, error) {
	if cfg.Mobile.CodeKey != "" {
		k, err := base64.StdEncoding.DecodeString(cfg.Mobile.CodeKey)
		if err != nil || len(k) < 32 {
			return nil, &config.FieldError{Key: "mobile.code_key", Reason: "must be base64 of at least 32 bytes"}
		}
		return k, nil
	}
	return keys.DeriveKey("esign/mobile/sms-code-hash/v1"), nil
}
