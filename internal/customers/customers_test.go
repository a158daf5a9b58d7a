package customers_test

import (
	"context"
	"crypto/rand"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/notify"
)

func wantCode(tb testing.TB, err error, k esign.Kind, code string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want %v (%s)", k, code)
	}
	if esign.ErrorKind(err) != k || esign.ErrorCode(err) != code {
		tb.Fatalf("got %v (kind %v, code %q), want kind %v code %q", err, esign.ErrorKind(err), esign.ErrorCode(err), k, code)
	}
}

func register(tb testing.TB, e *customerstest.Env) *esign.App {
	tb.Helper()
	ctx := context.Background()
	reg, err := e.Svc.RegisterApp(ctx, customers.Registration{DeviceID: "350000000000001", OS: "android", FCMToken: "fcm-" + rand.Text()},
		customers.Meta{IP: rand.Text()})
	if err != nil {
		tb.Fatal(err)
	}
	app, err := e.Svc.AuthenticateDevice(ctx, reg.DeviceToken)
	if err != nil {
		tb.Fatal(err)
	}
	return app
}

func sendCode(tb testing.TB, e *customerstest.Env, c *esign.Customer) string {
	tb.Helper()
	if err := e.Svc.SendAssociationCode(context.Background(), c.ID); err != nil {
		tb.Fatal(err)
	}
	n := e.Queue.Last(tb, notify.DeviceAssociationCode)
	if n.To != c.Phone || len(n.Params.Code) != 6 {
		tb.Fatalf("notification to %q with code %q", n.To, n.Params.Code)
	}
	return n.Params.Code
}

func wrong(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestAssociationCodes(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		db := customerstest.OpenDB(t, driver)
		ctx := t.Context()
		tests := []struct {
			name string
			run  func(t *testing.T, e *customerstest.Env, c *esign.Customer, app *esign.App)
		}{
			{"right_code_associates", func(t *testing.T, e *customerstest.Env, c *esign.Customer, app *esign.App) {
				code := sendCode(t, e, c)
				got, err := e.Svc.Associate(ctx, app, c.Phone, code, customers.Meta{})
				if err != nil || got.ID != c.ID {
					t.Fatalf("associate: %v, %v", got, err)
				}
				if app, err = e.DB.GetApp(ctx, app.ID); err != nil || app.Status != esign.AppAssociated || app.CustomerID != c.ID {
					t.Fatalf("app after association: %+v, %v", app, err)
				}
				_, err = e.Svc.Associate(ctx, app, c.Phone, code, customers.Meta{})
				wantCode(t, err, esign.Conflict, "already_associated")
				app2 := register(t, e)
				_, err = e.Svc.Associate(ctx, app2, c.Phone, code, customers.Meta{})
				wantCode(t, err, esign.Invalid, "invalid_code") // single use
			}},
			{"five_wrong_codes_kill_the_challenge", func(t *testing.T, e *customerstest.Env, c *esign.Customer, app *esign.App) {
				code := sendCode(t, e, c)
				for range 5 {
					_, err := e.Svc.Associate(ctx, app, c.Phone, wrong(code), customers.Meta{})
					wantCode(t, err, esign.Invalid, "invalid_code")
				}
				_, err := e.Svc.Associate(ctx, app, c.Phone, code, customers.Meta{})
				wantCode(t, err, esign.Invalid, "invalid_code")
			}},
			{"four_wrong_codes_leave_it_alive", func(t *testing.T, e *customerstest.Env, c *esign.Customer, app *esign.App) {
				code := sendCode(t, e, c)
				for range 4 {
					_, err := e.Svc.Associate(ctx, app, c.Phone, wrong(code), customers.Meta{})
					wantCode(t, err, esign.Invalid, "invalid_code")
				}
				if _, err := e.Svc.Associate(ctx, app, c.Phone, code, customers.Meta{}); err != nil {
					t.Fatal(err)
				}
			}},
			{"resend_invalidates_previous", func(t *testing.T, e *customerstest.Env, c *esign.Customer, app *esign.App) {
				first := sendCode(t, e, c)
				e.Clock.Advance(time.Second)
				second := sendCode(t, e, c)
				if first != second {
					_, err := e.Svc.Associate(ctx, app, c.Phone, first, customers.Meta{})
					wantCode(t, err, esign.Invalid, "invalid_code")
				}
				if _, err := e.Svc.Associate(ctx, app, c.Phone, second, customers.Meta{}); err != nil {
					t.Fatal(err)
				}
			}},
			{"expires_after_five_minutes", func(t *testing.T, e *customerstest.Env, c *esign.Customer, app *esign.App) {
				code := sendCode(t, e, c)
				e.Clock.Advance(5 * time.Minute)
				_, err := e.Svc.Associate(ctx, app, c.Phone, code, customers.Meta{})
				wantCode(t, err, esign.Invalid, "invalid_code")
			}},
			{"other_phone_fails", func(t *testing.T, e *customerstest.Env, c *esign.Customer, app *esign.App) {
				code := sendCode(t, e, c)
				_, err := e.Svc.Associate(ctx, app, "+36309999999", code, customers.Meta{})
				wantCode(t, err, esign.Invalid, "invalid_code")
			}},
			{"malformed_code_counts", func(t *testing.T, e *customerstest.Env, c *esign.Customer, app *esign.App) {
				code := sendCode(t, e, c)
				for _, bad := range []string{"", "12345", "1234567", "abcdef", "12 456"} {
					_, err := e.Svc.Associate(ctx, app, c.Phone, bad, customers.Meta{})
					wantCode(t, err, esign.Invalid, "invalid_code")
				}
				_, err := e.Svc.Associate(ctx, app, c.Phone, code, customers.Meta{})
				wantCode(t, err, esign.Invalid, "invalid_code")
			}},
			{"send_cap_per_challenge", func(t *testing.T, e *customerstest.Env, c *esign.Customer, app *esign.App) {
				for range 5 {
					sendCode(t, e, c)
				}
				err := e.Svc.SendAssociationCode(ctx, c.ID)
				wantCode(t, err, esign.TooMany, "sms_limit")
				if n := e.Queue.Count(notify.DeviceAssociationCode); n != 5 {
					t.Fatalf("%d codes enqueued, want 5", n)
				}
				e.Clock.Advance(time.Hour)
				sendCode(t, e, c)
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := customerstest.New(t, db, nil, customers.Config{}, nil)
				tt.run(t, e, e.Customer(t, "Kiss Anna"), register(t, e))
			})
		}
	})
}

