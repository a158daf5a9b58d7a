package customers

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"esign/internal/esign"
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
}

// CreateSession stores s. Errors: Invalid, Conflict.
func (d *DBSessions) CreateSession(ctx context.Context, s Session) error {
	data, _ := json.Marshal(sessionData{CustomerID: s.CustomerID, PasswordProof: s.PasswordProof})
	return d.DB.CreateSession(ctx, &esign.Session{TokenHash: s.TokenHash, SubjectType: esign.SessionApp,
		SubjectID: s.AppID, Data: string(data), ExpiresAt: s.ExpiresAt, LastSeenAt: s.LastSeenAt})
}

// GetSession returns the session. Errors: NotFound.
func (d *DBSessions) GetSession(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	x, err := d.DB.GetSessionByTokenHash(ctx, tokenHash, now)
	if err != nil {
		return Session{}, err
	}
	var sd sessionData
	if err := json.Unmarshal([]byte(x.Data), &sd); err != nil {
		return Session{}, esign.E("customers.DBSessions.GetSession", err)
	}
	return Session{TokenHash: x.TokenHash, AppID: x.SubjectID, CustomerID: sd.CustomerID, CreatedAt: x.CreatedAt,
		LastSeenAt: x.LastSeenAt, ExpiresAt: x.ExpiresAt, PasswordProof: sd.PasswordProof}, nil
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
// app's session hashes for revocation.
type RedisSessions struct {
	RDB    redis.UniversalClient
	Prefix string // e.g. "esign:sess:"
}

func (r *RedisSessions) key(h string) string    { return r.Prefix + "t:" + h }
func (r *RedisSessions) appKey(a string) string { return r.Prefix + "app:" + a }

func redisErr(op string, err error) error {
	return esign.E(op, esign.Unavailable, "session store unavailable", err)
}

// CreateSession stores s. Its keys expire after the session's lifetime
// (ExpiresAt − CreatedAt, both from the service's clock) counted by Redis
// from now: a relative TTL, so neither a replica whose clock drifts from
// Redis's nor an injected clock can make a fresh session vanish at once.
// Errors: Invalid (no lifetime left), Unavailable.
func (r *RedisSessions) CreateSession(ctx context.Context, s Session) error {
	const op = "customers.RedisSessions.CreateSession"
	ttl := s.ExpiresAt.Sub(s.CreatedAt)
	if ttl <= 0 {
		return esign.E(op, esign.Invalid, "the session expires before it is created")
	}
	_, err := r.RDB.TxPipelined(ctx, func(p redis.Pipeliner) error {
		k := r.key(s.TokenHash)
		p.HSet(ctx, k, "app", s.AppID, "customer", s.CustomerID, "created", s.CreatedAt.UnixMicro(),
			"seen", s.LastSeenAt.UnixMicro(), "expires", s.ExpiresAt.UnixMicro(), "pwproof", s.PasswordProof)
		p.PExpire(ctx, k, ttl)
		ak := r.appKey(s.AppID)
		p.SAdd(ctx, ak, s.TokenHash)
		// The app's set outlives its longest session; a later session
		// extends it, never shortens it (GT).
		p.ExpireNX(ctx, ak, ttl+24*time.Hour)
		p.ExpireGT(ctx, ak, ttl+24*time.Hour)
		return nil
	})
	if err != nil {
		return redisErr(op, err)
	}
	return nil
}

// GetSession returns the session. Errors: NotFound, Unavailable.
func (r *RedisSessions) GetSession(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	const op = "customers.RedisSessions.GetSession"
	m, err := r.RDB.HGetAll(ctx, r.key(tokenHash)).Result()
	if err != nil {
		return Session{}, redisErr(op, err)
	}
	if len(m) == 0 || m["app"] == "" {
		return Session{}, esign.E(op, esign.NotFound, "session not found")
	}
	us := func(k string) time.Time {
		v, _ := strconv.ParseInt(m[k], 10, 64)
		if v == 0 {
			return time.Time{}
		}
		return time.UnixMicro(v).UTC()
	}
	s := Session{TokenHash: tokenHash, AppID: m["app"], CustomerID: m["customer"], CreatedAt: us("created"),
		LastSeenAt: us("seen"), ExpiresAt: us("expires"), PasswordProof: m["pwproof"]}
	if !now.Before(s.ExpiresAt) {
		return Session{}, esign.E(op, esign.NotFound, "session not found")
	}
	return s, nil
}

// touchScript updates the last-seen time only of an existing session, so a
// touch racing a revocation cannot bring the session back.
var touchScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'seen', ARGV[1])
  return 1
end
return 0`)

// TouchSession records use. Errors: NotFound, Unavailable.
func (r *RedisSessions) TouchSession(ctx context.Context, tokenHash string, at time.Time) error {
	const op = "customers.RedisSessions.TouchSession"
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
	const op = "customers.RedisSessions.RevokeSession"
	app, err := r.RDB.HGet(ctx, r.key(tokenHash), "app").Result()
	if err != nil && err != redis.Nil {
		return redisErr(op, err)
	}
	_, err = r.RDB.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, r.key(tokenHash))
		if app != "" {
			p.SRem(ctx, r.appKey(app), tokenHash)
		}
		return nil
	})
	if err != nil {
		return redisErr(op, err)
	}
	return nil
}

// RevokeAppSessions deletes every session of the app. Errors: Unavailable.
func (r *RedisSessions) RevokeAppSessions(ctx context.Context, appID string) error {
	const op = "customers.RedisSessions.RevokeAppSessions"
	hs, err := r.RDB.SMembers(ctx, r.appKey(appID)).Result()
	if err != nil {
		return redisErr(op, err)
	}
	keys := []string{r.appKey(appID)}
	for _, h := range hs {
		keys = append(keys, r.key(h))
	}
	if err := r.RDB.Del(ctx, keys...).Err(); err != nil {
		return redisErr(op, err)
	}
	return nil
}
