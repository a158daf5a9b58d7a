package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"esign/internal/esign"
)

// The queries the customer and mobile-app service needs beyond the generic
// repositories: atomic one-time-code consumption, login failure counting
// and session revocation.

// ListCustomersByPhone lists the customers with the phone number, oldest
// first.
func (s *store) ListCustomersByPhone(ctx context.Context, phone string, p esign.Page) ([]*esign.Customer, error) {
	var w where
	w.add("phone = ?", phone)
	return listRows(ctx, s, "sqlstore.ListCustomersByPhone", customers, &w, "created_at, id", p)
}

// ConsumeVerificationToken marks the token used if, at now, it is unused,
// unexpired, has fewer than maxAttempts failed attempts and its hash is
// tokenHash. It is one conditional UPDATE, so of many concurrent calls at
// most one reports true.
func (s *store) ConsumeVerificationToken(ctx context.Context, id, tokenHash string, now time.Time, maxAttempts int) (bool, error) {
	const op = "sqlstore.ConsumeVerificationToken"
	if !esign.ValidID(id) {
		return false, nil
	}
	res, err := s.exec(ctx, `UPDATE verification_token SET used_at = ?
		WHERE id = ? AND token_hash = ? AND used_at IS NULL AND expires_at > ? AND attempts < ?`,
		esign.Timestamp(now), id, tokenHash, now, maxAttempts)
	if err != nil {
		return false, s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.wrap(op, err)
	}
	return n == 1, nil
}

// FailVerificationToken counts one failed attempt against an unused token
// and returns the attempts now recorded. A token that reaches maxAttempts
// is dead (ConsumeVerificationToken refuses it). Errors: NotFound.
func (s *store) FailVerificationToken(ctx context.Context, id string, maxAttempts int) (int, error) {
	const op = "sqlstore.FailVerificationToken"
	if !esign.ValidID(id) {
		return 0, verificationTokens.notFound(op)
	}
	var attempts int
	err := s.queryRow(ctx, `UPDATE verification_token SET attempts = attempts + 1
		WHERE id = ? AND used_at IS NULL AND attempts < ? RETURNING attempts`, id, maxAttempts).Scan(&attempts)
	if err == sql.ErrNoRows {
		return maxAttempts, nil
	}
	if err != nil {
		return 0, s.wrap(op, err)
	}
	return attempts, nil
}

