package operators_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/operators"
	"esign/internal/operators/operatorstest"
)

var meta = operators.Meta{IP: "192.0.2.1", UserAgent: "test"}

// stores runs fn with each session store: the database (on SQLite and
// PostgreSQL) and Redis.
func stores(t *testing.T, fn func(t *testing.T, e *operatorstest.Env)) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		fn(t, operatorstest.New(t, driver, nil, operators.Config{}))
	})
	t.Run("redis", func(t *testing.T) {
		url := esigntest.ServerURL(t, esigntest.RedisURLEnv)
		opts, err := redis.ParseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		rdb := redis.NewClient(opts)
		t.Cleanup(func() { rdb.Close() })
		prefix := "esign-test:" + esign.NewID() + ":"
		fn(t, operatorstest.New(t, "sqlite", &operators.RedisSessions{RDB: rdb, Prefix: prefix}, operators.Config{}))
	})
}

func wantCode(t *testing.T, err error, kind esign.Kind, code string) {
	t.Helper()
	if !esign.IsKind(err, kind) || esign.ErrorCode(err) != code {
		t.Fatalf("got %v (kind %v, code %q), want %v %q", err, esign.ErrorKind(err), esign.ErrorCode(err), kind, code)
	}
}

func TestSignInEnrolAndReplay(t *testing.T) {
	stores(t, func(t *testing.T, e *operatorstest.Env) {
		ctx := context.Background()
		u, pw := e.User(t, "anna", "operator")

		// Wrong password and unknown user: the same answer.
		_, err := e.Ops.SignIn(ctx, "anna", "wrong", meta)
		wantCode(t, err, esign.Unauthorized, "invalid_credentials")
		_, err = e.Ops.SignIn(ctx, "nobody", pw, meta)
		wantCode(t, err, esign.Unauthorized, "invalid_credentials")

		st, err := e.Ops.SignIn(ctx, "anna", pw, meta)
		if err != nil || !st.MustEnrol {
			t.Fatalf("SignIn = %+v, %v", st, err)
		}
		// The second-factor session is no operator session.
		_, err = e.Ops.Authenticate(ctx, st.Token)
		wantCode(t, err, esign.Unauthorized, "signed_out")
		en, err := e.Ops.Enrol(ctx, st.Token)
		if err != nil {
			t.Fatal(err)
		}
		again, err := e.Ops.Enrol(ctx, st.Token)
		if err != nil || again.Secret != en.Secret {
			t.Fatalf("a reload shows another secret: %v", err)
		}
		secret := decode(t, en.Secret)
		_, err = e.Ops.ConfirmEnrolment(ctx, st.Token, "000000", meta)
		wantCode(t, err, esign.Unauthorized, "invalid_code")
		code := operatorstest.Code(t, secret, e.Clock.Now())
		done, err := e.Ops.ConfirmEnrolment(ctx, st.Token, code, meta)
		if err != nil {
			t.Fatal(err)
		}
		if len(done.RecoveryCodes) != operators.RecoveryCodeCount {
			t.Fatalf("%d recovery codes", len(done.RecoveryCodes))
		}
		p, err := e.Ops.Authenticate(ctx, done.Token)
		if err != nil || p.User.ID != u.ID || !p.Can(esign.PermOfferRead) || p.Can(esign.PermUserManage) {
			t.Fatalf("Authenticate = %+v, %v", p, err)
		}
		// The used second-factor token is gone.
		_, err = e.Ops.ConfirmEnrolment(ctx, st.Token, code, meta)
		wantCode(t, err, esign.Unauthorized, "signed_out")

		// Next sign-in: the enrolment code is refused (replay), also a
		// step earlier; the next step's code works once.
		st, err = e.Ops.SignIn(ctx, "anna", pw, meta)
		if err != nil || st.MustEnrol {
			t.Fatalf("SignIn = %+v, %v", st, err)
		}
		_, err = e.Ops.VerifySecondFactor(ctx, st.Token, code, meta)
		wantCode(t, err, esign.Unauthorized, "invalid_code")
		e.Clock.Advance(30 * time.Second)
		next := operatorstest.Code(t, secret, e.Clock.Now())
		if _, err := e.Ops.VerifySecondFactor(ctx, st.Token, next, meta); err != nil {
			t.Fatal(err)
		}
		st, _ = e.Ops.SignIn(ctx, "anna", pw, meta)
		_, err = e.Ops.VerifySecondFactor(ctx, st.Token, next, meta)
		wantCode(t, err, esign.Unauthorized, "invalid_code")

		// A recovery code works once, in any spelling.
		rc := done.RecoveryCodes[3]
		if _, err := e.Ops.VerifySecondFactor(ctx, st.Token, " "+rc+" ", meta); err != nil {
			t.Fatalf("recovery code: %v", err)
		}
		st, _ = e.Ops.SignIn(ctx, "anna", pw, meta)
		_, err = e.Ops.VerifySecondFactor(ctx, st.Token, rc, meta)
		wantCode(t, err, esign.Unauthorized, "invalid_code")

		audit, err := e.Ops.ListAudit(ctx, esign.AuditLogFilter{ActorID: u.ID, Page: esign.Page{Limit: 100}})
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]int{}
		for _, a := range audit {
			actions[a.Action]++
		}
		if actions["signin"] != 3 || actions["user.second_factor_enrol"] != 1 || actions["signin.failed"] < 3 {
			t.Errorf("audit actions %v", actions)
		}
	})
}

