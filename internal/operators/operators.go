// Package operators is the domain service behind the operators' admin UI:
// sign-in with username, password and a TOTP second factor (enrolment,
// recovery codes, replay refusal), lockout and rate limits on every
// credential check, operator sessions with idle and absolute expiry, the
// operator's permissions, the audit trail, and the back-office reads and
// actions the pages show (dashboard, offers, customers, development inbox).
//
// It works on *sqlstore.DB; sessions live in a SessionStore (Redis in
// production, the database in the embedded deployment) and rate limits in
// a notify.Limiter (Redis or memory).
package operators

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/notify"
	"esign/internal/notify/inbox"
	"esign/internal/sqlstore"
	"esign/internal/totp"
)

// Config holds the service's policies. Zero fields take DefaultConfig's.
type Config struct {
	SessionIdle    time.Duration // a session unused this long ends
	SessionMax     time.Duration // a session ends this long after sign-in, used or not
	SecondFactorIn time.Duration // time between the password and the second factor

	LockoutThreshold int           // consecutive failed checks (password or code) that lock the account
	LockoutDuration  time.Duration // how long the lock lasts
	SignInPerIP      notify.Limit  // credential checks from one client address
	SignInPerUser    notify.Limit  // credential checks for one username

	Issuer string // the name authenticator apps show (default "esign")
	Now    func() time.Time
}

// DefaultConfig returns the documented policy (docs/admin-ui.md).
func DefaultConfig() Config {
	return Config{
		SessionIdle:      30 * time.Minute,
		SessionMax:       12 * time.Hour,
		SecondFactorIn:   10 * time.Minute,
		LockoutThreshold: 5,
		LockoutDuration:  15 * time.Minute,
		SignInPerIP:      notify.Limit{N: 30, Per: 10 * time.Minute},
		SignInPerUser:    notify.Limit{N: 10, Per: 10 * time.Minute},
		Issuer:           "esign",
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.SessionIdle <= 0 {
		c.SessionIdle = d.SessionIdle
	}
	if c.SessionMax <= 0 {
		c.SessionMax = d.SessionMax
	}
	if c.SecondFactorIn <= 0 {
		c.SecondFactorIn = d.SecondFactorIn
	}
	if c.LockoutThreshold <= 0 {
		c.LockoutThreshold = d.LockoutThreshold
	}
	if c.LockoutDuration <= 0 {
		c.LockoutDuration = d.LockoutDuration
	}
	if c.SignInPerIP.N == 0 {
		c.SignInPerIP = d.SignInPerIP
	}
	if c.SignInPerUser.N == 0 {
		c.SignInPerUser = d.SignInPerUser
	}
	if c.Issuer == "" {
		c.Issuer = d.Issuer
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Sealer encrypts the TOTP secrets at rest (*envelope.Keyring).
type Sealer interface {
	Encrypt(plaintext, associatedData []byte) ([]byte, error)
	Decrypt(ciphertext, associatedData []byte) ([]byte, error)
}

// CustomerActions are the customer service's operations an operator uses
// (*customers.Service): approve a registration, block and unblock, list a
// customer's sessions, send the device association code.
type CustomerActions interface {
	Approve(ctx context.Context, customerID, userID string) (*esign.Customer, error)
	Block(ctx context.Context, customerID, userID string) (*esign.Customer, error)
	Unblock(ctx context.Context, customerID, userID string) (*esign.Customer, error)
	CustomerSessions(ctx context.Context, customerID string) ([]customers.Session, error)
	SendAssociationCode(ctx context.Context, customerID string) error
}

// Documents opens stored document bytes (*docstore.Store).
type Documents interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// Deps are the service's collaborators. DB, Sessions, Limiter and Secrets
// are required; the others only for the pages that use them.
type Deps struct {
	DB        *sqlstore.DB
	Sessions  SessionStore
	Limiter   notify.Limiter
	Secrets   Sealer
	Customers CustomerActions
	Docs      Documents
	Offers    OfferActions // upload, revoke, resend, verify (*offers.Service)
	Inbox     inbox.Store  // nil: the deployment sends real messages, there is no inbox
	Jobs      Jobs         // nil: the jobs page and event retries are unavailable
	// PushSettings sends the system configuration to css at once after a
	// settings change (nil: css gets it with the next periodic push).
	PushSettings func(ctx context.Context) error
}

// Service implements the operators' operations. It is safe for concurrent
// use.
type Service struct {
	d    Deps
	cfg  Config
	totp totp.Params
}

// New returns the service. Errors: Invalid (a required dependency is
// missing).
func New(d Deps, cfg Config) (*Service, error) {
	if d.DB == nil || d.Sessions == nil || d.Limiter == nil || d.Secrets == nil {
		return nil, esign.E("operators.New", esign.Invalid, "database, session store, limiter and secrets are required")
	}
	return &Service{d: d, cfg: cfg.withDefaults()}, nil
}

func (s *Service) now() time.Time { return esign.Timestamp(s.cfg.Now()) }

// Config returns the effective policy.
func (s *Service) Config() Config { return s.cfg }

// Meta is what the transport knows about a request, recorded in the audit
// trail. It carries no secrets.
type Meta struct {
	IP        string
	UserAgent string
	RequestID string
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Entry is one audit record to write.
type Entry struct {
	Action     string // "customer.approve", "access.denied", …
	ObjectType string
	ObjectID   string
	Detail     string // JSON; no secrets
}

// Audit writes an entry of the audit trail for the operator (userID may be
// empty for an unknown actor, e.g. a failed sign-in of an unknown name).
func (s *Service) Audit(ctx context.Context, userID string, e Entry, m Meta) error {
	a := &esign.AuditLog{ActorType: "user", ActorID: userID, Action: e.Action, ObjectType: e.ObjectType,
		ObjectID: clip(e.ObjectID, 64), Detail: e.Detail, IP: clip(m.IP, 64), RequestID: clip(m.RequestID, 64)}
	if err := s.d.DB.CreateAuditLog(ctx, a); err != nil {
		return esign.E("operators.Audit", err)
	}
	return nil
}

// ListAudit lists audit entries, newest first.
func (s *Service) ListAudit(ctx context.Context, f esign.AuditLogFilter) ([]*esign.AuditLog, error) {
	return s.d.DB.ListAuditLogs(ctx, f)
}

// allow applies a rate limit; TooMany when it is exhausted.
func (s *Service) allow(ctx context.Context, op, key string, l notify.Limit) error {
	d, err := s.d.Limiter.Allow(ctx, key, l)
	if err != nil {
		return esign.E(op, esign.Unavailable, "rate limiter unavailable", err)
	}
	if !d.Allowed {
		return esign.WithCode(op, esign.TooMany, "rate_limited", "too many attempts, try again later")
	}
	return nil
}

// jsonDetail encodes key/value pairs as a JSON object for an audit detail.
func jsonDetail(kv ...string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}
