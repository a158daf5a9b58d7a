package cli

import (
	"context"
	"database/sql"
	"net/http"
	"slices"
	"time"

	"esign/customize"
	"esign/internal/esign"
	"esign/internal/hooks"
	"esign/internal/httpkit"
	"esign/internal/jobs"
	"esign/internal/notify"
	"esign/internal/offers"
	"esign/internal/pades"
	"esign/internal/sqlstore"
	"esign/internal/tracing"
	"esign/internal/webhookapi"
)

// webhookAPI is the external webhook API of oss on the process's database,
// document store, job queue and customer service. Its body limit is
// webhook.max_body_bytes (uploads carry PDFs), not http.max_body_bytes.
func (a *app) webhookAPI() (http.Handler, error) {
	svc, err := a.offerService()
	if err != nil {
		return nil, err
	}
	w := a.cfg.Webhook
	hc := webhookapi.Config{MaxBodyBytes: w.MaxBodyBytes, MaxConcurrentUploads: w.MaxConcurrentUploads, AuthFailures: w.AuthFailuresPerIPPer10m, AuthWindow: 10 * time.Minute,
		Audit: a.db}
	if rdb := a.redis(); rdb != nil {
		// Every oss replica counts the same failures.
		hc.Failures = notify.NewRedisLimiter(rdb, redisPrefix(a.cfg)+"rl:webhook:", nil)
	}
	for _, e := range w.WebhookEndpoints() {
		if user, pw, ok := e.Credentials(); ok {
			hc.Endpoints = append(hc.Endpoints, webhookapi.Endpoint{Path: e.Path, User: user, Password: pw})
		}
	}
	if user, pw, ok := w.DevInboxEndpoint().Credentials(); ok {
		// Configuration validation allows it only while a channel goes to
		// the development inbox.
		hc.DevInbox = &webhookapi.DevInbox{User: user, Password: pw, Store: a.db.Inbox()}
	}
	h := webhookapi.New(svc, svc, a.log, hc)
	return httpkit.Chain(h, httpkit.LimitBody(a.cfg.Webhook.MaxBodyBytes)), nil
}

// offerService is the offer operations of the bank's systems and of the
// operators: verification trusts what `esign pdf verify` trusts by
// default (the system roots and the development CA of the data directory).
func (a *app) offerService() (*offers.Service, error) {
	roots, err := trustPool(a.cfg, nil)
	if err != nil {
		return nil, err
	}
	return offers.New(offers.Deps{DB: a.db, Docs: a.docs, Queue: a.queue, Customers: a.customers,
		Verify: pades.VerifyOptions{Roots: roots}, Events: a.events, LinkLifetime: a.cfg.Mobile.LinkLifetime, Hooks: a.hooks})
}

// eventDeps makes the queue deliver events when webhook.event_urls is set
// and emit offer.expired from the offer-timeout job. The emitter needs the
// queue, so the returned hook gets it once the queue exists (before it
// starts).
func (a *app) eventDeps(deps *jobs.Deps) *expiryEvents {
	hook := &expiryEvents{OfferExpirer: deps.Offers, db: a.db, hooks: a.hooks}
	// Always: the operators' live feed hears of expired offers too.
	deps.Offers = hook
	if len(a.cfg.Webhook.CallbackURLs()) == 0 {
		return hook
	}
	d := &offers.Deliverer{DB: a.db, Secret: []byte(a.cfg.Webhook.EventSecret), MaxAttempts: a.cfg.Webhook.EventMaxAttempts,
		Now: time.Now}
	if a.tracer.Enabled() {
		// The bank's endpoint gets the trace context of the delivery.
		d.Client = &http.Client{Timeout: 10 * time.Second, Transport: tracing.Transport(nil, a.tracer),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	deps.Events = d
	return hook
}

// expiryEvents emits offer.expired for every offer the offer-timeout job
// expires, in the job's transaction, and tells the bank's offer_ended
// hooks after the commit.
type expiryEvents struct {
	jobs.OfferExpirer
	db    *sqlstore.DB
	em    *offers.Emitter
	hooks *hooks.Runner
}

func (e *expiryEvents) ExpireDueOffers(ctx context.Context, now time.Time, enqueue func(ctx context.Context, tx *sql.Tx, offers []jobs.ExpiredOffer) error) (int, error) {
	var seen []string
	defer func() {
		// Told once committed: an offer of a batch that rolled back is
		// not expired.
		for _, id := range seen {
			if o, err := e.db.GetOffer(context.WithoutCancel(ctx), id); err == nil && o.State == esign.OfferExpired {
				e.hooks.OfferEnded(ctx, customize.OfferEnded{OfferID: o.ID, CustomerID: o.CustomerID,
					ExternalRef: o.ExternalRef, Title: o.Title, State: string(o.State), Reason: o.StateReason})
			}
		}
	}()
	return e.OfferExpirer.ExpireDueOffers(ctx, now, func(ctx context.Context, tx *sql.Tx, expired []jobs.ExpiredOffer) error {
		btx := e.db.BindTx(tx)
		for _, x := range expired {
			if !slices.Contains(seen, x.OfferID) { // a retried batch lists them again
				seen = append(seen, x.OfferID)
			}
			o, err := btx.GetOffer(ctx, x.OfferID)
			if err != nil {
				return err
			}
			if err := e.em.OfferChanged(ctx, btx, o); err != nil {
				return err
			}
		}
		return enqueue(ctx, tx, expired)
	})
}
