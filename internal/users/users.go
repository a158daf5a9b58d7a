// Package users manages the operator accounts of the admin UI: the
// password rules, creating an account with its role, changing a password,
// roles or the account's status, and resetting the second factor. It is
// the one implementation behind `esign user` and the admin UI's user page.
package users

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
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
// database sessions, with an audit entry, in one transaction: for an
// operator who lost the app and the recovery codes. The next sign-in sets
// up the app again. by names who did it for the audit entry. Errors:
// NotFound (no such operator).
func ResetSecondFactor(ctx context.Context, db *sqlstore.DB, username string, by Actor) error {
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
		return tx.CreateAuditLog(ctx, by.entry("user.second_factor_reset", u.ID, `{"by":"`+by.via()+`"}`))
	})
}

// Actor is who changes an account, for the audit entry written in the
// change's transaction: an operator of the admin UI (UserID set) or the
// command line (zero).
type Actor struct {
	UserID    string
	IP        string
	RequestID string
}

func (a Actor) via() string {
	if a.UserID == "" {
		return "esign user reset-2fa"
	}
	return "admin ui"
}

func (a Actor) entry(action, userID, detail string) *esign.AuditLog {
	e := &esign.AuditLog{ActorType: "system", Action: action, ObjectType: "user", ObjectID: userID, Detail: detail}
	if a.UserID != "" {
		e.ActorType, e.ActorID, e.IP, e.RequestID = "user", a.UserID, a.IP, a.RequestID
	}
	return e
}

// Roles are the roles an operator can have, in the order pages show them.
var Roles = []string{esign.RoleAdmin, esign.RoleOperator, esign.RoleAuditor}

// NewPassword returns a random password of 26 base32 characters (130
// bits), for a new account or the initial admin.
func NewPassword() string { return rand.Text() }

// SetRoles replaces the operator's roles with roles (at least one, each of
// Roles), with an audit entry, in one transaction. The operator's next
// request already has the new permissions (they are read on every request).
// An operator cannot change its own roles, and the last active admin
// keeps the admin role. Errors: Invalid (no role, unknown role, own
// account: self, last admin: last_admin), NotFound.
func SetRoles(ctx context.Context, db *sqlstore.DB, userID string, roles []string, by Actor) error {
	const op = "users.SetRoles"
	roles = slices.Compact(slices.Sorted(slices.Values(roles)))
	if len(roles) == 0 {
		return esign.WithCode(op, esign.Invalid, "roles", "an operator needs at least one role")
	}
	for _, r := range roles {
		if !slices.Contains(Roles, r) {
			return esign.WithCode(op, esign.Invalid, "roles", fmt.Sprintf("unknown role %q: want admin, operator or auditor", r))
		}
	}
	if userID == by.UserID {
		return esign.WithCode(op, esign.Invalid, "self", "you cannot change your own roles")
	}
	return db.InTx(ctx, func(tx *sqlstore.Tx) error {
		u, err := getUser(ctx, tx, op, userID)
		if err != nil {
			return err
		}
		have, err := roleNames(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if slices.Contains(have, esign.RoleAdmin) && !slices.Contains(roles, esign.RoleAdmin) {
			if err := keepAnAdmin(ctx, tx, op, u.ID); err != nil {
				return err
			}
		}
		for _, r := range have {
			if !slices.Contains(roles, r) {
				if err := tx.UnassignRole(ctx, u.ID, r); err != nil {
					return err
				}
			}
		}
		for _, r := range roles {
			if !slices.Contains(have, r) {
				if err := tx.AssignRole(ctx, u.ID, r); err != nil {
					return err
				}
			}
		}
		detail, _ := json.Marshal(map[string][]string{"from": have, "to": roles})
		return tx.CreateAuditLog(ctx, by.entry("user.roles", u.ID, string(detail)))
	})
}

// SetStatus enables or disables the operator's account, with an audit
// entry, in one transaction; disabling ends the account's database
// sessions (the caller ends those kept elsewhere, e.g. Redis). An operator
// cannot disable itself, nor the last active admin. Errors: Invalid
// (status, self, last_admin), NotFound.
func SetStatus(ctx context.Context, db *sqlstore.DB, userID string, status esign.UserStatus, by Actor) error {
	const op = "users.SetStatus"
	if status != esign.UserActive && status != esign.UserDisabled {
		return esign.WithCode(op, esign.Invalid, "status", "unknown account status")
	}
	if userID == by.UserID && status == esign.UserDisabled {
		return esign.WithCode(op, esign.Invalid, "self", "you cannot disable your own account")
	}
	return db.InTx(ctx, func(tx *sqlstore.Tx) error {
		u, err := getUser(ctx, tx, op, userID)
		if err != nil {
			return err
		}
		if u.Status == status {
			return nil
		}
		if status == esign.UserDisabled {
			have, err := roleNames(ctx, tx, u.ID)
			if err != nil {
				return err
			}
			if slices.Contains(have, esign.RoleAdmin) {
				if err := keepAnAdmin(ctx, tx, op, u.ID); err != nil {
					return err
				}
			}
		}
		if _, err := tx.UpdateUser(ctx, u.ID, esign.UserUpdate{Status: &status}); err != nil {
			return err
		}
		ended := int64(0)
		if status == esign.UserDisabled {
			if ended, err = tx.DeleteSubjectSessions(ctx, esign.SessionUser, u.ID); err != nil {
				return err
			}
		}
		action := "user.enable"
		if status == esign.UserDisabled {
			action = "user.disable"
		}
		return tx.CreateAuditLog(ctx, by.entry(action, u.ID, fmt.Sprintf(`{"sessions_ended":%d}`, ended)))
	})
}

func getUser(ctx context.Context, tx *sqlstore.Tx, op, id string) (*esign.User, error) {
	if !esign.ValidID(id) {
		return nil, esign.E(op, esign.NotFound, "there is no such operator")
	}
	u, err := tx.GetUser(ctx, id)
	if esign.IsKind(err, esign.NotFound) {
		return nil, esign.E(op, esign.NotFound, "there is no such operator")
	}
	return u, err
}

func roleNames(ctx context.Context, tx *sqlstore.Tx, userID string) ([]string, error) {
	rs, err := tx.ListUserRoles(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	slices.Sort(out)
	return out, nil
}

// keepAnAdmin refuses a change that would leave no active admin but the
// operator userID.
func keepAnAdmin(ctx context.Context, tx *sqlstore.Tx, op, userID string) error {
	admins, err := tx.ListUsers(ctx, esign.UserFilter{RoleName: esign.RoleAdmin, Status: esign.UserActive, Page: esign.Page{Limit: 2}})
	if err != nil {
		return err
	}
	for _, a := range admins {
		if a.ID != userID {
			return nil
		}
	}
	return esign.WithCode(op, esign.Invalid, "last_admin", "this is the last active admin: make another operator admin first")
}
