package cli

import (
	"cmp"
	"crypto/x509"
	"net/http"
	"strings"
	"sync"

	"esign/internal/customerui"
	"esign/internal/locale"
	"esign/internal/notify"
	"esign/internal/rpc"
)

// customerSetting is a setting of the latest system configuration oss
// pushed to css (the admin UI's Settings page).
func (a *app) customerSetting(key string) string {
	if a.sysConfig == nil {
		return ""
	}
	cfg, _ := a.sysConfig.Latest()
	return cfg.Settings[key]
}

// customerUI builds the customer's web signing journey of css: every step
// an RPC to oss over the process's bus.
func (a *app) customerUI() (http.Handler, error) {
	// The verify page runs the PAdES verifier in css, trusting the system
	// roots and the anchors oss pushes; its per-address limit is shared
	// by the replicas in Redis when redis.url is set.
	verify := customerui.VerifyConfig{Roots: a.verifyRoots()}
	if a.cfg.Redis.URL != "" {
		rdb := a.redis()
		if rdb == nil {
			var err error
			if rdb, err = newRedis(a.cfg); err != nil {
				return nil, err
			}
			a.rdb = rdb
			a.closers = append(a.closers, rdb.Close)
		}
		verify.Limiter = notify.NewRedisLimiter(rdb, redisPrefix(a.cfg)+"rl:verify:", nil)
	}
	brand, err := a.cfg.Branding.Brand()
	if err != nil {
		return nil, err
	}
	ui, err := customerui.New(rpc.NewClient(a.bus, rpc.DefaultQueues()), a.log, customerui.Config{
		Secure:       strings.HasPrefix(a.cfg.Public.CustomerURL, "https://"),
		MaxBodyBytes: a.cfg.HTTP.MaxBodyBytes, Version: version,
		BankName: cmp.Or(a.cfg.Branding.BankName, a.cfg.Branding.ProductName), Setting: a.customerSetting, Live: a.customerLive(),
		Verify: verify, Brand: brand, Messages: locale.Dir(a.cfg.Customize.Dir).Messages()})
	if err != nil {
		return nil, err
	}
	a.custLive = http.NewServeMux()
	ui.MountLive(a.custLive)
	return ui.Handler(), nil
}

// verifyRoots returns the trust anchors of css's verify page: the system
// roots and those of the latest system configuration from oss, the pool
// rebuilt when they change.
func (a *app) verifyRoots() func() *x509.CertPool {
	var (
		mu   sync.Mutex
		have string
		pool *x509.CertPool
	)
	return func() *x509.CertPool {
		var pem string
		if a.sysConfig != nil {
			cfg, _ := a.sysConfig.Latest()
			pem = cfg.TrustAnchors
		}
		mu.Lock()
		defer mu.Unlock()
		if pool == nil || pem != have {
			p, err := x509.SystemCertPool()
			if err != nil || p == nil {
				p = x509.NewCertPool()
			}
			p.AppendCertsFromPEM([]byte(pem))
			pool, have = p, pem
		}
		return pool
	}
}
