package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limit allows at most N messages per sliding window of length Per. A zero
// Limit (N == 0) means no limit.
type Limit struct {
	N   int
	Per time.Duration
}

// Unlimited reports whether l imposes no limit.
func (l Limit) Unlimited() bool { return l.N <= 0 || l.Per <= 0 }

// Decision is the answer of a Limiter.
type Decision struct {
	Allowed    bool
	RetryAfter time.Duration // when denied: how long until a slot frees up
}

// A Limiter counts messages per key (e.g. "sms:+36301234567") in a sliding
// window. Allow records the message when it is allowed.
type Limiter interface {
	Allow(ctx context.Context, key string, l Limit) (Decision, error)
}

var (
	_ Limiter = (*MemoryLimiter)(nil)
	_ Limiter = (*RedisLimiter)(nil)
)

// MemoryLimiter is a Limiter for a single process (the embedded deployment).
type MemoryLimiter struct {
	now   func() time.Time
	mu    sync.Mutex
	keys  map[string]*window
	calls int
}

type window struct {
	per  time.Duration
	hits []time.Time // oldest first
}

// NewMemoryLimiter returns an in-memory limiter; now may be nil (time.Now).
func NewMemoryLimiter(now func() time.Time) *MemoryLimiter {
	if now == nil {
		now = time.Now
	}
	return &MemoryLimiter{now: now, keys: map[string]*window{}}
}

// Allow implements Limiter.
func (m *MemoryLimiter) Allow(ctx context.Context, key string, l Limit) (Decision, error) {
	if l.Unlimited() {
		return Decision{Allowed: true}, nil
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.calls%1024 == 0 {
		m.sweep(now)
	}
	w := m.keys[key]
	if w == nil {
		w = &window{}
		m.keys[key] = w
	}
	w.per = l.Per
	w.hits = prune(w.hits, now.Add(-l.Per))
	if len(w.hits) >= l.N {
		return Decision{RetryAfter: w.hits[0].Add(l.Per).Sub(now)}, nil
	}
	w.hits = append(w.hits, now)
	return Decision{Allowed: true}, nil
}

// Check implements Limiter's peek: whether Allow would allow now, without
// recording anything.
func (m *MemoryLimiter) Check(ctx context.Context, key string, l Limit) (Decision, error) {
	if l.Unlimited() {
		return Decision{Allowed: true}, nil
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.keys[key]
	if w == nil {
		return Decision{Allowed: true}, nil
	}
	w.hits = prune(w.hits, now.Add(-l.Per))
	if len(w.hits) >= l.N {
		return Decision{RetryAfter: w.hits[len(w.hits)-l.N].Add(l.Per).Sub(now)}, nil
	}
	return Decision{Allowed: true}, nil
}

// sweep drops keys whose hits have all left their window, so that the map
// does not grow with every recipient ever seen.
func (m *MemoryLimiter) sweep(now time.Time) {
	for k, w := range m.keys {
		if len(w.hits) == 0 || !w.hits[len(w.hits)-1].After(now.Add(-w.per)) {
			delete(m.keys, k)
		}
	}
}

func prune(h []time.Time, after time.Time) []time.Time {
	i := 0
	for i < len(h) && !h[i].After(after) {
		i++
	}
	return h[i:]
}

// RedisLimiter is a Limiter shared by all replicas: a sorted set per key
// holds the times of the allowed messages, trimmed and counted atomically by
// a Lua script.
type RedisLimiter struct {
	rdb    redis.Scripter
	prefix string
	now    func() time.Time
}

// NewRedisLimiter returns a limiter that stores its keys under prefix (e.g.
// "esign:rl:"). now may be nil (time.Now).
func NewRedisLimiter(rdb redis.Scripter, prefix string, now func() time.Time) *RedisLimiter {
	if now == nil {
		now = time.Now
	}
	return &RedisLimiter{rdb: rdb, prefix: prefix, now: now}
}

var slidingWindow = redis.NewScript(`
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
`)

var slidingWindowCheck = redis.NewScript(`
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local n = redis.call('ZCARD', key)
if n < limit then
  return {1, 0}
end
local nth = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
return {0, tonumber(nth[2]) + window - now}
`)

// Check reports whether Allow would allow now, without recording anything.
func (r *RedisLimiter) Check(ctx context.Context, key string, l Limit) (Decision, error) {
	if l.Unlimited() {
		return Decision{Allowed: true}, nil
	}
	return r.run(ctx, "notify.RedisLimiter.Check", slidingWindowCheck, key, l)
}

// run runs one of the sliding-window scripts on the key; extra arguments
// follow now, the window and the limit. The script answers {1, 0} when
// allowed, else {0, milliseconds until a slot frees up}.
func (r *RedisLimiter) run(ctx context.Context, op string, script *redis.Script, key string, l Limit, extra ...any) (Decision, error) {
	args := append([]any{r.now().UnixMilli(), l.Per.Milliseconds(), l.N}, extra...)
	res, err := script.Run(ctx, r.rdb, []string{r.prefix + key}, args...).Int64Slice()
	if err != nil {
		return Decision{}, Unavailable(op, "rate limit check", err)
	}
	if len(res) != 2 {
		return Decision{}, fmt.Errorf("%s: rate limit script returned %d values", op, len(res))
	}
	if res[0] == 1 {
		return Decision{Allowed: true}, nil
	}
	return Decision{RetryAfter: time.Duration(res[1]) * time.Millisecond}, nil
}

// Allow implements Limiter.
func (r *RedisLimiter) Allow(ctx context.Context, key string, l Limit) (Decision, error) {
	if l.Unlimited() {
		return Decision{Allowed: true}, nil
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	member := fmt.Sprintf("%d-%s", r.now().UnixNano(), hex.EncodeToString(nonce[:]))
	return r.run(ctx, "notify.RedisLimiter.Allow", slidingWindow, key, l, member)
}
