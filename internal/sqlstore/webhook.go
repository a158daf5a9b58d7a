package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"esign/internal/esign"
)

// Idempotent is the record of one webhook request made with an
// Idempotency-Key: the request's hash and, once the first request finished,
// its response. Status 0 means the first request is still running.
type Idempotent struct {
	Endpoint    string
	Key         string
	RequestHash string
	Status      int
	Response    []byte
}

// BeginIdempotent claims (endpoint, key) for a request with requestHash.
// When the key is new it is recorded in progress and first is true; else
// the stored record is returned and first is false (the caller compares the
// hash and replays the response, or answers that the first request is still
// running). Errors: Invalid (empty or over-long key).
func (s *store) BeginIdempotent(ctx context.Context, endpoint, key, requestHash string) (rec Idempotent, first bool, err error) {
	const op = "sqlstore.BeginIdempotent"
	if key == "" || len(key) > 255 || endpoint == "" {
		return Idempotent{}, false, esign.WithCode(op, esign.Invalid, "idempotency_key", "the Idempotency-Key must have 1 to 255 characters")
	}
	res, err := s.exec(ctx, `INSERT INTO webhook_idempotency (endpoint, idem_key, request_hash, status, response, created_at)
		VALUES (?, ?, ?, 0, '', ?) ON CONFLICT (endpoint, idem_key) DO NOTHING`, endpoint, key, requestHash, s.now())
	if err != nil {
		return Idempotent{}, false, s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Idempotent{}, false, s.wrap(op, err)
	}
	rec = Idempotent{Endpoint: endpoint, Key: key, RequestHash: requestHash}
	if n == 1 {
		return rec, true, nil
	}
	var body string
	err = s.queryRow(ctx, `SELECT request_hash, status, response FROM webhook_idempotency WHERE endpoint = ? AND idem_key = ?`,
		endpoint, key).Scan(&rec.RequestHash, &rec.Status, &body)
	if errors.Is(err, sql.ErrNoRows) {
		// Released between the insert and the read: the caller may retry.
		return Idempotent{}, false, esign.E(op, esign.Conflict, "the request with this Idempotency-Key is being retried concurrently")
	}
	if err != nil {
		return Idempotent{}, false, s.wrap(op, err)
	}
	rec.Response = []byte(body)
	return rec, false, nil
}

