package sqlstore

import (
	"context"
	"time"

	"esign/internal/esign"
)

var users = newTable("users", "user",
	[]string{"id", "username", "email", "name", "password_hash", "status", "last_login_at", "created_at", "updated_at"},
	func(u *esign.User) []any {
		return []any{&u.ID, &u.Username, nstr(&u.Email), &u.Name, &u.PasswordHash, &u.Status, tm(&u.LastLoginAt),
			tm(&u.CreatedAt), tm(&u.UpdatedAt)}
	})

// CreateUser stores a new operator; an empty Status becomes active.
// Errors: Invalid (validation), Conflict (username or e-mail taken).
func (s *store) CreateUser(ctx context.Context, u *esign.User) error {
	const op = "sqlstore.CreateUser"
	if u.Status == "" {
		u.Status = esign.UserActive
	}
	return createRow(ctx, s, op, users, u, &u.ID, &u.CreatedAt, &u.UpdatedAt)
}

// GetUser returns the user with the id. Errors: NotFound.
func (s *store) GetUser(ctx context.Context, id string) (*esign.User, error) {
	return getByID(ctx, s, "sqlstore.GetUser", users, id)
}

// GetUserByUsername returns the user with the username. Errors: NotFound.
func (s *store) GetUserByUsername(ctx context.Context, username string) (*esign.User, error) {
	return getRow(ctx, s, "sqlstore.GetUserByUsername", users, "username = ?", username)
}

// ListUsers lists users by username.
func (s *store) ListUsers(ctx context.Context, f esign.UserFilter) ([]*esign.User, error) {
	var w where
	eq(&w, "username", f.Username)
	eq(&w, "status", f.Status)
	if f.RoleName != "" {
		w.add("id IN (SELECT ur.user_id FROM user_role ur JOIN role r ON r.id = ur.role_id WHERE r.name = ?)", f.RoleName)
	}
	return listRows(ctx, s, "sqlstore.ListUsers", users, &w, "username", f.Page)
}

// UpdateUser applies upd. Errors: NotFound, Invalid, Conflict (e-mail taken).
func (s *store) UpdateUser(ctx context.Context, id string, upd esign.UserUpdate) (*esign.User, error) {
	var u setter
	setNullIf(&u, "email", upd.Email)
	setIf(&u, "name", upd.Name)
	setIf(&u, "password_hash", upd.PasswordHash)
	setIf(&u, "status", upd.Status)
	setIf(&u, "last_login_at", upd.LastLoginAt)
	return updateRow(ctx, s, "sqlstore.UpdateUser", users, id, &u)
}

// DeleteUser deletes a user and its role assignments; rows it created keep
// a NULL creator. Errors: NotFound.
func (s *store) DeleteUser(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteUser", users, id)
}

var roles = newTable("role", "role",
	[]string{"id", "name", "description", "created_at"},
	func(r *esign.Role) []any { return []any{&r.ID, &r.Name, &r.Description, tm(&r.CreatedAt)} })

// CreateRole stores a new role. Errors: Invalid, Conflict (name taken).
func (s *store) CreateRole(ctx context.Context, r *esign.Role) error {
	const op = "sqlstore.CreateRole"
	return createRow(ctx, s, op, roles, r, &r.ID, &r.CreatedAt, nil)
}

// GetRole returns the role with the name. Errors: NotFound.
func (s *store) GetRole(ctx context.Context, name string) (*esign.Role, error) {
	return getRow(ctx, s, "sqlstore.GetRole", roles, "name = ?", name)
}

// ListRoles lists every role by name.
func (s *store) ListRoles(ctx context.Context) ([]*esign.Role, error) {
	return listRows(ctx, s, "sqlstore.ListRoles", roles, &where{}, "name", esign.Page{Limit: maxLimit})
}