func TestLockout(t *testing.T) {
	stores(t, func(t *testing.T, e *operatorstest.Env) {
		ctx := context.Background()
		_, pw := e.User(t, "bela", "admin")
		for range e.Cfg.LockoutThreshold {
			_, err := e.Ops.SignIn(ctx, "bela", "wrong", meta)
			wantCode(t, err, esign.Unauthorized, "invalid_credentials")
		}
		// Locked: even the right password gets the answer of a wrong one.
		_, err := e.Ops.SignIn(ctx, "bela", pw, meta)
		wantCode(t, err, esign.Unauthorized, "invalid_credentials")
		e.Clock.Advance(e.Cfg.LockoutDuration + time.Second)
		st, err := e.Ops.SignIn(ctx, "bela", pw, meta)
		if err != nil {
			t.Fatalf("after the lock: %v", err)
		}
		if _, err := e.Ops.Enrol(ctx, st.Token); err != nil {
			t.Fatal(err)
		}
		// Wrong codes count towards the same lock.
		for range e.Cfg.LockoutThreshold {
			_, err := e.Ops.ConfirmEnrolment(ctx, st.Token, "000000", meta)
			if !esign.IsKind(err, esign.Unauthorized) && !esign.IsKind(err, esign.TooMany) {
				t.Fatal(err)
			}
		}
		_, err = e.Ops.ConfirmEnrolment(ctx, st.Token, "000000", meta)
		wantCode(t, err, esign.TooMany, "locked")
	})
}

func TestRateLimit(t *testing.T) {
	e := operatorstest.New(t, "sqlite", nil, operators.Config{SignInPerIP: perHour(3), LockoutThreshold: 100})
	ctx := context.Background()
	for range 3 {
		_, err := e.Ops.SignIn(ctx, "x", "y", meta)
		wantCode(t, err, esign.Unauthorized, "invalid_credentials")
	}
	_, err := e.Ops.SignIn(ctx, "x", "y", meta)
	wantCode(t, err, esign.TooMany, "rate_limited")
	other := meta
	other.IP = "192.0.2.99"
	_, err = e.Ops.SignIn(ctx, "x", "y", other)
	wantCode(t, err, esign.Unauthorized, "invalid_credentials")
}

