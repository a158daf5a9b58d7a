package cli

import (
	"net/http"
	"strings"

	"esign/internal/adminui"
	"esign/internal/notify"
	"esign/internal/operators"
)

// operatorSessionPrefix is the Redis key prefix of the operators' sessions.
const operatorSessionPrefix = "esign:opsess:"

// adminUI builds the operators' web interface of oss: the operators
// service on the process's database, keys, document store and customer
// service; sessions and rate limits in Redis when redis.url is set.
func (a *app) adminUI() (http.Handler, error) {
	var sessions operators.SessionStore = &operators.DBSessions{DB: a.db}
	var limiter notify.Limiter = notify.NewMemoryLimiter(nil)
	if rdb := a.redis(); rdb != nil {
		sessions = &operators.RedisSessions{RDB: rdb, Prefix: operatorSessionPrefix}
		limiter = notify.NewRedisLimiter(rdb, "esign:rl:admin:", nil)
	}
	d := operators.Deps{DB: a.db, Sessions: sessions, Limiter: limiter, Secrets: a.keys, Customers: a.customers, Docs: a.docs}
	if a.cfg.Notify.UsesInbox() {
		d.Inbox = a.db.Inbox()
	}
	svc, err := operators.New(d, operators.DefaultConfig())
	if err != nil {
		return nil, err
	}
	ui, err := adminui.New(svc, a.log, adminui.Config{Secure: strings.HasPrefix(a.cfg.Public.AdminURL, "https://"),
		MaxBodyBytes: a.cfg.HTTP.MaxBodyBytes, Version: version, Live: a.operatorLive()})
	if err != nil {
		return nil, err
	}
	a.realtime = http.NewServeMux()
	ui.MountLive(a.realtime)
	return ui.Handler(), nil
}
