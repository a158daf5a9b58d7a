package customers_test

import (
	"context"
	"testing"
	"time"

	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/password"
)

// webCustomer makes a customer with a username and the password
// "Web-Passw0rd-1", as if they had set them up in the app.
func webCustomer(t *testing.T, e *customerstest.Env) (*esign.Customer, string) {
	t.Helper()
	c := e.Customer(t, "Web")
	hash, err := password.Hash("Web-Passw0rd-1")
	if err != nil {
		t.Fatal(err)
	}
	user := "web-" + c.ID[:8]
	if _, err := e.DB.UpdateCustomer(context.Background(), c.ID, esign.CustomerUpdate{Username: &user, PasswordHash: &hash}); err != nil {
		t.Fatal(err)
	}
	return c, user
}

// TestWebSessions: a new web sign-in ends the customer's older web session
// unless parallel web sessions are allowed (mobile.web_sessions).
func TestWebSessions(t *testing.T) {
	for _, tt := range []struct {
		name      string
		parallel  bool
		firstLive bool
	}{{"end_older", false, false}, {"allow", true, true}} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := customerstest.New(t, customerstest.OpenDB(t, "sqlite"), nil, customers.Config{ParallelWebSessions: tt.parallel}, nil)
			c, user := webCustomer(t, e)
			m := customers.Meta{IP: "198.51.100.1"}
			if _, err := e.Svc.WebLogin(ctx, user, "wrong-Passw0rd", m); esign.ErrorCode(err) != "invalid_credentials" {
				t.Fatalf("wrong password: %v", err)
			}
			first, err := e.Svc.WebLogin(ctx, user, "Web-Passw0rd-1", m)
			if err != nil {
				t.Fatal(err)
			}
			second, err := e.Svc.WebLogin(ctx, user, "Web-Passw0rd-1", m)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Svc.AuthenticateSession(ctx, second.SessionToken); err != nil {
				t.Fatalf("the new session: %v", err)
			}
			_, err = e.Svc.AuthenticateSession(ctx, first.SessionToken)
			if live := err == nil; live != tt.firstLive {
				t.Errorf("the older session live = %v (%v), want %v", live, err, tt.firstLive)
			}
			apps, err := e.DB.ListApps(ctx, esign.AppFilter{CustomerID: c.ID})
			if err != nil || len(apps) != 1 || apps[0].Platform != customers.WebPlatform {
				t.Errorf("web app records: %+v, %v", apps, err)
			}
		})
	}
}

// TestEndWebSession: with parallel web sessions, a session lists the
// customer's others (with their browser) and ends one; its own cannot be
// ended this way.
func TestEndWebSession(t *testing.T) {
	ctx := context.Background()
	e := customerstest.New(t, customerstest.OpenDB(t, "sqlite"), nil, customers.Config{ParallelWebSessions: true}, nil)
	_, user := webCustomer(t, e)
	first, err := e.Svc.WebLogin(ctx, user, "Web-Passw0rd-1", customers.Meta{IP: "198.51.100.1", UserAgent: "Firefox/140"})
	if err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Minute)
	second, err := e.Svc.WebLogin(ctx, user, "Web-Passw0rd-1", customers.Meta{IP: "198.51.100.2", UserAgent: "Chrome/140"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Svc.AuthenticateSession(ctx, second.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := e.Svc.WebSessions(ctx, p)
	if err != nil || len(ws) != 2 || !ws[0].Current || ws[0].UserAgent != "Chrome/140" || ws[1].Current || ws[1].UserAgent != "Firefox/140" {
		t.Fatalf("web sessions %+v, %v", ws, err)
	}
	if err := e.Svc.EndWebSession(ctx, p, ws[0].ID, customers.Meta{}); esign.ErrorCode(err) != "current" {
		t.Errorf("ending its own session: %v", err)
	}
	if err := e.Svc.EndWebSession(ctx, p, "nosuchsession", customers.Meta{}); !esign.IsKind(err, esign.NotFound) {
		t.Errorf("ending an unknown session: %v", err)
	}
	if err := e.Svc.EndWebSession(ctx, p, ws[1].ID, customers.Meta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.AuthenticateSession(ctx, first.SessionToken); err == nil {
		t.Error("the ended session still works")
	}
	if ws, err := e.Svc.WebSessions(ctx, p); err != nil || len(ws) != 1 {
		t.Errorf("after ending one: %+v, %v", ws, err)
	}
	// Past the idle expiry a session is no longer listed.
	e.Clock.Advance(customers.DefaultConfig().SessionIdle + time.Minute)
	if ws, err := e.Svc.WebSessions(ctx, p); err != nil || len(ws) != 0 {
		t.Errorf("after the idle expiry: %+v, %v", ws, err)
	}
}
