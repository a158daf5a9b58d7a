package sqlstore

// The statements of the signing flow's upload and notification delivery,
// batched (issue #19): a new offer's documents in one INSERT and their
// links in another, and a delivery's first log row written together with
// the look-up of an earlier one.

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"esign/internal/esign"
	"esign/internal/jobs"
	"esign/internal/notify"
)

// CreateDocuments stores new documents in one statement, in the order
// given; on success each holds its stored row. Errors: Invalid
// (validation, unknown customer or contract), Conflict (storage key
// exists).
func (s *store) CreateDocuments(ctx context.Context, docs []*esign.Document) error {
	const op = "sqlstore.CreateDocuments"
	switch len(docs) {
	case 0:
		return nil
	case 1:
		return s.CreateDocument(ctx, docs[0])
	}
	seen := make(map[string]bool, len(docs))
	for _, d := range docs {
		if err := d.Validate(); err != nil {
			return esign.E(op, err)
		}
		if err := s.stamp(op, &d.ID, &d.CreatedAt, &d.UpdatedAt); err != nil {
			return err
		}
		if seen[d.ID] {
			return esign.E(op, esign.Invalid, "a document id is given twice")
		}
		seen[d.ID] = true
	}
	n, err := insertRows(ctx, s, op, documents, docs, func(d *esign.Document) string { return d.ID })
	if err != nil {
		return err
	}
	if n != len(docs) {
		return esign.Errorf(op, esign.Internal, "%d of %d documents stored", n, len(docs))
	}
	return nil
}

