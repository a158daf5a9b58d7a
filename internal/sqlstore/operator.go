package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"esign/internal/esign"
)

// SecondFactor is an operator's TOTP state: the secret as an envelope made
// by the caller (never stored in clear), when enrolment was confirmed (zero
// while pending) and the last time step accepted, below or at which no code
// is accepted again (replay).
type SecondFactor struct {
	SecretEnc   []byte
	ConfirmedAt time.Time
	LastStep    int64
}

// Enrolled reports whether the second factor is set up.
func (f SecondFactor) Enrolled() bool { return len(f.SecretEnc) > 0 && !f.ConfirmedAt.IsZero() }

// UserSecondFactor returns the user's TOTP state (zero when none).
// Errors: NotFound (no such user).
func (s *store) UserSecondFactor(ctx context.Context, userID string) (SecondFactor, error) {
	const op = "sqlstore.UserSecondFactor"
	var f SecondFactor
	var secret []byte
	err := s.queryRow(ctx, `SELECT totp_secret_enc, totp_confirmed_at, totp_last_step FROM users WHERE id = ?`, userID).
		Scan(&secret, tm(&f.ConfirmedAt), &f.LastStep)
	if errors.Is(err, sql.ErrNoRows) {
		return SecondFactor{}, esign.E(op, esign.NotFound, "user not found")
	}
	if err != nil {
		return SecondFactor{}, s.wrap(op, err)
	}
	f.SecretEnc = secret
	return f, nil
}

// BeginSecondFactor stores a new, unconfirmed secret for a user that has no
// confirmed one. Errors: NotFound, Conflict (already enrolled).
func (s *store) BeginSecondFactor(ctx context.Context, userID string, secretEnc []byte) error {
	const op = "sqlstore.BeginSecondFactor"
	res, err := s.exec(ctx, `UPDATE users SET totp_secret_enc = ?, totp_last_step = 0, updated_at = ?
		WHERE id = ? AND totp_confirmed_at IS NULL`, secretEnc, s.now(), userID)
	return s.oneRow(ctx, op, res, err, userID, "the second factor is already set up")
}

// ConfirmSecondFactor marks the pending secret confirmed with the step of
// the code that proved it, and replaces the user's recovery codes with
// codeHashes. Errors: NotFound, Conflict (nothing pending).
func (s *store) ConfirmSecondFactor(ctx context.Context, userID string, step int64, codeHashes []string) error {
	const op = "sqlstore.ConfirmSecondFactor"
	return s.withTx(ctx, func(s *store) error {
		now := s.now()
		res, err := s.exec(ctx, `UPDATE users SET totp_confirmed_at = ?, totp_last_step = ?, updated_at = ?
			WHERE id = ? AND totp_confirmed_at IS NULL AND totp_secret_enc IS NOT NULL`, now, step, now, userID)
		if err := s.oneRow(ctx, op, res, err, userID, "no second factor is waiting for confirmation"); err != nil {
			return err
		}
		return s.replaceRecoveryCodes(ctx, op, userID, codeHashes)
	})
}

func (s *store) replaceRecoveryCodes(ctx context.Context, op, userID string, codeHashes []string) error {
	if _, err := s.exec(ctx, `DELETE FROM user_recovery_code WHERE user_id = ?`, userID); err != nil {
		return s.wrap(op, err)
	}
	now := s.now()
	for _, h := range codeHashes {
		if _, err := s.exec(ctx, `INSERT INTO user_recovery_code (user_id, code_hash, created_at) VALUES (?, ?, ?)`, userID, h, now); err != nil {
			return s.wrap(op, err)
		}
	}
	return nil
}

// ResetSecondFactor removes the user's secret and recovery codes: the next
// sign-in enrols again. Errors: NotFound.
func (s *store) ResetSecondFactor(ctx context.Context, userID string) error {
	const op = "sqlstore.ResetSecondFactor"
	return s.withTx(ctx, func(s *store) error {
		res, err := s.exec(ctx, `UPDATE users SET totp_secret_enc = NULL, totp_confirmed_at = NULL, totp_last_step = 0, updated_at = ?
			WHERE id = ?`, s.now(), userID)
		if err := s.oneRow(ctx, op, res, err, userID, ""); err != nil {
			return err
		}
		return s.replaceRecoveryCodes(ctx, op, userID, nil)
	})
}

