package operators

import (
	"cmp"
	"context"
	"database/sql"
	"time"

	"esign/internal/certs"
	"esign/internal/esign"
	"esign/internal/jobs"
	"esign/internal/users"
)

// The administration side of the admin UI: certificates, operator
// accounts, settings. Each change is one implementation shared with the
// command line (packages certs and users).

// Jobs is the job queue as the logs pages use it (*jobs.Queue).
type Jobs interface {
	Jobs(ctx context.Context, f jobs.JobFilter) ([]jobs.JobInfo, error)
	RetryJob(ctx context.Context, id int64) (jobs.JobInfo, error)
	CancelJob(ctx context.Context, id int64) (jobs.JobInfo, error)
	EnqueueEvent(ctx context.Context, tx *sql.Tx, eventID, url string) (int64, error)
}

var _ Jobs = (*jobs.Queue)(nil)

// Job is a background job as operators see it.
type Job = jobs.JobInfo

// MaxP12Bytes bounds an imported .p12 file.
const MaxP12Bytes = certs.MaxP12Bytes

// ImportedCert is an imported certificate and the import's warnings.
type ImportedCert = certs.Imported

// Certs lists the bank's certificates, newest first, with how soon each
// expires.
func (s *Service) Certs(ctx context.Context) ([]CertStatus, error) {
	cs, err := s.d.DB.ListCerts(ctx, esign.CertFilter{})
	if err != nil {
		return nil, esign.E("operators.Certs", err)
	}
	now := s.now()
	out := make([]CertStatus, 0, len(cs))
	for _, c := range cs {
		out = append(out, certStatus(c, now))
	}
	return out, nil
}

func certStatus(c *esign.Cert, now time.Time) CertStatus {
	left := c.NotAfter.Sub(now)
	return CertStatus{ID: c.ID, Name: c.Name, Subject: c.Subject, Issuer: c.Issuer, Fingerprint: c.FingerprintSHA256,
		KeySource: cmp.Or(c.KeySource, "p12"), KeyRef: c.KeyRef, Active: c.Active, NotBefore: c.NotBefore, NotAfter: c.NotAfter, DaysLeft: int(left.Hours() / 24),
		Warning: left < CertWarning, Expired: left <= 0}
}

// ImportCert imports the bank's .p12 as `esign cert import` does (the file
// and its password stored encrypted). Errors: Invalid (p12_format,
// p12_password, …), Conflict (cert_exists).
func (s *Service) ImportCert(ctx context.Context, p *Principal, p12 []byte, password, name string, activate bool) (*certs.Imported, error) {
	imp, err := certs.Import(ctx, s.d.DB, s.d.Secrets, certs.Input{P12: p12, Password: password, Name: name,
		CreatedBy: p.User.ID, Activate: activate})
	if err != nil {
		return nil, esign.E("operators.ImportCert", err)
	}
	return imp, nil
}

// ActivateCert makes the certificate the one pdfservice signs with.
// Errors: NotFound, Invalid (cert_expired).
func (s *Service) ActivateCert(ctx context.Context, id string) (*esign.Cert, error) {
	c, err := certs.Activate(ctx, s.d.DB, id, s.now)
	if err != nil {
		return nil, esign.E("operators.ActivateCert", err)
	}
	return c, nil
}

// UserRow is an operator account on the users page.
type UserRow struct {
	User     *esign.User
	Roles    []string
	Enrolled bool // the second factor is set up
}

// Users lists the operator accounts by username.
func (s *Service) Users(ctx context.Context) ([]UserRow, error) {
	const op = "operators.Users"
	us, err := s.d.DB.ListUsers(ctx, esign.UserFilter{Page: esign.Page{Limit: 1000}})
	if err != nil {
		return nil, esign.E(op, err)
	}
	out := make([]UserRow, 0, len(us))
	for _, u := range us {
		rs, err := s.d.DB.ListUserRoles(ctx, u.ID)
		if err != nil {
			return nil, esign.E(op, err)
		}
		row := UserRow{User: u}
		for _, r := range rs {
			row.Roles = append(row.Roles, r.Name)
		}
		sf, err := s.d.DB.UserSecondFactor(ctx, u.ID)
		if err != nil {
			return nil, esign.E(op, err)
		}
		row.Enrolled = sf.Enrolled()
		out = append(out, row)
	}
	return out, nil
}

func actor(p *Principal, m Meta) users.Actor {
	return users.Actor{UserID: p.User.ID, IP: clip(m.IP, 64), RequestID: clip(m.RequestID, 64)}
}

// CreateUser creates an operator account with a random password, which
// is returned to be shown once. Errors: Invalid (username, role),
// Conflict (the username is taken).
func (s *Service) CreateUser(ctx context.Context, username, name, email, role string) (*esign.User, string, error) {
	const op = "operators.CreateUser"
	u := &esign.User{Username: username, Name: name, Email: email, Status: esign.UserActive}
	if username == "" {
		return nil, "", esign.WithCode(op, esign.Invalid, "username", "the username is required")
	}
	pw := users.NewPassword()
	if err := users.Create(ctx, s.d.DB, u, pw, role); err != nil {
		return nil, "", esign.E(op, err)
	}
	return u, pw, nil
}

// SetUserRoles replaces an operator's roles. Errors: as users.SetRoles.
func (s *Service) SetUserRoles(ctx context.Context, p *Principal, userID string, roles []string, m Meta) error {
	if err := users.SetRoles(ctx, s.d.DB, userID, roles, actor(p, m)); err != nil {
		return esign.E("operators.SetUserRoles", err)
	}
	return nil
}

// SetUserStatus enables or disables an operator's account; disabling ends
// its sessions wherever they are kept. Errors: as users.SetStatus.
func (s *Service) SetUserStatus(ctx context.Context, p *Principal, userID string, status esign.UserStatus, m Meta) error {
	const op = "operators.SetUserStatus"
	if err := users.SetStatus(ctx, s.d.DB, userID, status, actor(p, m)); err != nil {
		return esign.E(op, err)
	}
	if status == esign.UserDisabled {
		if err := s.d.Sessions.RevokeUserSessions(ctx, userID); err != nil {
			return esign.E(op, err)
		}
	}
	return nil
}

// ResetUserSecondFactor removes an operator's authenticator app and
// recovery codes, unlocks the account and ends its sessions, as `esign
// user reset-2fa` does. Errors: NotFound.
func (s *Service) ResetUserSecondFactor(ctx context.Context, p *Principal, userID string, m Meta) error {
	const op = "operators.ResetUserSecondFactor"
	if !esign.ValidID(userID) {
		return esign.E(op, esign.NotFound, "there is no such operator")
	}
	u, err := s.d.DB.GetUser(ctx, userID)
	if err != nil {
		return esign.E(op, err)
	}
	if err := users.ResetSecondFactor(ctx, s.d.DB, u.Username, actor(p, m)); err != nil {
		return esign.E(op, err)
	}
	if err := s.d.Sessions.RevokeUserSessions(ctx, userID); err != nil {
		return esign.E(op, err)
	}
	return nil
}