// InvalidateVerificationTokens marks every unused token of the customer and
// purpose (and signature, when signatureID is set) as used at now, so that
// only a code issued afterwards is accepted. It returns how many it
// invalidated.
func (s *store) InvalidateVerificationTokens(ctx context.Context, customerID string, purpose esign.TokenPurpose, signatureID string, now time.Time) (int64, error) {
	const op = "sqlstore.InvalidateVerificationTokens"
	q := `UPDATE verification_token SET used_at = ? WHERE customer_id = ? AND purpose = ? AND used_at IS NULL`
	args := []any{now, customerID, purpose}
	if signatureID != "" {
		q += " AND signature_id = ?"
		args = append(args, signatureID)
	}
	res, err := s.exec(ctx, q, args...)
	if err != nil {
		return 0, s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	return n, s.wrap(op, err)
}

// CountVerificationTokens counts the tokens of the customer and purpose
// that expire after the time (the per-challenge send cap: with a fixed
// validity, the tokens issued in a window); with a signature id, only that
// signature's. It uses the caller's clock, through the expiry the caller
// chose, not the store's.
func (s *store) CountVerificationTokens(ctx context.Context, customerID string, purpose esign.TokenPurpose, signatureID string, expiringAfter time.Time) (int, error) {
	const op = "sqlstore.CountVerificationTokens"
	q, args := `SELECT COUNT(*) FROM verification_token WHERE customer_id = ? AND purpose = ? AND expires_at > ?`,
		[]any{customerID, purpose, expiringAfter}
	if signatureID != "" {
		q += ` AND signature_id = ?`
		args = append(args, signatureID)
	}
	var n int
	err := s.queryRow(ctx, q, args...).Scan(&n)
	if err != nil {
		return 0, s.wrap(op, err)
	}
	return n, nil
}

// LoginFailuresKey is the customer_data key that counts consecutive failed
// password checks.
const LoginFailuresKey = "auth.login_failures"

// AddLoginFailure increments the customer's consecutive failed password
// checks atomically and returns the new count. Errors: Invalid (unknown
// customer).
func (s *store) AddLoginFailure(ctx context.Context, customerID string, now time.Time) (int, error) {
	const op = "sqlstore.AddLoginFailure"
	now = esign.Timestamp(now)
	var v string
	err := s.queryRow(ctx, `INSERT INTO customer_data (id, customer_id, key, value, created_at, updated_at)
		VALUES (?, ?, ?, '1', ?, ?)
		ON CONFLICT (customer_id, key) DO UPDATE
		SET value = CAST(CAST(customer_data.value AS INTEGER) + 1 AS TEXT), updated_at = excluded.updated_at
		RETURNING value`, esign.NewID(), customerID, LoginFailuresKey, now, now).Scan(&v)
	if err != nil {
		return 0, s.wrap(op, err)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, esign.E(op, err)
	}
	return n, nil
}

// LoginFailures returns the customer's consecutive failed password checks
// and when the last one happened (zero when there are none).
func (s *store) LoginFailures(ctx context.Context, customerID string) (int, time.Time, error) {
	const op = "sqlstore.LoginFailures"
	d, err := getRow(ctx, s, op, customerData, "customer_id = ? AND key = ?", customerID, LoginFailuresKey)
	if esign.IsKind(err, esign.NotFound) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	n, err := strconv.Atoi(d.Value)
	if err != nil {
		return 0, time.Time{}, esign.E(op, err)
	}
	return n, d.UpdatedAt, nil
}

// ResetLoginFailures forgets the customer's failed password checks.
func (s *store) ResetLoginFailures(ctx context.Context, customerID string) error {
	_, err := s.deleteRows(ctx, "sqlstore.ResetLoginFailures", "customer_data", "customer_id = ? AND key = ?", customerID, LoginFailuresKey)
	return err
}

// DeleteSessionByTokenHash deletes the session with the token hash and
// reports whether there was one.
func (s *store) DeleteSessionByTokenHash(ctx context.Context, tokenHash string) (bool, error) {
	n, err := s.deleteRows(ctx, "sqlstore.DeleteSessionByTokenHash", "session", "token_hash = ?", tokenHash)
	return n > 0, err
}

// DeleteSubjectSessions deletes every session of the subject and returns
// how many.
func (s *store) DeleteSubjectSessions(ctx context.Context, subject esign.SessionSubject, subjectID string) (int64, error) {
	return s.deleteRows(ctx, "sqlstore.DeleteSubjectSessions", "session", "subject_type = ? AND subject_id = ?", subject, subjectID)
}

// TouchSession sets the session's last-seen time. Errors: NotFound.
func (s *store) TouchSession(ctx context.Context, tokenHash string, now time.Time) error {
	const op = "sqlstore.TouchSession"
	res, err := s.exec(ctx, "UPDATE session SET last_seen_at = ? WHERE token_hash = ?", now, tokenHash)
	if err != nil {
		return s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrap(op, err)
	}
	if n == 0 {
		return sessions.notFound(op)
	}
	return nil
}

// DocumentInOffers reports whether the document is linked to an offer of
// the customer in one of the states that the bank's hook did not veto.
func (s *store) DocumentInOffers(ctx context.Context, documentID, customerID string, states []esign.OfferState) (bool, error) {
	const op = "sqlstore.DocumentInOffers"
	if !esign.ValidID(documentID) || !esign.ValidID(customerID) || len(states) == 0 {
		return false, nil
	}
	q := `SELECT COUNT(*) FROM offer_document od JOIN offer o ON o.id = od.offer_id
		WHERE od.document_id = ? AND o.customer_id = ? AND NOT o.vetoed AND o.state IN (?` + strings.Repeat(", ?", len(states)-1) + ")"
	args := []any{documentID, customerID}
	for _, st := range states {
		args = append(args, st)
	}
	var n int
	if err := s.queryRow(ctx, q, args...).Scan(&n); err != nil {
		return false, s.wrap(op, err)
	}
	return n > 0, nil
}