// ListUserRoles lists the roles of a user by name.
func (s *store) ListUserRoles(ctx context.Context, userID string) ([]*esign.Role, error) {
	return scanRows(ctx, s, "sqlstore.ListUserRoles", roles, "SELECT "+roles.qualified("r")+
		" FROM role r JOIN user_role ur ON ur.role_id = r.id WHERE ur.user_id = ? ORDER BY r.name", userID)
}

// DeleteRole deletes a role and its permission grants. Errors: NotFound,
// Invalid (still assigned to a user).
func (s *store) DeleteRole(ctx context.Context, name string) error {
	const op = "sqlstore.DeleteRole"
	n, err := s.deleteRows(ctx, op, "role", "name = ?", name)
	if err != nil {
		return err
	}
	if n == 0 {
		return roles.notFound(op)
	}
	return nil
}

var permissions = newTable("permission", "permission",
	[]string{"id", "name", "description", "created_at"},
	func(p *esign.Permission) []any { return []any{&p.ID, &p.Name, &p.Description, tm(&p.CreatedAt)} })

// CreatePermission stores a new permission. Errors: Invalid, Conflict.
func (s *store) CreatePermission(ctx context.Context, p *esign.Permission) error {
	const op = "sqlstore.CreatePermission"
	return createRow(ctx, s, op, permissions, p, &p.ID, &p.CreatedAt, nil)
}

// ListPermissions lists every permission by name; with a role name only
// that role's.
func (s *store) ListPermissions(ctx context.Context, roleName string) ([]*esign.Permission, error) {
	const op = "sqlstore.ListPermissions"
	if roleName == "" {
		return listRows(ctx, s, op, permissions, &where{}, "name", esign.Page{Limit: maxLimit})
	}
	return scanRows(ctx, s, op, permissions, "SELECT "+permissions.qualified("p")+
		" FROM permission p JOIN role_permission rp ON rp.permission_id = p.id JOIN role r ON r.id = rp.role_id"+
		" WHERE r.name = ? ORDER BY p.name", roleName)
}

// GrantPermission gives a role a permission, both by name. Errors: NotFound
// (role or permission), Conflict (granted already).
func (s *store) GrantPermission(ctx context.Context, roleName, permName string) error {
	const op = "sqlstore.GrantPermission"
	return s.linkByName(ctx, op, `INSERT INTO role_permission (role_id, permission_id)
		SELECT r.id, p.id FROM role r, permission p WHERE r.name = ? AND p.name = ?`, roleName, permName)
}

// RevokePermission takes a permission from a role. Errors: NotFound (not granted).
func (s *store) RevokePermission(ctx context.Context, roleName, permName string) error {
	const op = "sqlstore.RevokePermission"
	return s.linkByName(ctx, op, `DELETE FROM role_permission
		WHERE role_id = (SELECT id FROM role WHERE name = ?) AND permission_id = (SELECT id FROM permission WHERE name = ?)`,
		roleName, permName)
}

// AssignRole gives a user a role (by name). Errors: NotFound (user or
// role), Conflict (assigned already).
func (s *store) AssignRole(ctx context.Context, userID, roleName string) error {
	const op = "sqlstore.AssignRole"
	if !esign.ValidID(userID) {
		return users.notFound(op)
	}
	return s.linkByName(ctx, op, `INSERT INTO user_role (user_id, role_id)
		SELECT u.id, r.id FROM users u, role r WHERE u.id = ? AND r.name = ?`, userID, roleName)
}

// UnassignRole takes a role from a user. Errors: NotFound (not assigned).
func (s *store) UnassignRole(ctx context.Context, userID, roleName string) error {
	const op = "sqlstore.UnassignRole"
	if !esign.ValidID(userID) {
		return users.notFound(op)
	}
	return s.linkByName(ctx, op, `DELETE FROM user_role
		WHERE user_id = ? AND role_id = (SELECT id FROM role WHERE name = ?)`, userID, roleName)
}

