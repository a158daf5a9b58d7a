// Package redisstore keeps login sessions in Redis for every replica to
// share: one hash per session, found by the hash of its token, and one set
// per owner (an app installation, an operator) of its sessions' hashes, so
// that all of an owner's sessions can be revoked at once. The customer and
// the operator session stores are built on it; each decides the fields.
package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"esign/internal/esign"
)

// Sessions stores session hashes under Prefix+"t:"+tokenHash and the
// owner's set under Prefix+Owner+":"+ownerID; the owner's id is also the
// session hash's field named Owner.
type Sessions struct {
	RDB    redis.UniversalClient
	Prefix string // e.g. "esign:sess:"
	Owner  string // e.g. "app", "user"
}

func (s *Sessions) key(h string) string      { return s.Prefix + "t:" + h }
func (s *Sessions) ownerKey(o string) string { return s.Prefix + s.Owner + ":" + o }

func unavailable(op string, err error) error {
	return esign.E(op, esign.Unavailable, "session store unavailable", err)
}

// Create stores the session's fields (the owner's id is added under the
// Owner field). The session expires after ttl counted by Redis from now: a
// relative TTL, so neither a replica whose clock drifts from Redis's nor an
// injected clock can make a fresh session vanish at once. The owner's set
// outlives its longest session by a day; a later session extends it, never
// shortens it. Errors: Invalid (ttl ≤ 0), Unavailable.
func (s *Sessions) Create(ctx context.Context, op, tokenHash, ownerID string, ttl time.Duration, fields ...any) error {
	if ttl <= 0 {
		return esign.E(op, esign.Invalid, "the session expires before it is created")
	}
	_, err := s.RDB.TxPipelined(ctx, func(p redis.Pipeliner) error {
		k := s.key(tokenHash)
		p.HSet(ctx, k, append([]any{s.Owner, ownerID}, fields...)...)
		p.PExpire(ctx, k, ttl)
		ok := s.ownerKey(ownerID)
		p.SAdd(ctx, ok, tokenHash)
		p.ExpireNX(ctx, ok, ttl+24*time.Hour)
		p.ExpireGT(ctx, ok, ttl+24*time.Hour)
		return nil
	})
	if err != nil {
		return unavailable(op, err)
	}
	return nil
}

// Get returns the session's fields; NotFound when there is no session (or
// it has no owner). Errors: NotFound, Unavailable.
func (s *Sessions) Get(ctx context.Context, op, tokenHash string) (map[string]string, error) {
	m, err := s.RDB.HGetAll(ctx, s.key(tokenHash)).Result()
	if err != nil {
		return nil, unavailable(op, err)
	}
	if len(m) == 0 || m[s.Owner] == "" {
		return nil, esign.E(op, esign.NotFound, "session not found")
	}
	return m, nil
}

// setIfExists sets one field only of an existing session, so that a touch
// racing a revocation cannot bring the session back.
var setIfExists = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0`)

// Set sets one field of an existing session (e.g. its last-seen time).
// Errors: NotFound, Unavailable.
func (s *Sessions) Set(ctx context.Context, op, tokenHash, field string, value any) error {
	n, err := setIfExists.Run(ctx, s.RDB, []string{s.key(tokenHash)}, field, value).Int()
	if err != nil {
		return unavailable(op, err)
	}
	if n == 0 {
		return esign.E(op, esign.NotFound, "session not found")
	}
	return nil
}

// Revoke deletes the session; an unknown one is no error. Errors:
// Unavailable.
func (s *Sessions) Revoke(ctx context.Context, op, tokenHash string) error {
	owner, err := s.RDB.HGet(ctx, s.key(tokenHash), s.Owner).Result()
	if err != nil && err != redis.Nil {
		return unavailable(op, err)
	}
	_, err = s.RDB.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.key(tokenHash))
		if owner != "" {
			p.SRem(ctx, s.ownerKey(owner), tokenHash)
		}
		return nil
	})
	if err != nil {
		return unavailable(op, err)
	}
	return nil
}

// RevokeOwner deletes every session of the owner. Errors: Unavailable.
func (s *Sessions) RevokeOwner(ctx context.Context, op, ownerID string) error {
	hs, err := s.RDB.SMembers(ctx, s.ownerKey(ownerID)).Result()
	if err != nil {
		return unavailable(op, err)
	}
	keys := []string{s.ownerKey(ownerID)}
	for _, h := range hs {
		keys = append(keys, s.key(h))
	}
	if err := s.RDB.Del(ctx, keys...).Err(); err != nil {
		return unavailable(op, err)
	}
	return nil
}

// Owned returns the fields of the owner's live sessions by token hash
// (hashes whose session expired are dropped from the owner's set).
// Errors: Unavailable.
func (s *Sessions) Owned(ctx context.Context, op, ownerID string) (map[string]map[string]string, error) {
	hs, err := s.RDB.SMembers(ctx, s.ownerKey(ownerID)).Result()
	if err != nil {
		return nil, unavailable(op, err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(hs))
	_, err = s.RDB.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, h := range hs {
			cmds[i] = p.HGetAll(ctx, s.key(h))
		}
		return nil
	})
	if err != nil {
		return nil, unavailable(op, err)
	}
	out := make(map[string]map[string]string, len(hs))
	var gone []any
	for i, c := range cmds {
		if m := c.Val(); len(m) > 0 && m[s.Owner] == ownerID {
			out[hs[i]] = m
		} else {
			gone = append(gone, hs[i])
		}
	}
	if len(gone) > 0 {
		if err := s.RDB.SRem(ctx, s.ownerKey(ownerID), gone...).Err(); err != nil {
			return nil, unavailable(op, err)
		}
	}
	return out, nil
}

// Micros reads a field written as Unix microseconds; zero when absent.
func Micros(m map[string]string, field string) time.Time {
	v, _ := strconv.ParseInt(m[field], 10, 64)
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}
