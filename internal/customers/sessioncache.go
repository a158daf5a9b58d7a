package customers

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"esign/internal/esign"
)

// DefaultSessionCacheTTL is how long an authenticated session may be served
// from the process's memory (Config.SessionCacheTTL) before it is read again.
const DefaultSessionCacheTTL = time.Second

// MaxSessionCacheTTL bounds Config.SessionCacheTTL: the cache's TTL is the
// time another replica may still honour a session revoked elsewhere, and
// the mobile API documents at most this (docs/mobile-api.md).
const MaxSessionCacheTTL = 2 * time.Second

// sessionCacheSize bounds the entries kept; past it, expired ones are swept
// and, if that is not enough, the whole cache is dropped.
const sessionCacheSize = 8192

// Revocations counts the session revocations of one process, shared by
// every Service of the process (Deps.Revocations; the composition root
// makes one per process). A cached principal carries the count from before
// its session was read and is not served once the count moved: a logout, a
// new login, a block or a removed account in this process ends the cached
// sessions at once, not after the TTL.
type Revocations struct{ n atomic.Uint64 }

func (r *Revocations) load() uint64 { return r.n.Load() }

// revokingSessions is the service's session store: every revocation, once
// the store has done it, moves the count. Counting after the store means a
// read that starts later sees the revocation in the store, and one that
// started earlier holds the old count.
type revokingSessions struct {
	SessionStore
	count *Revocations
}

func (r revokingSessions) RevokeSession(ctx context.Context, tokenHash string) error {
	defer r.count.n.Add(1)
	return r.SessionStore.RevokeSession(ctx, tokenHash)
}

func (r revokingSessions) RevokeAppSessions(ctx context.Context, appID string) error {
	defer r.count.n.Add(1)
	return r.SessionStore.RevokeAppSessions(ctx, appID)
}

// sessionCache keeps the principals of recently authenticated sessions by
// token hash for ttl of its own clock (monotonic time, not the service's
// clock: the bound is real time).
type sessionCache struct {
	ttl     time.Duration
	now     func() time.Time
	revoked *Revocations

	mu sync.Mutex
	m  map[string]*cachedPrincipal
}

type cachedPrincipal struct {
	sess Session
	app  esign.App
	cust esign.Customer
	gen  uint64    // revocations before the session was read
	exp  time.Time // the read's start + ttl, cache clock
}

func newSessionCache(ttl time.Duration, revoked *Revocations) *sessionCache {
	if ttl <= 0 {
		return nil
	}
	return &sessionCache{ttl: min(ttl, MaxSessionCacheTTL), now: time.Now, revoked: revoked, m: map[string]*cachedPrincipal{}}
}

// start returns what put needs from before the session is read.
func (c *sessionCache) start() (gen uint64, at time.Time) {
	if c == nil {
		return 0, time.Time{}
	}
	return c.revoked.load(), c.now()
}

// put keeps p, read from the stores after start returned gen and at.
func (c *sessionCache) put(h string, p *Principal, gen uint64, at time.Time) {
	if c == nil {
		return
	}
	e := &cachedPrincipal{sess: p.Session, app: *p.App, cust: *p.Customer, gen: gen, exp: at.Add(c.ttl)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= sessionCacheSize {
		now := c.now()
		for k, x := range c.m {
			if !now.Before(x.exp) || x.gen != c.revoked.load() {
				delete(c.m, k)
			}
		}
		if len(c.m) >= sessionCacheSize {
			clear(c.m)
		}
	}
	c.m[h] = e
}

// get returns a copy of the principal cached for h, if it is still fresh.
func (c *sessionCache) get(h string) (*Principal, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[h]
	if !ok {
		return nil, false
	}
	if e.gen != c.revoked.load() || !c.now().Before(e.exp) {
		delete(c.m, h)
		return nil, false
	}
	app, cust := e.app, e.cust
	return &Principal{Session: e.sess, App: &app, Customer: &cust}, true
}

// seen records that the cached session h was touched at t.
func (c *sessionCache) seen(h string, t time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[h]; ok && e.sess.LastSeenAt.Before(t) {
		e.sess.LastSeenAt = t
	}
}

func (c *sessionCache) drop(h string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, h)
}

// AuthenticateSessionCached is AuthenticateSession for requests that only
// need to know who the customer is: the principal of a session this process
// authenticated less than Config.SessionCacheTTL ago is answered from memory,
// without the session store or the database. Only an approved customer's
// principal is kept (an approval must show at once); a revocation in this
// process ends the cached sessions at once, one elsewhere (another replica,
// a direct change of the database) within the TTL (docs/mobile-api.md,
// "Sessions"). The idle and absolute expiries are checked as always. Requests
// that act on the customer's current state — M1, M2, the second factor, a
// logout — use AuthenticateSession. Errors: Unauthorized (invalid_token).
func (s *Service) AuthenticateSessionCached(ctx context.Context, token string) (*Principal, error) {
	const op = "customers.AuthenticateSessionCached"
	if s.cache == nil || len(token) < 20 || token[:len(SessionTokenPrefix)] != SessionTokenPrefix {
		return s.AuthenticateSession(ctx, token)
	}
	h := hashToken(token)
	p, ok := s.cache.get(h)
	if !ok {
		return s.AuthenticateSession(ctx, token)
	}
	now := s.now()
	if !now.Before(p.Session.LastSeenAt.Add(s.cfg.SessionIdle)) || !now.Before(p.Session.ExpiresAt) {
		s.cache.drop(h)
		return s.AuthenticateSession(ctx, token) // it decides, and revokes, as without the cache
	}
	if now.Sub(p.Session.LastSeenAt) >= sessionTouchEvery {
		err := s.sessions.TouchSession(ctx, h, now)
		if esign.IsKind(err, esign.NotFound) { // gone from the store: let the full read say so
			s.cache.drop(h)
			return s.AuthenticateSession(ctx, token)
		}
		if err != nil {
			return nil, esign.E(op, err)
		}
		s.cache.seen(h, now)
		p.Session.LastSeenAt = now
	}
	return p, nil
}