// linkByName runs an insert or delete of a link row; no row is NotFound.
func (s *store) linkByName(ctx context.Context, op, query string, args ...any) error {
	res, err := s.exec(ctx, query, args...)
	if err != nil {
		return s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrap(op, err)
	}
	if n == 0 {
		return esign.E(op, esign.NotFound, "no such user, role or permission")
	}
	return nil
}

// UserPermissions returns the names of every permission a user has through
// its roles, sorted.
func (s *store) UserPermissions(ctx context.Context, userID string) ([]string, error) {
	const op = "sqlstore.UserPermissions"
	rows, err := s.query(ctx, `SELECT DISTINCT p.name FROM permission p
		JOIN role_permission rp ON rp.permission_id = p.id
		JOIN user_role ur ON ur.role_id = rp.role_id
		WHERE ur.user_id = ? ORDER BY p.name`, userID)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, s.wrap(op, err)
		}
		out = append(out, n)
	}
	return out, s.wrap(op, rows.Err())
}

var sessions = newTable("session", "session",
	[]string{"id", "token_hash", "subject_type", "subject_id", "data", "ip", "user_agent", "expires_at",
		"last_seen_at", "created_at"},
	func(x *esign.Session) []any {
		return []any{&x.ID, &x.TokenHash, &x.SubjectType, &x.SubjectID, &x.Data, &x.IP, &x.UserAgent,
			tm(&x.ExpiresAt), tm(&x.LastSeenAt), tm(&x.CreatedAt)}
	})

// CreateSession stores a new session. Errors: Invalid, Conflict (token
// hash used).
func (s *store) CreateSession(ctx context.Context, x *esign.Session) error {
	const op = "sqlstore.CreateSession"
	return createRow(ctx, s, op, sessions, x, &x.ID, &x.CreatedAt, nil)
}

// GetSessionByTokenHash returns the session with the token hash if it has
// not expired at now. Errors: NotFound (unknown or expired).
func (s *store) GetSessionByTokenHash(ctx context.Context, tokenHash string, now time.Time) (*esign.Session, error) {
	return getRow(ctx, s, "sqlstore.GetSessionByTokenHash", sessions, "token_hash = ? AND expires_at > ?", tokenHash, now)
}

// ListSessions lists sessions newest first.
func (s *store) ListSessions(ctx context.Context, f esign.SessionFilter) ([]*esign.Session, error) {
	var w where
	eq(&w, "token_hash", f.TokenHash)
	eq(&w, "subject_type", f.SubjectType)
	eq(&w, "subject_id", f.SubjectID)
	return listRows(ctx, s, "sqlstore.ListSessions", sessions, &w, "created_at DESC, id DESC", f.Page)
}

// UpdateSession applies upd. Errors: NotFound.
func (s *store) UpdateSession(ctx context.Context, id string, upd esign.SessionUpdate) (*esign.Session, error) {
	var u setter
	setIf(&u, "data", upd.Data)
	setIf(&u, "expires_at", upd.ExpiresAt)
	setIf(&u, "last_seen_at", upd.LastSeenAt)
	return updateRow(ctx, s, "sqlstore.UpdateSession", sessions, id, &u)
}

// DeleteSession deletes a session (logout). Errors: NotFound.
func (s *store) DeleteSession(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteSession", sessions, id)
}

// DeleteExpiredSessions deletes the sessions that expired before now and
// returns how many.
func (s *store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	return s.deleteRows(ctx, "sqlstore.DeleteExpiredSessions", "session", "expires_at <= ?", now)
}

// GetAuditLog returns the entry with the id. Errors: NotFound.
func (s *store) GetAuditLog(ctx context.Context, id string) (*esign.AuditLog, error) {
	return getByID(ctx, s, "sqlstore.GetAuditLog", auditLogs, id)
}

