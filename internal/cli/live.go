package cli

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"esign/internal/adminui"
	"esign/internal/bus"
	"esign/internal/customerui"
	"esign/internal/esign"
	"esign/internal/live"
	"esign/internal/offers"
	"esign/internal/sqlstore"
)

// liveBacklog is how far back a reconnecting operator's page catches up
// from the live_event rows; every oss replica deletes rows twice as old
// once an hour (pruneLiveEvents).
const liveBacklog = 24 * time.Hour

// pruneLiveEvents deletes the feed's old rows every hour until ctx ends.
func (a *app) pruneLiveEvents(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := a.db.DeleteLiveEventsBefore(ctx, time.Now().Add(-2*liveBacklog)); err != nil {
				a.log.Warn("live feed: delete old events", "err", err)
			}
		}
	}
}

// boundAddrs holds the listeners' bound addresses once the process
// listens: the realtime URLs and allowed origins derive their ports from
// them when public.* leaves them empty (tests listen on port 0).
type boundAddrs struct {
	mu    sync.RWMutex
	addrs map[string]string
}

func (b *boundAddrs) set(addrs map[string]string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.addrs = addrs
}

// port returns the bound port of the named listener ("" before listening).
func (b *boundAddrs) port(name string) string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	_, p, _ := net.SplitHostPort(b.addrs[name])
	return p
}

// originOf returns scheme://host[:port] of a configured URL.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// requestHost returns the host name a browser used to reach r, or "" when
// it is not a plain host name or address (it ends up in a CSP header).
func requestHost(r *http.Request) string {
	h := r.Host
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.Trim(h, "[]")
	if h == "" || len(h) > 253 {
		return ""
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':') {
			return ""
		}
	}
	return h
}

func schemeOf(r *http.Request, secure bool) string {
	if secure || r.TLS != nil {
		return "https"
	}
	return "http"
}

// liveURL returns the base URL of a realtime listener as the browser that
// sent r reaches it: public (public.realtime_url), else the request's host
// with the listener's bound port.
func (a *app) liveURL(public, listener string, secure bool) func(r *http.Request) string {
	if public != "" {
		o := originOf(public)
		return func(*http.Request) string { return o }
	}
	return func(r *http.Request) string {
		host, port := requestHost(r), a.bound.port(listener)
		if host == "" || port == "" {
			return ""
		}
		return schemeOf(r, secure) + "://" + net.JoinHostPort(host, port)
	}
}

// allowOrigin returns the CORS rule of a realtime listener: exactly the
// origin of its UI, public (public.admin_url / public.customer_url), else
// the realtime request's host with the UI listener's bound port.
func (a *app) allowOrigin(public, uiListener string, secure bool) func(origin string, r *http.Request) bool {
	if public != "" {
		want := originOf(public)
		return func(origin string, _ *http.Request) bool { return origin == want }
	}
	return func(origin string, r *http.Request) bool {
		host, port := requestHost(r), a.bound.port(uiListener)
		return host != "" && port != "" && origin == schemeOf(r, secure)+"://"+net.JoinHostPort(host, port)
	}
}

// dbFeed reads the operators' feed from the live_event rows.
type dbFeed struct{ db *sqlstore.DB }

func (f dbFeed) After(ctx context.Context, after int64, max int) ([]adminui.LiveEntry, error) {
	es, err := f.db.ListLiveEvents(ctx, after, time.Now().Add(-liveBacklog), max)
	if err != nil {
		return nil, err
	}
	out := make([]adminui.LiveEntry, len(es))
	for i, e := range es {
		out[i] = adminui.LiveEntry(e)
	}
	return out, nil
}

func (f dbFeed) Latest(ctx context.Context) (int64, error) { return f.db.LastLiveEventSeq(ctx) }

