package customers

import (
	"context"
	"encoding/json"
	"time"

	"github.com/redis/go-redis/v9"

	"esign/internal/esign"
	"esign/internal/redisstore"
	"esign/internal/sqlstore"
)

// Session is a customer's login session on one app installation. Only the
// hash of its bearer token is stored.
type Session struct {
	TokenHash  string
	AppID      string
	CustomerID string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute expiry
	// PasswordProof is the keyed hash of the password the login proved
	// (passwordProof): M2's password check compares against it instead
	// of running Argon2id again. Empty for sessions without one.
	PasswordProof string
	// UserAgent is the browser's (or app's) User-Agent at sign-in, at
	// most 512 bytes: shown in the customer's list of web sessions.
	UserAgent string
}

// SessionStore keeps sessions where every replica sees them. Get returns
// NotFound for an unknown, revoked or (absolutely) expired session; idle
// expiry is the service's decision, made from LastSeenAt.
type SessionStore interface {
	CreateSession(ctx context.Context, s Session) error
	GetSession(ctx context.Context, tokenHash string, now time.Time) (Session, error)
	TouchSession(ctx context.Context, tokenHash string, at time.Time) error
	RevokeSession(ctx context.Context, tokenHash string) error
	RevokeAppSessions(ctx context.Context, appID string) error
	// ListAppSessions returns the app's sessions not expired (absolutely)
	// at now.
	ListAppSessions(ctx context.Context, appID string, now time.Time) ([]Session, error)
}

var (
	_ SessionStore = (*DBSessions)(nil)
	_ SessionStore = (*RedisSessions)(nil)
)

// DBSessions stores sessions in the session table (subject "app", the
// customer in Data): the embedded deployment.
type DBSessions struct{ DB *sqlstore.DB }

type sessionData struct {
	CustomerID    string `json:"customer_id"`
	PasswordProof string `json:"password_proof,omitempty"`
	UserAgent     string `json:"user_agent,omitempty"`
}

// CreateSession stores s. Errors: Invalid, Conflict.
func (d *DBSessions) CreateSession(ctx context.Context, s Session) error {
	data, _ := json.Marshal(sessionData{CustomerID: s.CustomerID, PasswordProof: s.PasswordProof, UserAgent: s.UserAgent})
	return d.DB.CreateSession(ctx, &esign.Session{TokenHash: s.TokenHash, SubjectType: esign.SessionApp,
		SubjectID: s.AppID, Data: string(data), ExpiresAt: s.ExpiresAt, LastSeenAt: s.LastSeenAt})
}

// GetSession returns the session. Errors: NotFound.
func (d *DBSessions) GetSession(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	x, err := d.DB.GetSessionByTokenHash(ctx, tokenHash, now)
	if err != nil {
		return Session{}, err
	}
	return dbSession(x)
}

func dbSession(x *esign.Session) (Session, error) {
	var sd sessionData
	if err := json.Unmarshal([]byte(x.Data), &sd); err != nil {
		return Session{}, esign.E("customers.DBSessions", err)
	}
	return Session{TokenHash: x.TokenHash, AppID: x.SubjectID, CustomerID: sd.CustomerID, CreatedAt: x.CreatedAt,
		LastSeenAt: x.LastSeenAt, ExpiresAt: x.ExpiresAt, PasswordProof: sd.PasswordProof, UserAgent: sd.UserAgent}, nil
}

