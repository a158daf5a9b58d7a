// Package users manages the operator accounts of the admin UI: the
// password rules, creating an account with its role, and changing a
// password, which ends the account's sessions.
package users

import (
	"context"
	"fmt"
	"unicode/utf8"

	"esign/internal/esign"
	"esign/internal/password"
	"esign/internal/sqlstore"
)

// MinPasswordLen is the fewest characters an operator's password has.
const MinPasswordLen = 12

// CheckPassword validates a new operator password: valid UTF-8, at least
// MinPasswordLen characters, at most password.MaxPasswordLen bytes.
// Errors: Invalid.
func CheckPassword(pw string) error {
	const op = "users.CheckPassword"
	switch {
	case !utf8.ValidString(pw):
		return esign.E(op, esign.Invalid, "the password is not valid text")
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return esign.Errorf(op, esign.Invalid, "the password must have at least %d characters", MinPasswordLen)
	case len(pw) > password.MaxPasswordLen:
		return esign.Errorf(op, esign.Invalid, "the password must have at most %d bytes", password.MaxPasswordLen)
	}
	return nil
}

// Create stores u with the Argon2id hash of pw and grants it role, in one
// transaction. Errors: Invalid (the password rules, an unknown role),
// Conflict (the username is taken).
func Create(ctx context.Context, db *sqlstore.DB, u *esign.User, pw, role string) error {
	const op = "users.Create"
	if err := CheckPassword(pw); err != nil {
		return err
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	u.PasswordHash = hash
	return db.InTx(ctx, func(tx *sqlstore.Tx) error {
		if _, err := tx.GetRole(ctx, role); err != nil {
			if esign.IsKind(err, esign.NotFound) {
				return esign.Errorf(op, esign.Invalid, "unknown role %q: want admin, operator or auditor", role)
			}
			return err
		}
		if err := tx.CreateUser(ctx, u); err != nil {
			if esign.IsKind(err, esign.Conflict) {
				return esign.Errorf(op, esign.Conflict, "an operator named %q exists already", u.Username)
			}
			return err
		}
		return tx.AssignRole(ctx, u.ID, role)
	})
}

// SetPassword gives the operator a new password, ends every session of the
// account and records the change in the audit log, in one transaction. It
// returns how many sessions ended. Errors: Invalid (the password rules),
// NotFound (no such operator).
func SetPassword(ctx context.Context, db *sqlstore.DB, username, pw string) (sessions int64, err error) {
	const op = "users.SetPassword"
	if err := CheckPassword(pw); err != nil {
		return 0, err
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return 0, fmt.Errorf("hash password: %w", err)
	}
	err = db.InTx(ctx, func(tx *sqlstore.Tx) error {
		u, err := tx.GetUserByUsername(ctx, username)
		if esign.IsKind(err, esign.NotFound) {
			return esign.Errorf(op, esign.NotFound, "there is no operator named %q", username)
		}
		if err != nil {
			return err
		}
		if _, err := tx.UpdateUser(ctx, u.ID, esign.UserUpdate{PasswordHash: &hash}); err != nil {
			return err
		}
		if sessions, err = tx.DeleteSubjectSessions(ctx, esign.SessionUser, u.ID); err != nil {
			return err
		}
		return tx.CreateAuditLog(ctx, &esign.AuditLog{ActorType: "system", Action: "user.password", ObjectType: "user", ObjectID: u.ID,
			Detail: fmt.Sprintf(`{"sessions_ended":%d}`, sessions)})
	})
	if err != nil {
		return 0, err
	}
	return sessions, nil
}

// ResetSecondFactor removes the operator's authenticator app and recovery
// codes, clears the failed sign-ins (the lock) and ends the account's
// sessions, with an audit entry, in one transaction: for an operator who
// lost the app and the recovery codes. The next sign-in sets up the app
// again. Errors: NotFound (no such operator).
func ResetSecondFactor(ctx context.Context, db *sqlstore.DB, username string) error {
	const op = "users.ResetSecondFactor"
	return db.InTx(ctx, func(tx *sqlstore.Tx) error {
		u, err := tx.GetUserByUsername(ctx, username)
		if esign.IsKind(err, esign.NotFound) {
			return esign.Errorf(op, esign.NotFound, "there is no operator named %q", username)
		}
		if err != nil {
			return err
		}
		if err := tx.ResetSecondFactor(ctx, u.ID); err != nil {
			return err
		}
		if err := tx.ResetUserLoginFailures(ctx, u.ID); err != nil {
			return err
		}
		if _, err := tx.DeleteSubjectSessions(ctx, esign.SessionUser, u.ID); err != nil {
			return err
		}
		return tx.CreateAuditLog(ctx, &esign.AuditLog{ActorType: "system", Action: "user.second_factor_reset", ObjectType: "user",
			ObjectID: u.ID, Detail: `{"by":"esign user reset-2fa"}`})
	})
}
