package operators

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"esign/internal/esign"
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

// RedisSessions stores sessions in Redis, shared by every oss replica: a
// hash per session that Redis expires at the session's absolute end (a
// relative TTL, immune to clock differences between replicas and Redis),
// and a set per operator of its session hashes for "sign out everywhere".
type RedisSessions struct {
	RDB    redis.UniversalClient
	Prefix string // e.g. "esign:opsess:"
}

func (r *RedisSessions) key(h string) string     { return r.Prefix + "t:" + h }
func (r *RedisSessions) userKey(u string) string { return r.Prefix + "u:" + u }

func redisErr(op string, err error) error {
	return esign.E(op, esign.Unavailable, "session store unavailable", err)
}

// CreateSession stores s. Errors: Invalid (no lifetime left), Unavailable.
func (r *RedisSessions) CreateSession(ctx context.Context, s Session) error {
	const op = "operators.RedisSessions.CreateSession"
	ttl := s.ExpiresAt.Sub(s.CreatedAt)
	if ttl <= 0 {
		return esign.E(op, esign.Invalid, "the session expires before it is created")
	}
	_, err := r.RDB.TxPipelined(ctx, func(p redis.Pipeliner) error {
		k := r.key(s.TokenHash)
		p.HSet(ctx, k, "user", s.UserID, "stage", string(s.Stage), "ip", clip(s.IP, 64), "ua", clip(s.UserAgent, 512),
			"created", s.CreatedAt.UnixMicro(), "seen", s.LastSeenAt.UnixMicro(), "expires", s.ExpiresAt.UnixMicro())
		p.PExpire(ctx, k, ttl)
		uk := r.userKey(s.UserID)
		p.SAdd(ctx, uk, s.TokenHash)
		p.ExpireNX(ctx, uk, ttl+24*time.Hour)
		p.ExpireGT(ctx, uk, ttl+24*time.Hour)
		return nil
	})
	if err != nil {
		return redisErr(op, err)
	}
	return nil
}

// GetSession returns the session. Errors: NotFound, Unavailable.
func (r *RedisSessions) GetSession(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	const op = "operators.RedisSessions.GetSession"
	m, err := r.RDB.HGetAll(ctx, r.key(tokenHash)).Result()
	if err != nil {
		return Session{}, redisErr(op, err)
	}
	if len(m) == 0 || m["user"] == "" {
		return Session{}, esign.E(op, esign.NotFound, "session not found")
	}
	us := func(k string) time.Time {
		v, _ := strconv.ParseInt(m[k], 10, 64)
		if v == 0 {
			return time.Time{}
		}
		return time.UnixMicro(v).UTC()
	}
	s := Session{TokenHash: tokenHash, UserID: m["user"], Stage: Stage(m["stage"]), IP: m["ip"], UserAgent: m["ua"],
		CreatedAt: us("created"), LastSeenAt: us("seen"), ExpiresAt: us("expires")}
	if !now.Before(s.ExpiresAt) {
		return Session{}, esign.E(op, esign.NotFound, "session not found")
	}
	return s, nil
}

// touchScript updates the last-seen time only of an existing session, so
// that a touch racing a revocation cannot bring the session back.
var touchScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'seen', ARGV[1])
  return 1
end
return 0`)

// TouchSession records use. Errors: NotFound, Unavailable.
func (r *RedisSessions) TouchSession(ctx context.Context, tokenHash string, at time.Time) error {
	const op = "operators.RedisSessions.TouchSession"
	n, err := touchScript.Run(ctx, r.RDB, []string{r.key(tokenHash)}, at.UnixMicro()).Int()
	if err != nil {
		return redisErr(op, err)
	}
	if n == 0 {
		return esign.E(op, esign.NotFound, "session not found")
	}
	return nil
}

// RevokeSession deletes the session. Errors: Unavailable.
func (r *RedisSessions) RevokeSession(ctx context.Context, tokenHash string) error {
	const op = "operators.RedisSessions.RevokeSession"
	user, err := r.RDB.HGet(ctx, r.key(tokenHash), "user").Result()
	if err != nil && err != redis.Nil {
		return redisErr(op, err)
	}
	_, err = r.RDB.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, r.key(tokenHash))
		if user != "" {
			p.SRem(ctx, r.userKey(user), tokenHash)
		}
		return nil
	})
	if err != nil {
		return redisErr(op, err)
	}
	return nil
}

// RevokeUserSessions deletes every session of the operator. Errors:
// Unavailable.
func (r *RedisSessions) RevokeUserSessions(ctx context.Context, userID string) error {
	const op = "operators.RedisSessions.RevokeUserSessions"
	hs, err := r.RDB.SMembers(ctx, r.userKey(userID)).Result()
	if err != nil {
		return redisErr(op, err)
	}
	keys := []string{r.userKey(userID)}
	for _, h := range hs {
		keys = append(keys, r.key(h))
	}
	if err := r.RDB.Del(ctx, keys...).Err(); err != nil {
		return redisErr(op, err)
	}
	return nil
}
