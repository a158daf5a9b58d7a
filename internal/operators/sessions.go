package operators

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/redis/go-redis/v9"

	"esign/internal/esign"
	"esign/internal/redisstore"
	"esign/internal/sqlstore"
)

// Stage says how far a session's sign-in got.
type Stage string

// The session stages. A second-factor session proves the password only:
// it can do nothing but finish the sign-in, and is replaced by a new
// session (a new token) when the second factor is proven.
const (
	StageSecondFactor Stage = "second_factor"
	StageFull         Stage = "full"
)

// Session is an operator's sign-in session. Only the hash of its token is
// stored; the browser holds the token in an HttpOnly cookie.
type Session struct {
	TokenHash  string
	UserID     string
	Stage      Stage
	IP         string
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute expiry
}

// SessionStore keeps sessions where every replica sees them. GetSession
// returns NotFound for an unknown, revoked or (absolutely) expired session;
// idle expiry is the service's decision, made from LastSeenAt.
type SessionStore interface {
	CreateSession(ctx context.Context, s Session) error
	GetSession(ctx context.Context, tokenHash string, now time.Time) (Session, error)
	TouchSession(ctx context.Context, tokenHash string, at time.Time) error
	RevokeSession(ctx context.Context, tokenHash string) error
	RevokeUserSessions(ctx context.Context, userID string) error
}

var (
	_ SessionStore = (*DBSessions)(nil)
	_ SessionStore = (*RedisSessions)(nil)
)

// TokenPrefix starts every operator session token.
const TokenPrefix = "eso_"

func newToken() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

// hashToken is the stored form of a token; 256 random bits need no key.
func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// DBSessions stores sessions in the session table (subject "user"): the
// embedded deployment.
type DBSessions struct{ DB *sqlstore.DB }

type dbSessionData struct {
	Stage Stage `json:"stage"`
}

// CreateSession stores s. Errors: Invalid, Conflict.
func (d *DBSessions) CreateSession(ctx context.Context, s Session) error {
	data, _ := json.Marshal(dbSessionData{Stage: s.Stage})
	return d.DB.CreateSession(ctx, &esign.Session{TokenHash: s.TokenHash, SubjectType: esign.SessionUser, SubjectID: s.UserID,
		Data: string(data), IP: clip(s.IP, 64), UserAgent: clip(s.UserAgent, 512), ExpiresAt: s.ExpiresAt, LastSeenAt: s.LastSeenAt})
}

// GetSession returns the session. Errors: NotFound.
func (d *DBSessions) GetSession(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	x, err := d.DB.GetSessionByTokenHash(ctx, tokenHash, now)
	if err != nil {
		return Session{}, err
	}
	if x.SubjectType != esign.SessionUser {
		return Session{}, esign.E("operators.DBSessions.GetSession", esign.NotFound, "session not found")
	}
	var sd dbSessionData
	if err := json.Unmarshal([]byte(x.Data), &sd); err != nil {
		return Session{}, esign.E("operators.DBSessions.GetSession", err)
	}
	return Session{TokenHash: x.TokenHash, UserID: x.SubjectID, Stage: sd.Stage, IP: x.IP, UserAgent: x.UserAgent,
		CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, ExpiresAt: x.ExpiresAt}, nil
}

// TouchSession records use. Errors: NotFound.
func (d *DBSessions) TouchSession(ctx context.Context, tokenHash string, at time.Time) error {
	return d.DB.TouchSession(ctx, tokenHash, at)
}

// RevokeSession deletes the session; an unknown one is no error.
func (d *DBSessions) RevokeSession(ctx context.Context, tokenHash string) error {
	_, err := d.DB.DeleteSessionByTokenHash(ctx, tokenHash)
	return err
}

// RevokeUserSessions deletes every session of the operator.
func (d *DBSessions) RevokeUserSessions(ctx context.Context, userID string) error {
	_, err := d.DB.DeleteSubjectSessions(ctx, esign.SessionUser, userID)
	return err
}

// RedisSessions stores sessions in Redis, shared by every oss replica
// (redisstore.Sessions): a hash per session that Redis expires at the
// session's absolute end (a relative TTL, immune to clock differences
// between replicas and Redis), and a set per operator of its session
// hashes for "sign out everywhere".
type RedisSessions struct {
	RDB    redis.UniversalClient
	Prefix string // e.g. "esign:opsess:"
}

func (r *RedisSessions) store() *redisstore.Sessions {
	return &redisstore.Sessions{RDB: r.RDB, Prefix: r.Prefix, Owner: "user"}
}

// CreateSession stores s. Errors: Invalid (no lifetime left), Unavailable.
func (r *RedisSessions) CreateSession(ctx context.Context, s Session) error {
	return r.store().Create(ctx, "operators.RedisSessions.CreateSession", s.TokenHash, s.UserID, s.ExpiresAt.Sub(s.CreatedAt),
		"stage", string(s.Stage), "ip", clip(s.IP, 64), "ua", clip(s.UserAgent, 512), "created", s.CreatedAt.UnixMicro(),
		"seen", s.LastSeenAt.UnixMicro(), "expires", s.ExpiresAt.UnixMicro())
}

// GetSession returns the session. Errors: NotFound, Unavailable.
func (r *RedisSessions) GetSession(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	const op = "operators.RedisSessions.GetSession"
	m, err := r.store().Get(ctx, op, tokenHash)
	if err != nil {
		return Session{}, err
	}
	s := Session{TokenHash: tokenHash, UserID: m["user"], Stage: Stage(m["stage"]), IP: m["ip"], UserAgent: m["ua"],
		CreatedAt: redisstore.Micros(m, "created"), LastSeenAt: redisstore.Micros(m, "seen"), ExpiresAt: redisstore.Micros(m, "expires")}
	if !now.Before(s.ExpiresAt) {
		return Session{}, esign.E(op, esign.NotFound, "session not found")
	}
	return s, nil
}

// TouchSession records use. Errors: NotFound, Unavailable.
func (r *RedisSessions) TouchSession(ctx context.Context, tokenHash string, at time.Time) error {
	return r.store().Set(ctx, "operators.RedisSessions.TouchSession", tokenHash, "seen", at.UnixMicro())
}

// RevokeSession deletes the session. Errors: Unavailable.
func (r *RedisSessions) RevokeSession(ctx context.Context, tokenHash string) error {
	return r.store().Revoke(ctx, "operators.RedisSessions.RevokeSession", tokenHash)
}

// RevokeUserSessions deletes every session of the operator. Errors:
// Unavailable.
func (r *RedisSessions) RevokeUserSessions(ctx context.Context, userID string) error {
	return r.store().RevokeOwner(ctx, "operators.RedisSessions.RevokeUserSessions", userID)
}