// ListAppSessions returns the app's sessions not expired at now.
func (d *DBSessions) ListAppSessions(ctx context.Context, appID string, now time.Time) ([]Session, error) {
	xs, err := d.DB.ListSessions(ctx, esign.SessionFilter{SubjectType: esign.SessionApp, SubjectID: appID, Page: esign.Page{Limit: 100}})
	if err != nil {
		return nil, err
	}
	var out []Session
	for _, x := range xs {
		if !now.Before(x.ExpiresAt) {
			continue
		}
		s, err := dbSession(x)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// TouchSession records use. Errors: NotFound.
func (d *DBSessions) TouchSession(ctx context.Context, tokenHash string, at time.Time) error {
	return d.DB.TouchSession(ctx, tokenHash, at)
}

// RevokeSession deletes the session; revoking an unknown one is no error.
func (d *DBSessions) RevokeSession(ctx context.Context, tokenHash string) error {
	_, err := d.DB.DeleteSessionByTokenHash(ctx, tokenHash)
	return err
}

// RevokeAppSessions deletes every session of the app.
func (d *DBSessions) RevokeAppSessions(ctx context.Context, appID string) error {
	_, err := d.DB.DeleteSubjectSessions(ctx, esign.SessionApp, appID)
	return err
}

// RedisSessions stores sessions in Redis, shared by every oss replica: a
// hash per session that expires at the absolute expiry, and a set of the
// app's session hashes for revocation (redisstore.Sessions).
type RedisSessions struct {
	RDB    redis.UniversalClient
	Prefix string // e.g. "esign:sess:"
}

func (r *RedisSessions) store() *redisstore.Sessions {
	return &redisstore.Sessions{RDB: r.RDB, Prefix: r.Prefix, Owner: "app"}
}

// CreateSession stores s. Its keys expire after the session's lifetime
// (ExpiresAt − CreatedAt, both from the service's clock) counted by Redis
// from now: a relative TTL, so neither a replica whose clock drifts from
// Redis's nor an injected clock can make a fresh session vanish at once.
// Errors: Invalid (no lifetime left), Unavailable.
func (r *RedisSessions) CreateSession(ctx context.Context, s Session) error {
	return r.store().Create(ctx, "customers.RedisSessions.CreateSession", s.TokenHash, s.AppID, s.ExpiresAt.Sub(s.CreatedAt),
		"customer", s.CustomerID, "created", s.CreatedAt.UnixMicro(), "seen", s.LastSeenAt.UnixMicro(),
		"expires", s.ExpiresAt.UnixMicro(), "pwproof", s.PasswordProof, "ua", s.UserAgent)
}

// GetSession returns the session. Errors: NotFound, Unavailable.
func (r *RedisSessions) GetSession(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	const op = "customers.RedisSessions.GetSession"
	m, err := r.store().Get(ctx, op, tokenHash)
	if err != nil {
		return Session{}, err
	}
	s := redisSession(tokenHash, m)
	if !now.Before(s.ExpiresAt) {
		return Session{}, esign.E(op, esign.NotFound, "session not found")
	}
	return s, nil
}

func redisSession(tokenHash string, m map[string]string) Session {
	return Session{TokenHash: tokenHash, AppID: m["app"], CustomerID: m["customer"], CreatedAt: redisstore.Micros(m, "created"),
		LastSeenAt: redisstore.Micros(m, "seen"), ExpiresAt: redisstore.Micros(m, "expires"), PasswordProof: m["pwproof"],
		UserAgent: m["ua"]}
}

// ListAppSessions returns the app's sessions not expired at now. Errors:
// Unavailable.
func (r *RedisSessions) ListAppSessions(ctx context.Context, appID string, now time.Time) ([]Session, error) {
	ms, err := r.store().Owned(ctx, "customers.RedisSessions.ListAppSessions", appID)
	if err != nil {
		return nil, err
	}
	var out []Session
	for h, m := range ms {
		if s := redisSession(h, m); now.Before(s.ExpiresAt) {
			out = append(out, s)
		}
	}
	return out, nil
}

// TouchSession records use. Errors: NotFound, Unavailable.
func (r *RedisSessions) TouchSession(ctx context.Context, tokenHash string, at time.Time) error {
	return r.store().Set(ctx, "customers.RedisSessions.TouchSession", tokenHash, "seen", at.UnixMicro())
}

// RevokeSession deletes the session. Errors: Unavailable.
func (r *RedisSessions) RevokeSession(ctx context.Context, tokenHash string) error {
	return r.store().Revoke(ctx, "customers.RedisSessions.RevokeSession", tokenHash)
}

// RevokeAppSessions deletes every session of the app. Errors: Unavailable.
func (r *RedisSessions) RevokeAppSessions(ctx context.Context, appID string) error {
	return r.store().RevokeOwner(ctx, "customers.RedisSessions.RevokeAppSessions", appID)
}
