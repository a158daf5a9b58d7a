// Package operatorstest builds a real operators.Service for tests: a real
// database (SQLite or PostgreSQL), a real customers.Service behind it, a
// development inbox, a settable clock, and helpers that create operators
// and sign them in through the real two-factor flow.
package operatorstest

import (
	"context"
	"crypto/rand"
	"sync/atomic"
	"testing"
	"time"

	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/envelope"
	"esign/internal/esign"
	"esign/internal/jobs"
	"esign/internal/notify"
	"esign/internal/offers"
	"esign/internal/operators"
	"esign/internal/password"
	"esign/internal/sqlstore"
	"esign/internal/totp"
)

// Env is a service with everything around it.
type Env struct {
	*customerstest.Env
	Ops  *operators.Service
	Cfg  operators.Config
	Jobs *jobs.Queue // insert-only: lists, retries and cancels, runs nothing
	Keys *envelope.Keyring
	// Pushes counts the settings pushes the service asked for; PushErr,
	// when set, is their answer.
	Pushes  atomic.Int32
	PushErr error
}

// New builds the service on a fresh database of the driver with the
// sessions (nil: the database) and configuration (zero fields: defaults;
// the clock is the Env's).
func New(tb testing.TB, driver string, sessions operators.SessionStore, cfg operators.Config) *Env {
	tb.Helper()
	db := customerstest.OpenDB(tb, driver)
	ce := customerstest.New(tb, db, nil, customers.Config{}, nil)
	key := make([]byte, 32)
	rand.Read(key)
	keys, err := envelope.NewKeyring("k1", map[string][]byte{"k1": key})
	if err != nil {
		tb.Fatal(err)
	}
	if sessions == nil {
		sessions = &operators.DBSessions{DB: db}
	}
	cfg.Now = ce.Clock.Now
	offerSvc, err := offers.New(offers.Deps{DB: db, Docs: ce.Docs, Queue: ce.Queue, Customers: ce.Svc, Now: ce.Clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	dialect := jobs.SQLite
	if db.Driver() == "postgres" {
		dialect = jobs.Postgres
	}
	q, err := jobs.New(db.SQL(), jobs.Config{Dialect: dialect, InsertOnly: true}, jobs.Deps{})
	if err != nil {
		tb.Fatal(err)
	}
	e := &Env{Env: ce, Jobs: q, Keys: keys}
	push := func(context.Context) error {
		e.Pushes.Add(1)
		return e.PushErr
	}
	svc, err := operators.New(operators.Deps{DB: db, Sessions: sessions, Limiter: notify.NewMemoryLimiter(ce.Clock.Now),
		Secrets: keys, Customers: ce.Svc, Docs: ce.Docs, Offers: offerSvc, Inbox: db.Inbox(), Jobs: q, PushSettings: push}, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	e.Ops, e.Cfg = svc, svc.Config()
	return e
}

// testParams make Argon2id cheap in tests; Verify reads them from the hash.
var testParams = password.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// User creates an active operator with the role and returns its password.
func (e *Env) User(tb testing.TB, username, role string) (*esign.User, string) {
	tb.Helper()
	ctx := context.Background()
	pw := "Pw-" + rand.Text()
	hash, err := password.HashWithParams(pw, testParams)
	if err != nil {
		tb.Fatal(err)
	}
	u := &esign.User{Username: username, Name: username, PasswordHash: hash}
	err = e.DB.InTx(ctx, func(tx *sqlstore.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return tx.AssignRole(ctx, u.ID, role)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return u, pw
}

// SignedIn is an operator signed in through the whole flow.
type SignedIn struct {
	Token         string
	Secret        []byte
	RecoveryCodes []string
}

// SignIn signs the operator in with the password, enrolling the second
// factor on the way (the code computed from the secret the enrolment shows,
// as an authenticator app would).
func (e *Env) SignIn(tb testing.TB, username, pw string) SignedIn {
	tb.Helper()
	ctx := context.Background()
	st, err := e.Ops.SignIn(ctx, username, pw, operators.Meta{IP: "127.0.0.1"})
	if err != nil {
		tb.Fatalf("sign in %s: %v", username, err)
	}
	if !st.MustEnrol {
		tb.Fatalf("sign in %s: already enrolled; use the code flow", username)
	}
	en, err := e.Ops.Enrol(ctx, st.Token)
	if err != nil {
		tb.Fatal(err)
	}
	secret, err := totp.Decode(en.Secret)
	if err != nil {
		tb.Fatal(err)
	}
	done, err := e.Ops.ConfirmEnrolment(ctx, st.Token, Code(tb, secret, e.Clock.Now()), operators.Meta{IP: "127.0.0.1"})
	if err != nil {
		tb.Fatal(err)
	}
	return SignedIn{Token: done.Token, Secret: secret, RecoveryCodes: done.RecoveryCodes}
}

// Code returns the TOTP code of the secret at t.
func Code(tb testing.TB, secret []byte, t time.Time) string {
	tb.Helper()
	c, err := totp.Params{}.CodeAt(secret, t)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
