package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"esign/internal/esign"
)

// SealInput is what the seal of a verified signature (Phase 5) reads: the
// signature, its offer, the customer (the contract_ready push's name and
// language), the FCM token of the signing app, the signing evidence, the
// time-stamp tokens and the offer's documents.
type SealInput struct {
	Signature *esign.Signature
	Offer     *esign.Offer
	Customer  *esign.Customer
	// FcmToken is the signing app's push token; "" when the app has none
	// (or the signature no app).
	FcmToken string
	// Data is the signature's evidence by kind (signature_data).
	Data map[string][]byte
	// Tokens are the signature's time-stamp tokens in generation order
	// (ID, Purpose, Token and GenTime filled in).
	Tokens []*esign.TimestampToken
	// Documents are the offer's documents not deleted, in their position
	// order, with the fields the seal uses: ID, CustomerID, Name,
	// ContentType, Size, SHA256, StorageKey, Encrypted.
	Documents []*esign.Document
}

// GetSealInput reads everything the seal of the signature needs in two
// statements instead of one per table: the seal job runs once per signing
// flow and its reads were a tenth of the flow's statements
// (docs/performance.md). Errors: NotFound (no such signature).
func (s *store) GetSealInput(ctx context.Context, signatureID string) (*SealInput, error) {
	const op = "sqlstore.GetSealInput"
	if !esign.ValidID(signatureID) {
		return nil, signatures.notFound(op)
	}
	in := &SealInput{Signature: new(esign.Signature), Offer: new(esign.Offer), Customer: new(esign.Customer),
		Data: map[string][]byte{}}
	var token sql.NullString
	dest := append(signatures.fields(in.Signature), offers.fields(in.Offer)...)
	dest = append(append(dest, customers.fields(in.Customer)...), &token)
	err := s.queryRow(ctx, "SELECT "+signatures.qualified("g")+", "+offers.qualified("o")+", "+customers.qualified("c")+
		", f.token FROM signature g JOIN offer o ON o.id = g.offer_id JOIN customer c ON c.id = g.customer_id"+
		" LEFT JOIN fcm_info f ON f.app_id = g.app_id WHERE g.id = ?", signatureID).Scan(dest...)
	if err == sql.ErrNoRows {
		return nil, signatures.notFound(op)
	}
	if err != nil {
		return nil, s.wrap(op, err)
	}
	in.FcmToken = token.String
	// One statement for the rows of three tables: src tells them apart,
	// the columns a table has not are NULL or empty.
	rows, err := s.query(ctx, `SELECT 0 AS src, 0 AS pos, created_at AS ts, id, kind AS name, data AS bytes,
			'' AS content_type, 0 AS size, '' AS sha256, '' AS storage_key, FALSE AS encrypted
		FROM signature_data WHERE signature_id = ?
		UNION ALL SELECT 1, 0, gen_time, id, purpose, token, '', 0, '', '', FALSE
		FROM timestamp_token WHERE signature_id = ?
		UNION ALL SELECT 2, od.position, d.created_at, d.id, d.name, NULL, d.content_type, d.size, d.sha256, d.storage_key, d.encrypted
		FROM document d JOIN offer_document od ON od.document_id = d.id WHERE od.offer_id = ? AND d.deleted_at IS NULL
		ORDER BY src, pos, ts, id`, signatureID, signatureID, in.Offer.ID)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var src, pos, size int64
		var at time.Time
		var id, name, ctype, sha, key string
		var data []byte
		var encrypted bool
		if err := rows.Scan(&src, &pos, tm(&at), &id, &name, &data, &ctype, &size, &sha, &key, &encrypted); err != nil {
			return nil, s.wrap(op, err)
		}
		switch src {
		case 0:
			in.Data[name] = data
		case 1:
			in.Tokens = append(in.Tokens, &esign.TimestampToken{ID: id, SignatureID: signatureID,
				Purpose: esign.TimestampPurpose(name), Token: data, GenTime: at})
		case 2:
			in.Documents = append(in.Documents, &esign.Document{ID: id, CustomerID: in.Offer.CustomerID, Name: name,
				ContentType: ctype, Size: size, SHA256: sha, StorageKey: key, Encrypted: encrypted, CreatedAt: at})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(op, err)
	}
	return in, nil
}

// MoveOffer moves cur, as read (its version and state), to state to with
// reason, in one statement: UpdateOfferState's re-read is left out when
// the caller holds the row. The version and state guard of the statement
// makes check and change one atomic step as there. Errors: Invalid with
// code "offer_state", Conflict (the offer changed since cur was read).
func (s *store) MoveOffer(ctx context.Context, cur *esign.Offer, to esign.OfferState, reason string) (*esign.Offer, error) {
	return s.moveOffer(ctx, "sqlstore.MoveOffer", cur, to, reason)
}

// moveOffer moves cur to state to if its row still has cur's version and
// state.
func (s *store) moveOffer(ctx context.Context, op string, cur *esign.Offer, to esign.OfferState, reason string) (*esign.Offer, error) {
	if err := cur.State.CheckTransition(op, to); err != nil {
		return nil, err
	}
	var u setter
	u.set("state", to)
	u.set("state_reason", reason)
	now := s.now()
	u.set("state_changed_at", now)
	u.set("updated_at", now)
	// The state is checked again in the statement: together with the
	// version this makes the check and the change one atomic step.
	u.extra = " AND state = ?"
	u.extraArgs = []any{cur.State}
	return s.updateOfferVersion(ctx, op, cur.ID, cur.Version, &u)
}

// insertRows inserts vs, stamped already, in one multi-row statement and
// reads the stored rows back into them (insertRow for many); it returns
// how many came back.
func insertRows[T any](ctx context.Context, s *store, op string, t *table[T], vs []*T, id func(*T) string) (int, error) {
	if len(vs) == 0 {
		return 0, nil
	}
	byID := make(map[string]*T, len(vs))
	var args []any
	for _, v := range vs {
		byID[id(v)] = v
		args = append(args, t.fields(v)...)
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(t.cols)), ", ") + ")"
	q := t.values + strings.Repeat(", "+row, len(vs)-1) + t.ret
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return 0, s.wrap(op, err)
	}
	defer rows.Close()
	// RETURNING's order is not promised: each row goes back to its value
	// by id.
	n := 0
	for rows.Next() {
		got := new(T)
		if err := rows.Scan(t.fields(got)...); err != nil {
			return n, s.wrap(op, err)
		}
		if v := byID[id(got)]; v != nil {
			*v = *got
			n++
		}
	}
	return n, s.wrap(op, rows.Err())
}