// TestCodeSingleUseParallel submits one code 50 times at once: exactly one
// submission may succeed.
func TestCodeSingleUseParallel(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		e := customerstest.New(t, customerstest.OpenDB(t, driver), nil, customers.Config{}, nil)
		c := e.Customer(t, "Nagy Béla")
		apps := make([]*esign.App, 50)
		for i := range apps {
			apps[i] = register(t, e)
		}
		code := sendCode(t, e, c)
		var wins, bad atomic.Int32
		var wg sync.WaitGroup
		for _, app := range apps {
			wg.Go(func() {
				_, err := e.Svc.Associate(context.Background(), app, c.Phone, code, customers.Meta{})
				switch {
				case err == nil:
					wins.Add(1)
				case esign.ErrorCode(err) == "invalid_code":
					bad.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || bad.Load() != 49 {
			t.Fatalf("%d successes and %d refusals, want 1 and 49", wins.Load(), bad.Load())
		}
	})
}

func associated(tb testing.TB, e *customerstest.Env, c *esign.Customer) *esign.App {
	tb.Helper()
	app := register(tb, e)
	code := sendCode(tb, e, c)
	if _, err := e.Svc.Associate(context.Background(), app, c.Phone, code, customers.Meta{}); err != nil {
		tb.Fatal(err)
	}
	app, err := e.DB.GetApp(context.Background(), app.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return app
}

func TestLockout(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		db := customerstest.OpenDB(t, driver)
		e := customerstest.New(t, db, nil, customers.Config{}, nil)
		ctx := t.Context()
		c := e.Customer(t, "Szabó Csilla")
		app := associated(t, e, c)
		const pw = "Correct-horse-42"
		if err := e.Svc.CreateCredentials(ctx, app, "csilla", pw, customers.Meta{}); err != nil {
			t.Fatal(err)
		}
		// Unknown user and wrong password give the same answer.
		_, err := e.Svc.Login(ctx, app, "nobody", pw, customers.Meta{})
		wantCode(t, err, esign.Unauthorized, "invalid_credentials")
		for range 10 {
			_, err := e.Svc.Login(ctx, app, "csilla", "Wrong-password-1", customers.Meta{})
			wantCode(t, err, esign.Unauthorized, "invalid_credentials")
		}
		// Locked: the right password gets the same answer.
		_, err = e.Svc.Login(ctx, app, "csilla", pw, customers.Meta{})
		wantCode(t, err, esign.Unauthorized, "invalid_credentials")
		e.Clock.Advance(29 * time.Minute)
		_, err = e.Svc.Login(ctx, app, "csilla", pw, customers.Meta{})
		wantCode(t, err, esign.Unauthorized, "invalid_credentials")
		e.Clock.Advance(time.Minute)
		in, err := e.Svc.Login(ctx, app, "csilla", pw, customers.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if len(in.SessionToken) < 40 {
			t.Fatalf("short session token %q", in.SessionToken)
		}
		// A success resets the count: 9 failures do not lock.
		for range 9 {
			_, err := e.Svc.Login(ctx, app, "csilla", "Wrong-password-1", customers.Meta{})
			wantCode(t, err, esign.Unauthorized, "invalid_credentials")
		}
		if _, err := e.Svc.Login(ctx, app, "csilla", pw, customers.Meta{IP: "192.0.2.7"}); err != nil {
			t.Fatal(err)
		}
		// The security events are in the audit log: every failed
		// password of the known customer, one lockout, two sign-ins.
		for action, want := range map[string]int{"customer.signin_failed": 19, "customer.lockout": 1, "customer.signin": 2} {
			logs, err := db.ListAuditLogs(ctx, esign.AuditLogFilter{Action: action, ActorID: c.ID, Page: esign.Page{Limit: 100}})
			if err != nil || len(logs) != want {
				t.Errorf("%s: %d entries, want %d (%v)", action, len(logs), want, err)
			}
		}
	})
}

func TestApprove(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		e := customerstest.New(t, customerstest.OpenDB(t, driver), nil, customers.Config{}, nil)
		ctx := t.Context()
		c := e.Customer(t, "Tóth Dénes")
		app := associated(t, e, c)
		got, err := e.Svc.Approve(ctx, c.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != esign.CustomerActive || got.ApprovedAt.IsZero() {
			t.Fatalf("approved customer %+v", got)
		}
		n := e.Queue.Last(t, notify.RegistrationApproved)
		f, err := e.DB.GetAppFcmInfo(ctx, app.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n.Channel != notify.Push || n.To != f.Token {
			t.Fatalf("push %+v, want to %q", n, f.Token)
		}
		_, err = e.Svc.Approve(ctx, c.ID, "")
		wantCode(t, err, esign.Conflict, "not_pending")
	})
}

// TestSessionStores is the contract every SessionStore passes.
func TestSessionStores(t *testing.T) {
	stores := map[string]func(t *testing.T) customers.SessionStore{
		"sqlite": func(t *testing.T) customers.SessionStore {
			return &customers.DBSessions{DB: customerstest.OpenDB(t, "sqlite")}
		},
		"postgres": func(t *testing.T) customers.SessionStore {
			esigntest.ServerURL(t, esigntest.PostgresURLEnv)
			return &customers.DBSessions{DB: customerstest.OpenDB(t, "postgres")}
		},
		"redis": func(t *testing.T) customers.SessionStore {
			u := esigntest.ServerURL(t, esigntest.RedisURLEnv)
			opts, err := redis.ParseURL(u)
			if err != nil {
				t.Fatal(err)
			}
			rdb := redis.NewClient(opts)
			t.Cleanup(func() { rdb.Close() })
			return &customers.RedisSessions{RDB: rdb, Prefix: "esign:test:" + rand.Text() + ":"}
		},
	}
	// The service's clock need not agree with the store's: a replica's
	// clock drifts, and tests run on a fixed one. A session lives for its
	// lifetime whatever the two clocks say.
	clocks := map[string]time.Time{
		"real_clock":        time.Now(),
		"test_clock":        esigntest.Epoch(t),
		"clock_year_ahead":  time.Now().AddDate(1, 0, 0),
		"clock_year_behind": time.Now().AddDate(-1, 0, 0),
	}
	for name, open := range stores {
		for clock, at := range clocks {
			t.Run(name+"/"+clock, func(t *testing.T) {
				sessionStoreContract(t, open(t), at.UTC().Truncate(time.Microsecond))
			})
		}
	}
}

func sessionStoreContract(t *testing.T, s customers.SessionStore, now time.Time) {
	t.Helper()
	ctx := t.Context()
	app, other := esign.NewID(), esign.NewID()
	mk := func(appID string) customers.Session {
		return customers.Session{TokenHash: rand.Text() + rand.Text(), AppID: appID, CustomerID: esign.NewID(),
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour), PasswordProof: rand.Text(), UserAgent: "Mozilla/5.0 " + rand.Text()}
	}
	listed := func(appID string, at time.Time) map[string]string {
		t.Helper()
		ss, err := s.ListAppSessions(ctx, appID, at)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, x := range ss {
			if x.AppID != appID {
				t.Fatalf("listed %+v for app %s", x, appID)
			}
			out[x.TokenHash] = x.UserAgent
		}
		return out
	}
	a, b, c := mk(app), mk(app), mk(other)
	for _, x := range []customers.Session{a, b, c} {
		if err := s.CreateSession(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetSession(ctx, a.TokenHash, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.AppID != a.AppID || got.CustomerID != a.CustomerID || !got.ExpiresAt.Equal(a.ExpiresAt) || !got.LastSeenAt.Equal(now) ||
		got.PasswordProof != a.PasswordProof {
		t.Fatalf("got %+v, want %+v", got, a)
	}
	if got := listed(app, now); len(got) != 2 || got[a.TokenHash] != a.UserAgent || got[b.TokenHash] != b.UserAgent {
		t.Fatalf("the app's sessions: %v", got)
	}
	if got := listed(app, a.ExpiresAt); len(got) != 0 {
		t.Fatalf("the app's sessions after their expiry: %v", got)
	}
	later := now.Add(time.Minute)
	if err := s.TouchSession(ctx, a.TokenHash, later); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetSession(ctx, a.TokenHash, later); !got.LastSeenAt.Equal(later) {
		t.Fatalf("last seen %v, want %v", got.LastSeenAt, later)
	}
	if _, err := s.GetSession(ctx, a.TokenHash, a.ExpiresAt); !esign.IsKind(err, esign.NotFound) {
		t.Fatalf("expired session: %v, want NotFound", err)
	}
	if _, err := s.GetSession(ctx, "unknown", now); !esign.IsKind(err, esign.NotFound) {
		t.Fatalf("unknown session: %v, want NotFound", err)
	}
	if err := s.RevokeSession(ctx, a.TokenHash); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, a.TokenHash, now); !esign.IsKind(err, esign.NotFound) {
		t.Fatalf("revoked session: %v, want NotFound", err)
	}
	if err := s.TouchSession(ctx, a.TokenHash, later); !esign.IsKind(err, esign.NotFound) {
		t.Fatalf("touch revoked session: %v, want NotFound", err)
	}
	if _, err := s.GetSession(ctx, a.TokenHash, now); !esign.IsKind(err, esign.NotFound) {
		t.Fatalf("touch brought back a revoked session: %v", err)
	}
	if err := s.RevokeSession(ctx, a.TokenHash); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	if got := listed(app, now); len(got) != 1 || got[b.TokenHash] == "" {
		t.Fatalf("the app's sessions after one was revoked: %v", got)
	}
	if err := s.RevokeAppSessions(ctx, app); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, b.TokenHash, now); !esign.IsKind(err, esign.NotFound) {
		t.Fatalf("session of a revoked app: %v, want NotFound", err)
	}
	if _, err := s.GetSession(ctx, c.TokenHash, now); err != nil {
		t.Fatalf("another app's session: %v", err)
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct{ pw, code string }{
		{"Abcdefgh1", "too_short"},
		{"Abcdefghi1", ""},
		{"abcdefghi1", "pattern_mismatch"},
		{"ABCDEFGHI1", "pattern_mismatch"},
		{"Abcdefghij", "pattern_mismatch"},
		{"Abcdefghi1\x00", "pattern_mismatch"},
		{"Árvíztűrő1tükörfúrógép", ""},
		{"A1" + string(make([]byte, 0)) + "bcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz", "too_long"},
		{"\xff\xfeAbcdefgh1", "pattern_mismatch"},
	}
	for _, tt := range tests {
		err := customers.CheckPassword(tt.pw)
		if esign.ErrorCode(err) != tt.code {
			t.Errorf("CheckPassword(%q) = %v, want code %q", tt.pw, err, tt.code)
		}
	}
}

func TestRegisterRateLimit(t *testing.T) {
	e := customerstest.New(t, customerstest.OpenDB(t, "sqlite"), nil, customers.Config{RegisterPerIP: notify.Limit{N: 3, Per: time.Hour}}, nil)
	ctx := t.Context()
	m := customers.Meta{IP: "192.0.2.1"}
	for range 3 {
		if _, err := e.Svc.RegisterApp(ctx, customers.Registration{DeviceID: "1", OS: "ios"}, m); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.Svc.RegisterApp(ctx, customers.Registration{DeviceID: "1", OS: "ios"}, m)
	wantCode(t, err, esign.TooMany, "rate_limited")
	if _, err := e.Svc.RegisterApp(ctx, customers.Registration{DeviceID: "1", OS: "ios"}, customers.Meta{IP: "192.0.2.2"}); err != nil {
		t.Fatalf("another address: %v", err)
	}
	apps, err := e.DB.ListApps(ctx, esign.AppFilter{})
	if err != nil || len(apps) != 4 {
		t.Fatalf("%d apps stored, want 4 (%v)", len(apps), err)
	}
}

// TestClientErrorLimits: one app cannot flood the client error log, the
// whole system stores a bounded number a day, and long fields are cut.
func TestClientErrorLimits(t *testing.T) {
	e := customerstest.New(t, customerstest.OpenDB(t, "sqlite"), nil, customers.Config{
		ClientErrorsPerApp: notify.Limit{N: 2, Per: 10 * time.Minute}, ClientErrorsPerDay: notify.Limit{N: 3, Per: 24 * time.Hour}}, nil)
	ctx := t.Context()
	a, b := register(t, e), register(t, e)
	report := func(app *esign.App, msg string) error {
		return e.Svc.ReportClientError(ctx, app, customers.ClientError{Message: msg, Stack: strings.Repeat("at f (x.js:1)\n", 5000)},
			customers.Meta{UserAgent: strings.Repeat("é", 400)})
	}
	for i := range 2 {
		if err := report(a, "a"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	err := report(a, "a2")
	wantCode(t, err, esign.TooMany, "rate_limited")
	if d := esign.ErrorRetryAfter(err); d <= 0 || d > 10*time.Minute {
		t.Errorf("retry after %v, want the app's window", d)
	}
	if err := report(b, "b0"); err != nil {
		t.Fatalf("another app: %v", err)
	}
	e.Clock.Advance(11 * time.Minute)
	wantCode(t, report(b, "b1"), esign.TooMany, "rate_limited") // the day's cap of 3 is reached
	logs, err := e.DB.ListClientErrorLogs(ctx, esign.ClientErrorLogFilter{})
	if err != nil || len(logs) != 3 {
		t.Fatalf("%d reports stored (%v), want 3", len(logs), err)
	}
	for _, l := range logs {
		if len(l.Stack) > 16<<10 || len(l.UserAgent) > 512 || !utf8.ValidString(l.UserAgent) {
			t.Errorf("stored stack %d bytes, user agent %d bytes (valid UTF-8: %v)", len(l.Stack), len(l.UserAgent), utf8.ValidString(l.UserAgent))
		}
	}
}

// TestMinAppVersion: with the setting app.min_version, an older app is
// refused at registration (app_outdated); the same or a newer one, and an
// app whose version cannot be read, register.
func TestMinAppVersion(t *testing.T) {
	e := customerstest.New(t, customerstest.OpenDB(t, "sqlite"), nil, customers.Config{}, nil)
	ctx := t.Context()
	register := func(v string) error {
		_, err := e.Svc.RegisterApp(ctx, customers.Registration{DeviceID: "1", OS: "android", AppVersion: v}, customers.Meta{IP: "192.0.2.9"})
		return err
	}
	if err := register("0.1.0"); err != nil {
		t.Fatalf("without the setting: %v", err)
	}
	if _, err := e.DB.PutSetting(ctx, customers.SettingMinAppVersion, "1.4.0", ""); err != nil {
		t.Fatal(err)
	}
	for v, ok := range map[string]bool{"1.3.9": false, "1.4": true, "1.4.0": true, "1.10.0": true, "2": true, "0.9.9-beta": false,
		"1.4.0+42": true, "": true, "nightly": true} {
		err := register(v)
		if ok && err != nil {
			t.Errorf("version %q refused: %v", v, err)
		}
		if !ok {
			wantCode(t, err, esign.Invalid, "app_outdated")
		}
	}
	if _, err := e.DB.PutSetting(ctx, customers.SettingMinAppVersion, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := register("0.1.0"); err != nil {
		t.Fatalf("with the setting emptied: %v", err)
	}
}