// ListAuditLogs lists entries newest first.
func (s *store) ListAuditLogs(ctx context.Context, f esign.AuditLogFilter) ([]*esign.AuditLog, error) {
	var w where
	eq(&w, "actor_type", f.ActorType)
	eq(&w, "actor_id", f.ActorID)
	eq(&w, "action", f.Action)
	eq(&w, "object_type", f.ObjectType)
	eq(&w, "object_id", f.ObjectID)
	atOrAfter(&w, "created_at", f.Since)
	before(&w, "created_at", f.Until)
	return listRows(ctx, s, "sqlstore.ListAuditLogs", auditLogs, &w, "created_at DESC, id DESC", f.Page)
}

var settings = newTable("setting", "setting",
	[]string{"id", "key", "value", "updated_by", "created_at", "updated_at"},
	func(x *esign.Setting) []any {
		return []any{&x.ID, &x.Key, &x.Value, nstr(&x.UpdatedBy), tm(&x.CreatedAt), tm(&x.UpdatedAt)}
	})

// PutSetting creates the setting or replaces its value and returns the
// stored row. Errors: Invalid (validation, unknown user).
func (s *store) PutSetting(ctx context.Context, key, value, updatedBy string) (*esign.Setting, error) {
	const op = "sqlstore.PutSetting"
	x := &esign.Setting{Key: key, Value: value, UpdatedBy: updatedBy}
	if err := x.Validate(); err != nil {
		return nil, esign.E(op, err)
	}
	if err := s.stamp(op, &x.ID, &x.CreatedAt, &x.UpdatedAt); err != nil {
		return nil, err
	}
	q := settings.values + " ON CONFLICT (key) DO UPDATE SET value = excluded.value," +
		" updated_by = excluded.updated_by, updated_at = excluded.updated_at" + settings.ret
	f := settings.fields(x)
	if err := s.queryRow(ctx, q, f...).Scan(f...); err != nil {
		return nil, s.wrap(op, err)
	}
	return x, nil
}

// GetSetting returns the setting with the key. Errors: NotFound.
func (s *store) GetSetting(ctx context.Context, key string) (*esign.Setting, error) {
	return getRow(ctx, s, "sqlstore.GetSetting", settings, "key = ?", key)
}

// ListSettings lists settings by key.
func (s *store) ListSettings(ctx context.Context, f esign.SettingFilter) ([]*esign.Setting, error) {
	var w where
	if f.KeyPrefix != "" {
		w.add("substr(key, 1, ?) = ?", len(f.KeyPrefix), f.KeyPrefix)
	}
	return listRows(ctx, s, "sqlstore.ListSettings", settings, &w, "key", f.Page)
}

// DeleteSetting deletes the setting with the key. Errors: NotFound.
func (s *store) DeleteSetting(ctx context.Context, key string) error {
	const op = "sqlstore.DeleteSetting"
	n, err := s.deleteRows(ctx, op, "setting", "key = ?", key)
	if err != nil {
		return err
	}
	if n == 0 {
		return settings.notFound(op)
	}
	return nil
}

var certs = newTable("cert", "certificate",
	[]string{"id", "name", "subject", "issuer", "serial_number", "fingerprint_sha256", "not_before", "not_after",
		"chain_pem", "pkcs12_enc", "password_enc", "key_source", "key_ref", "active", "created_by", "created_at", "updated_at"},
	func(c *esign.Cert) []any {
		return []any{&c.ID, &c.Name, &c.Subject, &c.Issuer, &c.SerialNumber, &c.FingerprintSHA256,
			tm(&c.NotBefore), tm(&c.NotAfter), &c.ChainPEM, &c.PKCS12Enc, &c.PasswordEnc, &c.KeySource, &c.KeyRef, &c.Active,
			nstr(&c.CreatedBy), tm(&c.CreatedAt), tm(&c.UpdatedAt)}
	})

