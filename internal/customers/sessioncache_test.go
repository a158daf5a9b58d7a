package customers_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
)

// countingSessions counts the session reads and can act in the middle of
// one (after the store answered, before the service uses the answer).
type countingSessions struct {
	customers.SessionStore
	reads  atomic.Int64
	during func(tokenHash string)
}

func (c *countingSessions) GetSession(ctx context.Context, h string, now time.Time) (customers.Session, error) {
	c.reads.Add(1)
	s, err := c.SessionStore.GetSession(ctx, h, now)
	if f := c.during; f != nil {
		c.during = nil
		f(h)
	}
	return s, err
}

// TestSessionCache: AuthenticateSessionCached answers from memory for at
// most the TTL of its own clock; a revocation in the process ends that at
// once, also for a read that was under way; a pending customer, idle
// expiry and a disabled cache always go to the store.
func TestSessionCache(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		db := customerstest.OpenDB(t, driver)
		sessions := &countingSessions{SessionStore: &customers.DBSessions{DB: db}}
		e := customerstest.New(t, db, sessions, customers.Config{}, nil)
		cacheNow := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		customers.SetSessionCacheClock(e.Svc, func() time.Time { return cacheNow })
		ctx := t.Context()
		const pw = "Correct-horse-42"
		login := func(c *esign.Customer, app *esign.App) string {
			t.Helper()
			in, err := e.Svc.Login(ctx, app, c.Username, pw, customers.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			return in.SessionToken
		}
		account := func(name, username string, approve bool) (*esign.Customer, *esign.App) {
			t.Helper()
			return withCredentials(t, e, name, username, pw, approve)
		}
		auth := func(tok string, wantReads int64) error {
			t.Helper()
			before := sessions.reads.Load()
			_, err := e.Svc.AuthenticateSessionCached(ctx, tok)
			if got := sessions.reads.Load() - before; got != wantReads {
				t.Fatalf("%d session reads, want %d", got, wantReads)
			}
			return err
		}
		ok := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}

		anna, annaApp := account("Kiss Anna", "anna", true)
		tok := login(anna, annaApp)
		ok(auth(tok, 1))
		ok(auth(tok, 0))

		// The bound: a block written straight into the database (as another
		// replica's or a tool's change looks from here) is honoured until
		// the TTL has passed since the read, not a moment longer.
		st := esign.CustomerBlocked
		if _, err := e.DB.UpdateCustomer(ctx, anna.ID, esign.CustomerUpdate{Status: &st}); err != nil {
			t.Fatal(err)
		}
		cacheNow = cacheNow.Add(customers.DefaultSessionCacheTTL - time.Nanosecond)
		ok(auth(tok, 0))
		cacheNow = cacheNow.Add(time.Nanosecond)
		wantCode(t, auth(tok, 1), esign.Unauthorized, "invalid_token")
		wantCode(t, auth(tok, 1), esign.Unauthorized, "invalid_token") // refusals are not kept

		// A revocation in this process (a logout) ends the cached session at
		// once, the clock standing still.
		bea, beaApp := account("Nagy Bea", "beata", true)
		tok = login(bea, beaApp)
		p, err := e.Svc.AuthenticateSession(ctx, tok) // the fresh read fills the cache too
		ok(err)
		ok(auth(tok, 0))
		if err := e.Svc.Logout(ctx, p, customers.Meta{}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, auth(tok, 1), esign.Unauthorized, "invalid_token")

		// A new login of the app ends the old session at once as well.
		old := login(bea, beaApp)
		ok(auth(old, 1))
		cur := login(bea, beaApp)
		wantCode(t, auth(old, 1), esign.Unauthorized, "invalid_token")

		// A read under way while the session is revoked is not kept.
		sessions.during = func(h string) {
			if err := e.Svc.Logout(ctx, &customers.Principal{Session: customers.Session{TokenHash: h}, Customer: bea}, customers.Meta{}); err != nil {
				t.Error(err)
			}
		}
		ok(auth(cur, 1)) // its read came before the logout
		wantCode(t, auth(cur, 1), esign.Unauthorized, "invalid_token")

		// Idle expiry is the service's clock, checked on every hit.
		tok = login(bea, beaApp)
		ok(auth(tok, 1))
		e.Clock.Advance(customers.DefaultConfig().SessionIdle)
		wantCode(t, auth(tok, 1), esign.Unauthorized, "invalid_token")

		// A pending customer is read every time: an approval shows at once.
		cyd, cydApp := account("Szabó Cyd", "cyrill", false)
		tok = login(cyd, cydApp)
		ok(auth(tok, 1))
		ok(auth(tok, 1))
		e.Approve(t, cyd)
		p, err = e.Svc.AuthenticateSessionCached(ctx, tok)
		ok(err)
		if !p.Approved() {
			t.Fatal("the approval did not show at once")
		}
	})
}

// TestSessionCacheOff: a negative TTL turns the cache off.
func TestSessionCacheOff(t *testing.T) {
	db := customerstest.OpenDB(t, "sqlite")
	sessions := &countingSessions{SessionStore: &customers.DBSessions{DB: db}}
	e := customerstest.New(t, db, sessions, customers.Config{SessionCacheTTL: -1}, nil)
	const pw = "Correct-horse-42"
	c, app := withCredentials(t, e, "Kiss Anna", "anna", pw, true)
	in, err := e.Svc.Login(t.Context(), app, c.Username, pw, customers.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := e.Svc.AuthenticateSessionCached(t.Context(), in.SessionToken); err != nil {
			t.Fatal(err)
		}
	}
	if n := sessions.reads.Load(); n != 3 {
		t.Fatalf("%d session reads with the cache off, want 3", n)
	}
}

// withCredentials is a customer with an associated app and a username and
// password, approved when approve is set.
func withCredentials(tb testing.TB, e *customerstest.Env, name, username, pw string, approve bool) (*esign.Customer, *esign.App) {
	tb.Helper()
	c := e.Customer(tb, name)
	app := associated(tb, e, c)
	if err := e.Svc.CreateCredentials(tb.Context(), app, username, pw, customers.Meta{}); err != nil {
		tb.Fatal(err)
	}
	if approve {
		e.Approve(tb, c)
	}
	c.Username = username
	return c, app
}