func TestSessionExpiry(t *testing.T) {
	stores(t, func(t *testing.T, e *operatorstest.Env) {
		ctx := context.Background()
		u, pw := e.User(t, "cecil", "auditor")
		s := e.SignIn(t, "cecil", pw)

		// Used within the idle timeout, the session lives on.
		for range 3 {
			e.Clock.Advance(e.Cfg.SessionIdle - time.Minute)
			if _, err := e.Ops.Authenticate(ctx, s.Token); err != nil {
				t.Fatalf("active session ended: %v", err)
			}
		}
		// Idle too long: ended.
		e.Clock.Advance(e.Cfg.SessionIdle + time.Second)
		_, err := e.Ops.Authenticate(ctx, s.Token)
		wantCode(t, err, esign.Unauthorized, "signed_out")

		// Absolute expiry, however busy.
		e.Clock.Advance(time.Minute)
		st, _ := e.Ops.SignIn(ctx, "cecil", pw, meta)
		done, err := e.Ops.VerifySecondFactor(ctx, st.Token, operatorstest.Code(t, s.Secret, e.Clock.Now()), meta)
		if err != nil {
			t.Fatal(err)
		}
		for elapsed := time.Duration(0); elapsed < e.Cfg.SessionMax-e.Cfg.SessionIdle; elapsed += e.Cfg.SessionIdle / 2 {
			e.Clock.Advance(e.Cfg.SessionIdle / 2)
			if _, err := e.Ops.Authenticate(ctx, done.Token); err != nil {
				t.Fatalf("session ended after %v: %v", elapsed, err)
			}
		}
		e.Clock.Advance(e.Cfg.SessionIdle)
		_, err = e.Ops.Authenticate(ctx, done.Token)
		wantCode(t, err, esign.Unauthorized, "signed_out")

		// A disabled account's sessions end at once.
		e.Clock.Advance(time.Minute)
		st, _ = e.Ops.SignIn(ctx, "cecil", pw, meta)
		done, err = e.Ops.VerifySecondFactor(ctx, st.Token, operatorstest.Code(t, s.Secret, e.Clock.Now()), meta)
		if err != nil {
			t.Fatal(err)
		}
		disabled := esign.UserDisabled
		if _, err := e.DB.UpdateUser(ctx, u.ID, esign.UserUpdate{Status: &disabled}); err != nil {
			t.Fatal(err)
		}
		_, err = e.Ops.Authenticate(ctx, done.Token)
		wantCode(t, err, esign.Unauthorized, "signed_out")
	})
}

func TestSignOutEverywhere(t *testing.T) {
	stores(t, func(t *testing.T, e *operatorstest.Env) {
		ctx := context.Background()
		_, pw := e.User(t, "dora", "operator")
		first := e.SignIn(t, "dora", pw)
		var tokens []string
		tokens = append(tokens, first.Token)
		for range 2 {
			e.Clock.Advance(30 * time.Second)
			st, _ := e.Ops.SignIn(ctx, "dora", pw, meta)
			done, err := e.Ops.VerifySecondFactor(ctx, st.Token, operatorstest.Code(t, first.Secret, e.Clock.Now()), meta)
			if err != nil {
				t.Fatal(err)
			}
			tokens = append(tokens, done.Token)
		}
		p, err := e.Ops.Authenticate(ctx, tokens[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Ops.SignOut(ctx, p, meta); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Ops.Authenticate(ctx, tokens[0]); !esign.IsKind(err, esign.Unauthorized) {
			t.Fatalf("signed-out session still works: %v", err)
		}
		p, err = e.Ops.Authenticate(ctx, tokens[1])
		if err != nil {
			t.Fatalf("sign out ended another session: %v", err)
		}
		if err := e.Ops.SignOutEverywhere(ctx, p, meta); err != nil {
			t.Fatal(err)
		}
		for _, tok := range tokens {
			if _, err := e.Ops.Authenticate(ctx, tok); !esign.IsKind(err, esign.Unauthorized) {
				t.Errorf("session survived sign out everywhere: %v", err)
			}
		}
	})
}

// TestRecheckIsNoActivity: a live stream's checks (Recheck) see the
// session like Authenticate but do not keep it alive: a page left open
// ends with the idle timeout.
func TestRecheckIsNoActivity(t *testing.T) {
	stores(t, func(t *testing.T, e *operatorstest.Env) {
		ctx := context.Background()
		_, pw := e.User(t, "rita", "operator")
		s := e.SignIn(t, "rita", pw)
		p, err := e.Ops.Recheck(ctx, s.Token)
		if err != nil || !p.Can(esign.PermOfferRead) {
			t.Fatalf("recheck of a fresh session: %v %v", p, err)
		}
		for elapsed := time.Duration(0); elapsed < e.Cfg.SessionIdle-time.Minute; elapsed += time.Minute {
			e.Clock.Advance(time.Minute)
			if _, err := e.Ops.Recheck(ctx, s.Token); err != nil {
				t.Fatalf("recheck after %v: %v", elapsed, err)
			}
		}
		e.Clock.Advance(2 * time.Minute)
		_, err = e.Ops.Recheck(ctx, s.Token)
		wantCode(t, err, esign.Unauthorized, "signed_out")
		_, err = e.Ops.Authenticate(ctx, s.Token)
		wantCode(t, err, esign.Unauthorized, "signed_out")
	})
}