// CreateCert stores an uploaded certificate, inactive. Errors: Invalid,
// Conflict (the same certificate is stored already).
func (s *store) CreateCert(ctx context.Context, c *esign.Cert) error {
	const op = "sqlstore.CreateCert"
	c.Active = false
	if c.KeySource == "" {
		c.KeySource = "p12"
	}
	// The secrets' columns are NOT NULL: a key outside the database
	// stores them empty.
	if c.PKCS12Enc == nil {
		c.PKCS12Enc = []byte{}
	}
	if c.PasswordEnc == nil {
		c.PasswordEnc = []byte{}
	}
	return createRow(ctx, s, op, certs, c, &c.ID, &c.CreatedAt, &c.UpdatedAt)
}

// GetCert returns the certificate with the id. Errors: NotFound.
func (s *store) GetCert(ctx context.Context, id string) (*esign.Cert, error) {
	return getByID(ctx, s, "sqlstore.GetCert", certs, id)
}

// GetActiveCert returns the active certificate. Errors: NotFound (none is
// active).
func (s *store) GetActiveCert(ctx context.Context) (*esign.Cert, error) {
	return getRow(ctx, s, "sqlstore.GetActiveCert", certs, "active = ?", true)
}

// ListCerts lists certificates newest first.
func (s *store) ListCerts(ctx context.Context, f esign.CertFilter) ([]*esign.Cert, error) {
	var w where
	if f.Active != nil {
		w.add("active = ?", *f.Active)
	}
	eq(&w, "fingerprint_sha256", f.FingerprintSHA256)
	return listRows(ctx, s, "sqlstore.ListCerts", certs, &w, "created_at DESC, id DESC", f.Page)
}

// UpdateCert applies upd. Errors: NotFound.
func (s *store) UpdateCert(ctx context.Context, id string, upd esign.CertUpdate) (*esign.Cert, error) {
	var u setter
	setIf(&u, "name", upd.Name)
	return updateRow(ctx, s, "sqlstore.UpdateCert", certs, id, &u)
}

// ActivateCert makes the certificate the only active one, in one
// transaction. Errors: NotFound.
func (s *store) ActivateCert(ctx context.Context, id string) (*esign.Cert, error) {
	const op = "sqlstore.ActivateCert"
	var out *esign.Cert
	err := s.withTx(ctx, func(s *store) error {
		if _, err := getByID(ctx, s, op, certs, id); err != nil {
			return err
		}
		if _, err := s.exec(ctx, "UPDATE cert SET active = ?, updated_at = ? WHERE active = ? AND id <> ?",
			false, s.now(), true, id); err != nil {
			return s.wrap(op, err)
		}
		var u setter
		u.set("active", true)
		var err error
		out, err = updateRow(ctx, s, op, certs, id, &u)
		return err
	})
	return out, err
}

// SwapCertSecrets stores pkcs12Enc and passwordEnc as the encrypted .p12
// and password of the certificate old.ID, only while the stored ones still
// equal old's (compare and swap), so that re-encrypting a value read earlier
// never overwrites a concurrent change. Errors: Conflict (the stored values
// changed, or the certificate is gone), Invalid.
func (s *store) SwapCertSecrets(ctx context.Context, old *esign.Cert, pkcs12Enc, passwordEnc []byte) (*esign.Cert, error) {
	const op = "sqlstore.SwapCertSecrets"
	var u setter
	u.set("pkcs12_enc", pkcs12Enc)
	u.set("password_enc", passwordEnc)
	u.extra = " AND pkcs12_enc = ? AND password_enc = ?"
	u.extraArgs = []any{old.PKCS12Enc, old.PasswordEnc}
	c, err := updateRow(ctx, s, op, certs, old.ID, &u)
	if esign.IsKind(err, esign.NotFound) {
		return nil, esign.E(op, esign.Conflict, "the certificate was changed by someone else")
	}
	return c, err
}

// DeleteCert deletes a certificate. Errors: NotFound.
func (s *store) DeleteCert(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteCert", certs, id)
}