// newHub returns a hub that closes, ending its streams, when the process
// stops (before the listeners' graceful shutdown waits for them). Its
// streams and the ones dropped as too slow are reported every 5 s as the
// gauges esign_live_streams{hub} and esign_live_dropped{hub}.
func (a *app) newHub(name string) *live.Hub {
	h := live.NewHub(live.Options{})
	streams := a.reg.Gauge("esign_live_streams", "Open server-sent event streams of the realtime listeners.", "hub")
	dropped := a.reg.Gauge("esign_live_dropped", "Streams dropped as too slow since the start.", "hub")
	a.background(func(ctx context.Context) {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			streams.Set(float64(h.Clients()), name)
			dropped.Set(float64(h.Dropped()), name)
			select {
			case <-ctx.Done():
				h.Close()
				return
			case <-t.C:
			}
		}
	})
	return h
}

// openHubs makes the hubs of the process's realtime listeners, before the
// bus subscription (serveBus) that feeds them.
func (a *app) openHubs() {
	if a.spec.has(roleOSS) {
		a.opsHub = a.newHub("operators")
		a.endsHub = a.newHub("signature_ends")
	}
	if a.spec.has(roleCSS) {
		a.custHub = a.newHub("customers")
	}
}

// operatorLive is the admin UI's live feed on oss.
func (a *app) operatorLive() *adminui.Live {
	secure := strings.HasPrefix(a.cfg.Public.AdminURL, "https://")
	a.background(a.pruneLiveEvents)
	return &adminui.Live{Hub: a.opsHub, Feed: dbFeed{a.db},
		URL:         a.liveURL(a.cfg.Public.RealtimeURL, "realtime", secure),
		AllowOrigin: a.allowOrigin(a.cfg.Public.AdminURL, "admin", secure)}
}

// customerLive is the waiting page's seal progress on css.
func (a *app) customerLive() *customerui.Live {
	secure := strings.HasPrefix(a.cfg.Public.CustomerURL, "https://")
	return &customerui.Live{Hub: a.custHub,
		URL:         a.liveURL(a.cfg.Public.CustomerRealtimeURL, "customer_realtime", secure),
		AllowOrigin: a.allowOrigin(a.cfg.Public.CustomerURL, "customer", secure)}
}

// subscribeLive hands the feed's bus events (offers.LiveFeed publishes
// them after each commit, on whichever oss or cron replica made the
// change) to this process's hubs. The private group gives every replica
// every event.
func (a *app) subscribeLive(ctx context.Context) error {
	if a.opsHub == nil && a.custHub == nil && a.endsHub == nil {
		return nil
	}
	return a.bus.Subscribe(ctx, bus.StreamContractUpdates, "", func(ctx context.Context, ev *bus.Event) error {
		if ev.Type != offers.LiveBusEventType {
			return nil
		}
		var e sqlstore.LiveEvent
		if err := ev.Decode(&e); err != nil {
			return esign.E("cli.subscribeLive", esign.Invalid, "a live event that does not decode", err)
		}
		if a.opsHub != nil {
			entry := adminui.LiveEntry(e)
			a.opsHub.Publish(entry.Event())
		}
		if a.endsHub != nil && (e.Type == offers.LiveContractSealed || e.Type == offers.LiveSignatureRejected) {
			// The mobile API's status wait reads the signature again.
			a.endsHub.Publish(&live.Event{ID: live.SeqID(e.Seq), Type: e.Type, OfferID: e.OfferID, CustomerID: e.CustomerID})
		}
		if a.custHub != nil {
			if st, ok := customerStatus(&e); ok {
				a.custHub.Publish(customerui.StatusEvent(live.SeqID(e.Seq), e.OfferID, e.CustomerID, st))
			}
		}
		return nil
	})
}

// customerStatus is what a feed entry means to the customer's waiting
// page, if anything.
func customerStatus(e *sqlstore.LiveEvent) (customerui.LiveStatus, bool) {
	switch e.Type {
	case offers.LiveSignatureVerified:
		return customerui.LiveStatus{Status: esign.SignatureVerified}, true
	case offers.LiveSignatureRejected:
		return customerui.LiveStatus{Status: esign.SignatureRejected, Code: e.Detail}, true
	case offers.LiveContractSealed:
		return customerui.LiveStatus{Status: esign.SignatureCompleted, ContractID: e.ContractID}, true
	}
	return customerui.LiveStatus{}, false
}
