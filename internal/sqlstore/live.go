package sqlstore

import (
	"context"
	"time"

	"esign/internal/esign"
)

// LiveEvent is one entry of the operators' live feed (table live_event):
// a state change an operator sees on the dashboard and the offer page.
// Seq, given by the database, is the feed's event id: browsers resume from
// it after a reconnect (ListLiveEvents).
type LiveEvent struct {
	Seq         int64     `json:"seq"`
	Type        string    `json:"type"` // offer.uploaded, signature.verified, contract.sealed, offer.refused, …
	OfferID     string    `json:"offerId,omitempty"`
	CustomerID  string    `json:"customerId,omitempty"`
	ContractID  string    `json:"contractId,omitempty"`
	SignatureID string    `json:"signatureId,omitempty"`
	Title       string    `json:"title,omitempty"`  // the offer's title
	Detail      string    `json:"detail,omitempty"` // a reason or a check code
	CreatedAt   time.Time `json:"createdAt"`
}

// MaxLiveBacklog bounds the events ListLiveEvents returns at once.
const MaxLiveBacklog = 500

// CreateLiveEvent stores e, setting its Seq and (when zero) CreatedAt.
// Errors: Invalid (no type).
func (s *store) CreateLiveEvent(ctx context.Context, e *LiveEvent) error {
	const op = "sqlstore.CreateLiveEvent"
	if e.Type == "" {
		return esign.E(op, esign.Invalid, "a live event needs a type")
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = esign.Timestamp(s.now())
	}
	err := s.queryRow(ctx, `INSERT INTO live_event (type, offer_id, customer_id, contract_id, signature_id, title, detail, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		e.Type, e.OfferID, e.CustomerID, e.ContractID, e.SignatureID, e.Title, e.Detail, e.CreatedAt).Scan(&e.Seq)
	return s.wrap(op, err)
}

// ListLiveEvents returns up to limit (at most MaxLiveBacklog) events after
// seq afterSeq and not older than since (zero: any age), oldest first.
func (s *store) ListLiveEvents(ctx context.Context, afterSeq int64, since time.Time, limit int) ([]LiveEvent, error) {
	const op = "sqlstore.ListLiveEvents"
	if limit <= 0 || limit > MaxLiveBacklog {
		limit = MaxLiveBacklog
	}
	if since.IsZero() {
		since = time.Unix(0, 0) // (a zero time is stored as NULL)
	}
	rows, err := s.query(ctx, `SELECT seq, type, offer_id, customer_id, contract_id, signature_id, title, detail, created_at
		FROM live_event WHERE seq > ? AND created_at >= ? ORDER BY seq LIMIT ?`, afterSeq, esign.Timestamp(since), limit)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	var out []LiveEvent
	for rows.Next() {
		var e LiveEvent
		if err := rows.Scan(&e.Seq, &e.Type, &e.OfferID, &e.CustomerID, &e.ContractID, &e.SignatureID, &e.Title, &e.Detail,
			tm(&e.CreatedAt)); err != nil {
			return nil, s.wrap(op, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(op, err)
	}
	return out, nil
}

// LastLiveEventSeq returns the newest event's seq (0: none yet): where a
// browser that connects for the first time starts.
func (s *store) LastLiveEventSeq(ctx context.Context) (int64, error) {
	var n int64
	err := s.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM live_event`).Scan(&n)
	return n, s.wrap("sqlstore.LastLiveEventSeq", err)
}

// DeleteLiveEventsBefore deletes the events older than t (the feed keeps a
// day or so; a browser away longer reloads the page). It returns how many
// rows it deleted.
func (s *store) DeleteLiveEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM live_event WHERE created_at < ?`, esign.Timestamp(t))
	if err != nil {
		return 0, s.wrap("sqlstore.DeleteLiveEventsBefore", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