// linkNewOfferDocuments links the documents to the offer just created, at
// positions 0, 1, … in one statement; each must belong to the customer.
func (s *store) linkNewOfferDocuments(ctx context.Context, op, offerID, customerID string, documentIDs []string) error {
	seen := make(map[string]bool, len(documentIDs))
	var pos strings.Builder
	args := []any{offerID}
	for i, id := range documentIDs {
		if !esign.ValidID(id) {
			return esign.E(op, esign.Invalid, "the document id is not valid")
		}
		if seen[id] {
			// (what the primary key said when they were linked one by one)
			return esign.E(op, esign.Conflict, "the document is linked to the offer already")
		}
		seen[id] = true
		// The positions are small integers of our own: literals, so that
		// PostgreSQL types the column integer.
		pos.WriteString(" WHEN ? THEN " + strconv.Itoa(i))
		args = append(args, id)
	}
	in := strings.TrimSuffix(strings.Repeat("?, ", len(documentIDs)), ", ")
	for _, id := range documentIDs {
		args = append(args, id)
	}
	args = append(args, customerID)
	res, err := s.exec(ctx, `INSERT INTO offer_document (offer_id, document_id, position)
		SELECT ?, d.id, CASE d.id`+pos.String()+` END
		FROM document d WHERE d.id IN (`+in+`) AND d.customer_id = ?`, args...)
	if err != nil {
		return s.wrap(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.wrap(op, err)
	} else if n != int64(len(documentIDs)) {
		return esign.E(op, esign.Invalid, "the document does not exist or belongs to another customer")
	}
	return nil
}

// CreateOfferAs stores a new offer as CreateOffer does and moves it to
// state to at once, as UpdateOfferState would (version 2, reason, the
// creation time as the time of the change): one INSERT where the caller
// decided the state within the transaction that creates the offer. Errors:
// as CreateOffer, and Invalid with code offer_state (no transition from
// created to to).
func (s *store) CreateOfferAs(ctx context.Context, o *esign.Offer, to esign.OfferState, reason string, documentIDs ...string) error {
	return s.createOffer(ctx, "sqlstore.CreateOffer", o, to, reason, documentIDs)
}

// UpdateOfferStateFrom is UpdateOfferState for a caller that holds the
// offer as stored (cur, e.g. just created in the same transaction): it is
// not read again. The statement still changes it only at cur's version
// and state. Errors: as UpdateOfferState.
func (s *store) UpdateOfferStateFrom(ctx context.Context, cur *esign.Offer, to esign.OfferState, reason string) (*esign.Offer, error) {
	return s.updateOfferState(ctx, "sqlstore.UpdateOfferState", cur, cur.Version, to, reason)
}

// StartDelivery records d, a delivery about to be handed to the provider
// (status sending), unless the delivery with its key was sent, rate-limited
// or expired already; it returns the entry recorded before d (found false:
// none), in one statement where nothing was recorded before or the entry
// may be sent again. A final entry is returned and d not recorded.
func (s *JobStore) StartDelivery(ctx context.Context, d jobs.Delivery) (jobs.Delivery, bool, error) {
	if d.Channel != notify.SMS && d.Channel != notify.Email && d.Channel != notify.Push {
		return jobs.Delivery{}, false, esign.Errorf("sqlstore.StartDelivery", esign.Invalid, "unknown channel %q", d.Channel)
	}
	var (
		id       string
		inserted bool
		err      error
	)
	dl := esign.Delivery{DeliveryKey: d.Key, JobID: d.JobID, Attempt: d.Attempt, Provider: d.Provider,
		ProviderID: d.ProviderID, ErrorCode: d.ErrorCode, Error: d.Error}
	st := esign.DeliveryStatus(d.Status)
	switch d.Channel {
	case notify.SMS:
		l := &esign.SmsLog{Recipient: d.Recipient, Body: d.Text, Template: string(d.Kind), Status: st, Delivery: dl}
		inserted, err = startDelivery(ctx, &s.db.store, "sqlstore.StartDelivery", smsLogs, l, &l.ID, &l.CreatedAt, &l.UpdatedAt, d.Key, l.Validate)
		id = l.ID
	case notify.Email:
		l := &esign.EmailLog{Recipient: d.Recipient, Subject: d.Subject, Template: string(d.Kind), Status: st, Delivery: dl}
		inserted, err = startDelivery(ctx, &s.db.store, "sqlstore.StartDelivery", emailLogs, l, &l.ID, &l.CreatedAt, &l.UpdatedAt, d.Key, l.Validate)
		id = l.ID
	case notify.Push:
		l := &esign.PushLog{Recipient: d.Recipient, Title: d.Subject, Template: string(d.Kind), Status: st, Delivery: dl}
		inserted, err = startDelivery(ctx, &s.db.store, "sqlstore.StartDelivery", pushLogs, l, &l.ID, &l.CreatedAt, &l.UpdatedAt, d.Key, l.Validate)
		id = l.ID
	}
	switch {
	case err != nil:
		return jobs.Delivery{}, false, err
	case inserted:
		return jobs.Delivery{}, false, nil
	case id != "":
		// An earlier entry that was not final, now recorded as d: what
		// the worker needs of it is that it exists.
		return jobs.Delivery{Key: d.Key, Channel: d.Channel, Status: jobs.StatusSending}, true, nil
	}
	// Final already, left as it was: read it (a retry after the message
	// was sent — rare).
	return s.FindDelivery(ctx, d.Channel, d.Key)
}

// startDelivery upserts v (a new id) on its delivery key unless the stored
// entry is final. inserted says whether v is a new row; when the stored
// entry was updated instead v's id is that entry's, and when it was final
// v's id is "".
func startDelivery[T any](ctx context.Context, s *store, op string, t *table[T], v *T, id *string, created, updated *time.Time, key string, validate func() error) (inserted bool, err error) {
	if key == "" {
		return false, esign.E(op, esign.Invalid, "a delivery key is required")
	}
	if err := validate(); err != nil {
		return false, esign.E(op, err)
	}
	if err := s.stamp(op, id, created, updated); err != nil {
		return false, err
	}
	newID := *id
	q := deliveryUpsert(t.values, t.name) + " WHERE " + t.name + ".status NOT IN (?, ?, ?) RETURNING id"
	args := append(t.fields(v), esign.DeliverySent, esign.DeliveryRateLimited, esign.DeliveryExpired)
	err = s.queryRow(ctx, q, args...).Scan(id)
	if errors.Is(err, sql.ErrNoRows) {
		*id = ""
		return false, nil
	}
	if err != nil {
		return false, s.wrap(op, err)
	}
	return *id == newID, nil
}

// deliveryUpsert is the INSERT of a delivery log entry (values) that, when
// the delivery key is stored already, records the new status and delivery
// fields in the stored entry of the table instead (keeping its first
// sent_at).
func deliveryUpsert(values, table string) string {
	return values + " ON CONFLICT (delivery_key) DO UPDATE SET status = excluded.status, job_id = excluded.job_id," +
		" attempt = excluded.attempt, provider = excluded.provider, provider_id = excluded.provider_id," +
		" error_code = excluded.error_code, error = excluded.error, sent_at = COALESCE(" + table + ".sent_at, excluded.sent_at)," +
		" updated_at = excluded.updated_at"
}

// ForgetDelivery deletes the entry with the key that StartDelivery
// recorded as sending (see jobs.DeliveryStarter); another entry is kept.
func (s *JobStore) ForgetDelivery(ctx context.Context, channel notify.Channel, key string) error {
	const op = "sqlstore.ForgetDelivery"
	name := map[notify.Channel]string{notify.SMS: smsLogs.name, notify.Email: emailLogs.name, notify.Push: pushLogs.name}[channel]
	if name == "" {
		return esign.Errorf(op, esign.Invalid, "unknown channel %q", channel)
	}
	_, err := s.db.deleteRows(ctx, op, name, "delivery_key = ? AND status = ?", key, esign.DeliverySending)
	return err
}
