package customers

import (
	"context"

	"esign/internal/esign"
	"esign/internal/jobs"
	"esign/internal/notify"
	"esign/internal/shortlink"
	"esign/internal/sqlstore"
)

// renewable returns the open offer and its customer of an expired short
// link, and whether there is one: an offer that can still be signed or
// refused (notified, opened, being signed) and has not expired.
func (s *Service) renewable(ctx context.Context, code string) (*esign.Offer, *esign.Customer, bool) {
	if code == "" || len(code) > 32 {
		return nil, nil, false
	}
	xs, err := s.db.ListShorteners(ctx, esign.ShortenerFilter{Code: code, Page: esign.Page{Limit: 1}})
	if err != nil || len(xs) == 0 {
		return nil, nil, false
	}
	id := shortlink.OfferID(xs[0].TargetURL)
	if id == "" {
		return nil, nil, false
	}
	o, err := s.db.GetOffer(ctx, id)
	if err != nil || !s.now().Before(o.ExpiresAt) {
		return nil, nil, false
	}
	switch o.State {
	case esign.OfferNotified, esign.OfferOpened, esign.OfferSigning:
	default:
		return nil, nil, false
	}
	c, err := s.db.GetCustomer(ctx, o.CustomerID)
	if err != nil || c.Phone == "" || c.Status == esign.CustomerBlocked || c.Status == esign.CustomerDeleted {
		return nil, nil, false
	}
	return o, c, true
}

// RenewLink sends a fresh short link of the offer an expired link led to,
// by SMS to the customer's registered phone — never anywhere the asker
// names — when the offer is still open. The new link expires after
// Config.LinkLifetime, or with the offer. Requests are limited per client
// address (mobile.register_per_ip_per_10min) and per offer
// (Config.LinkRenewals); the activity offer.link_renewed records each.
// Errors: NotFound (unknown code, or its offer is closed), TooMany
// (rate_limited).
func (s *Service) RenewLink(ctx context.Context, code string, m Meta) error {
	const op = "customers.RenewLink"
	if err := s.allow(ctx, op, "linkrenew:ip:"+m.IP, s.cfg.RegisterPerIP); err != nil {
		return err
	}
	o, c, ok := s.renewable(ctx, code)
	if !ok {
		return esign.E(op, esign.NotFound, "link not found")
	}
	if err := s.allow(ctx, op, "linkrenew:offer:"+o.ID, s.cfg.LinkRenewals); err != nil {
		return err
	}
	err := s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		link, err := shortlink.Create(ctx, tx, o.ID, shortlink.Expiry(o.ExpiresAt, s.now(), s.cfg.LinkLifetime))
		if err != nil {
			return err
		}
		if _, err := s.queue.Enqueue(ctx, tx.SQLTx(), jobs.Notification{Kind: notify.OfferAvailable, Channel: notify.SMS,
			Lang: notify.ParseLang(c.Locale), To: c.Phone, ToName: c.Name,
			Params: notify.Params{CustomerName: c.Name, OfferTitle: o.Title, ExpiresAt: o.ExpiresAt, URL: link},
			Data:   map[string]string{"offerId": o.ID}, Key: "offer-link-" + link}); err != nil {
			return err
		}
		return tx.CreateActivity(ctx, activity(c.ID, o.ID, "offer.link_renewed", "", m))
	})
	if err != nil {
		return esign.E(op, err)
	}
	return nil
}