// CompleteIdempotent stores the response of the request that claimed
// (endpoint, key). Errors: NotFound (not claimed, or released).
func (s *store) CompleteIdempotent(ctx context.Context, endpoint, key string, status int, response []byte) error {
	const op = "sqlstore.CompleteIdempotent"
	if status <= 0 {
		return esign.E(op, esign.Invalid, "the status must be positive")
	}
	res, err := s.exec(ctx, `UPDATE webhook_idempotency SET status = ?, response = ?, completed_at = ?
		WHERE endpoint = ? AND idem_key = ? AND status = 0`, status, string(response), s.now(), endpoint, key)
	if err != nil {
		return s.wrap(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.wrap(op, err)
	} else if n == 0 {
		return esign.E(op, esign.NotFound, "no request in progress with this Idempotency-Key")
	}
	return nil
}

// ReleaseIdempotent forgets an unfinished claim (the first request failed
// in a way a retry may fix), so that a retry runs again.
func (s *store) ReleaseIdempotent(ctx context.Context, endpoint, key string) error {
	const op = "sqlstore.ReleaseIdempotent"
	if _, err := s.exec(ctx, `DELETE FROM webhook_idempotency WHERE endpoint = ? AND idem_key = ? AND status = 0`, endpoint, key); err != nil {
		return s.wrap(op, err)
	}
	return nil
}

// BindTx returns a Tx over a transaction that someone else opened and will
// commit (the job queue hands its callbacks a *sql.Tx), so that the
// repository methods run inside it.
func (db *DB) BindTx(sqlTx *sql.Tx) *Tx {
	tx := &Tx{sqlTx: sqlTx}
	tx.store = store{q: sqlTx, d: db.d, db: db, inT: true, now: db.now}
	if a, ok := db.open.Load(sqlTx); ok {
		tx.after = a.(*afterCommit) // an InTx's transaction: AfterCommit works
	}
	return tx
}

// WebhookEvent is an event for the bank's systems; Payload is the JSON body
// every receiver gets.
type WebhookEvent struct {
	ID        string
	Type      string
	SubjectID string // the offer or contract it is about
	Payload   []byte
	CreatedAt time.Time
}

// The delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// EventDelivery is the state of one event's delivery to one URL.
type EventDelivery struct {
	EventID     string
	EventType   string
	SubjectID   string
	URL         string
	Status      string // pending, delivered, failed
	Attempts    int
	LastStatus  int    // the receiver's last HTTP status; 0: no answer
	LastError   string // why the last attempt failed
	DeliveredAt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// CreateWebhookEvent stores the event (its ID and CreatedAt set when
// empty) with a pending delivery per URL. Errors: Invalid.
func (s *store) CreateWebhookEvent(ctx context.Context, e *WebhookEvent, urls []string) error {
	const op = "sqlstore.CreateWebhookEvent"
	if e.Type == "" || len(e.Payload) == 0 {
		return esign.E(op, esign.Invalid, "an event needs a type and a payload")
	}
	if e.ID == "" {
		e.ID = esign.NewID()
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = esign.Timestamp(s.now())
	}
	return s.withTx(ctx, func(s *store) error {
		if _, err := s.exec(ctx, `INSERT INTO webhook_event (id, type, subject_id, payload, created_at) VALUES (?, ?, ?, ?, ?)`,
			e.ID, e.Type, e.SubjectID, string(e.Payload), e.CreatedAt); err != nil {
			return s.wrap(op, err)
		}
		for _, u := range urls {
			if _, err := s.exec(ctx, `INSERT INTO webhook_delivery (event_id, url, status, created_at, updated_at) VALUES (?, ?, 'pending', ?, ?)`,
				e.ID, u, e.CreatedAt, e.CreatedAt); err != nil {
				return s.wrap(op, err)
			}
		}
		return nil
	})
}

// GetWebhookEvent returns the event and its delivery to url. Errors:
// NotFound.
func (s *store) GetWebhookEvent(ctx context.Context, id, url string) (*WebhookEvent, *EventDelivery, error) {
	const op = "sqlstore.GetWebhookEvent"
	if id == "" || url == "" {
		return nil, nil, esign.E(op, esign.NotFound, "no such event delivery")
	}
	ds, err := s.listDeliveries(ctx, op, EventDeliveryFilter{EventID: id, URL: url}, true)
	if err != nil {
		return nil, nil, err
	}
	if len(ds) == 0 {
		return nil, nil, esign.E(op, esign.NotFound, "no such event delivery")
	}
	d := ds[0]
	return &WebhookEvent{ID: d.EventID, Type: d.EventType, SubjectID: d.SubjectID, Payload: d.payload, CreatedAt: d.CreatedAt}, &d.EventDelivery, nil
}

// RecordEventAttempt records one delivery attempt: delivered when ok,
// else the receiver's status (0: none) and the error, and failed when
// final. A delivered delivery does not change any more. Errors: NotFound.
func (s *store) RecordEventAttempt(ctx context.Context, eventID, url string, ok bool, status int, errMsg string, final bool) error {
	const op = "sqlstore.RecordEventAttempt"
	next := DeliveryPending
	var at any
	now := s.now()
	switch {
	case ok:
		next, at = DeliveryDelivered, now
	case final:
		next = DeliveryFailed
	}
	if len(errMsg) > 1000 {
		errMsg = errMsg[:1000]
	}
	res, err := s.exec(ctx, `UPDATE webhook_delivery SET status = ?, attempts = attempts + 1, last_status = ?, last_error = ?,
		delivered_at = ?, updated_at = ? WHERE event_id = ? AND url = ? AND status <> 'delivered'`,
		next, status, errMsg, at, now, eventID, url)
	if err != nil {
		return s.wrap(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.wrap(op, err)
	} else if n == 0 {
		return esign.E(op, esign.NotFound, "no undelivered delivery of this event to this URL")
	}
	return nil
}

// EventDeliveryFilter selects deliveries; zero fields do not filter.
type EventDeliveryFilter struct {
	EventID string
	URL     string
	Status  string
	Type    string
	esign.Page
}

type deliveryRow struct {
	EventDelivery
	payload []byte
}

// ListEventDeliveries lists deliveries, newest event first (the operators'
// view of events out).
func (s *store) ListEventDeliveries(ctx context.Context, f EventDeliveryFilter) ([]EventDelivery, error) {
	rows, err := s.listDeliveries(ctx, "sqlstore.ListEventDeliveries", f, false)
	if err != nil {
		return nil, err
	}
	out := make([]EventDelivery, len(rows))
	for i, r := range rows {
		out[i] = r.EventDelivery
	}
	return out, nil
}

func (s *store) listDeliveries(ctx context.Context, op string, f EventDeliveryFilter, withPayload bool) ([]deliveryRow, error) {
	var w where
	eq(&w, "d.event_id", f.EventID)
	eq(&w, "d.url", f.URL)
	eq(&w, "d.status", f.Status)
	eq(&w, "e.type", f.Type)
	payload := "''"
	if withPayload {
		payload = "e.payload"
	}
	q, args := w.build(`SELECT d.event_id, e.type, e.subject_id, d.url, d.status, d.attempts, d.last_status, d.last_error,
		d.delivered_at, e.created_at, d.updated_at, `+payload+` FROM webhook_delivery d JOIN webhook_event e ON e.id = d.event_id`,
		"e.created_at DESC, d.event_id DESC, d.url", f.Page)
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	var out []deliveryRow
	for rows.Next() {
		var r deliveryRow
		var p string
		if err := rows.Scan(&r.EventID, &r.EventType, &r.SubjectID, &r.URL, &r.Status, &r.Attempts, &r.LastStatus, &r.LastError,
			tm(&r.DeliveredAt), tm(&r.CreatedAt), tm(&r.UpdatedAt), &p); err != nil {
			return nil, s.wrap(op, err)
		}
		r.payload = []byte(p)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(op, err)
	}
	return out, nil
}

// RetryEventDelivery sets a failed delivery of the event to url back to
// pending, for an operator's retry; the caller enqueues the delivery job
// in the same transaction. Errors: NotFound (no such delivery), Conflict
// (not_failed: it is delivered or still being tried).
func (s *store) RetryEventDelivery(ctx context.Context, eventID, url string) error {
	const op = "sqlstore.RetryEventDelivery"
	res, err := s.exec(ctx, `UPDATE webhook_delivery SET status = 'pending', updated_at = ? WHERE event_id = ? AND url = ? AND status = 'failed'`,
		s.now(), eventID, url)
	if err != nil {
		return s.wrap(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.wrap(op, err)
	} else if n > 0 {
		return nil
	}
	if _, _, err := s.GetWebhookEvent(ctx, eventID, url); err != nil {
		return err
	}
	return esign.WithCode(op, esign.Conflict, "not_failed", "only a failed delivery can be retried")
}