// UseSecondFactorStep records that a code of the time step was accepted,
// atomically and only when the step is later than the last accepted one:
// false means the code (or an older one) was used already.
func (s *store) UseSecondFactorStep(ctx context.Context, userID string, step int64) (bool, error) {
	res, err := s.exec(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ? AND totp_confirmed_at IS NOT NULL`,
		step, userID, step)
	return s.affected("sqlstore.UseSecondFactorStep", res, err)
}

// UseRecoveryCode marks the unused recovery code with the hash used;
// false when there is none.
func (s *store) UseRecoveryCode(ctx context.Context, userID, codeHash string) (bool, error) {
	res, err := s.exec(ctx, `UPDATE user_recovery_code SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`,
		s.now(), userID, codeHash)
	return s.affected("sqlstore.UseRecoveryCode", res, err)
}

// CountRecoveryCodes returns how many unused recovery codes the user has.
func (s *store) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	var n int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM user_recovery_code WHERE user_id = ? AND used_at IS NULL`, userID).Scan(&n); err != nil {
		return 0, s.wrap("sqlstore.CountRecoveryCodes", err)
	}
	return n, nil
}

// AddUserLoginFailure increments the user's consecutive failed credential
// checks atomically and returns the new count.
func (s *store) AddUserLoginFailure(ctx context.Context, userID string, now time.Time) (int, error) {
	const op = "sqlstore.AddUserLoginFailure"
	var n int
	err := s.queryRow(ctx, `UPDATE users SET failed_logins = failed_logins + 1, failed_at = ? WHERE id = ? RETURNING failed_logins`,
		esign.Timestamp(now), userID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, esign.E(op, esign.NotFound, "user not found")
	}
	if err != nil {
		return 0, s.wrap(op, err)
	}
	return n, nil
}

// UserLoginFailures returns the user's consecutive failed credential checks
// and when the last happened. Errors: NotFound.
func (s *store) UserLoginFailures(ctx context.Context, userID string) (int, time.Time, error) {
	const op = "sqlstore.UserLoginFailures"
	var n int
	var at time.Time
	err := s.queryRow(ctx, `SELECT failed_logins, failed_at FROM users WHERE id = ?`, userID).Scan(&n, tm(&at))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, esign.E(op, esign.NotFound, "user not found")
	}
	if err != nil {
		return 0, time.Time{}, s.wrap(op, err)
	}
	return n, at, nil
}

// ResetUserLoginFailures clears the count.
func (s *store) ResetUserLoginFailures(ctx context.Context, userID string) error {
	if _, err := s.exec(ctx, `UPDATE users SET failed_logins = 0, failed_at = NULL WHERE id = ?`, userID); err != nil {
		return s.wrap("sqlstore.ResetUserLoginFailures", err)
	}
	return nil
}

// OfferCounts are the numbers the operators' dashboard shows.
type OfferCounts struct {
	ByState     map[esign.OfferState]int
	SignedSince int // offers whose state became signed at or after the time asked
}

// CountOffers counts the offers in each state, and those signed since the
// time (the dashboard's "signed today").
func (s *store) CountOffers(ctx context.Context, signedSince time.Time) (OfferCounts, error) {
	const op = "sqlstore.CountOffers"
	c := OfferCounts{ByState: map[esign.OfferState]int{}}
	rows, err := s.query(ctx, `SELECT state, COUNT(*) FROM offer GROUP BY state`)
	if err != nil {
		return c, s.wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var st esign.OfferState
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return c, s.wrap(op, err)
		}
		c.ByState[st] = n
	}
	if err := rows.Err(); err != nil {
		return c, s.wrap(op, err)
	}
	err = s.queryRow(ctx, `SELECT COUNT(*) FROM offer WHERE state = ? AND state_changed_at >= ?`, esign.OfferSigned, signedSince).Scan(&c.SignedSince)
	if err != nil {
		return c, s.wrap(op, err)
	}
	return c, nil
}

// oneRow turns an update's result into NotFound (no such id) or Conflict
// (the row exists but the condition did not hold, with msg).
func (s *store) oneRow(ctx context.Context, op string, res sql.Result, err error, userID, msg string) error {
	ok, err := s.affected(op, res, err)
	if err != nil || ok {
		return err
	}
	var one int
	if err := s.queryRow(ctx, `SELECT 1 FROM users WHERE id = ?`, userID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return esign.E(op, esign.NotFound, "user not found")
	}
	return esign.E(op, esign.Conflict, msg)
}

func (s *store) affected(op string, res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.wrap(op, err)
	}
	return n > 0, nil
}
