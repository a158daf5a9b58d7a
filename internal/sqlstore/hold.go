package sqlstore

import (
	"context"
	"slices"
	"strings"

	"esign/internal/esign"
)

// HeldNotification is an offer whose "offer available" notifications wait
// for the customer's approval, and the channel the bank chose.
type HeldNotification struct {
	OfferID string
	Channel string
}

// HoldOfferNotification records that the offer's notifications wait for
// the customer's approval. Errors: Conflict (held already).
func (s *store) HoldOfferNotification(ctx context.Context, offerID, customerID, channel string) error {
	const op = "sqlstore.HoldOfferNotification"
	_, err := s.exec(ctx, `INSERT INTO offer_notification_hold (offer_id, customer_id, channel, created_at) VALUES (?, ?, ?, ?)`,
		offerID, customerID, channel, s.now())
	if err != nil {
		return s.wrap(op, err)
	}
	return nil
}

// TakeHeldNotifications removes and returns the customer's held
// notifications, by offer id (ids are time-ordered: oldest first). Use it in the transaction that sends them.
func (s *store) TakeHeldNotifications(ctx context.Context, customerID string) ([]HeldNotification, error) {
	const op = "sqlstore.TakeHeldNotifications"
	if !esign.ValidID(customerID) {
		return nil, nil
	}
	// One statement: a hold recorded meanwhile is either taken or stays.
	rows, err := s.query(ctx, `DELETE FROM offer_notification_hold WHERE customer_id = ? RETURNING offer_id, channel`, customerID)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	var out []HeldNotification
	for rows.Next() {
		var h HeldNotification
		if err := rows.Scan(&h.OfferID, &h.Channel); err != nil {
			return nil, s.wrap(op, err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(op, err)
	}
	slices.SortFunc(out, func(a, b HeldNotification) int { return strings.Compare(a.OfferID, b.OfferID) })
	return out, nil
}
