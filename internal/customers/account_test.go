package customers_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/geo"
	"esign/internal/notify"
	"esign/internal/password"
)

// linkFor stores a short link to a new offer of c and returns its code.
func linkFor(tb testing.TB, e *customerstest.Env, c *esign.Customer) string {
	tb.Helper()
	o := e.Offer(tb, c.ID, "Offer")
	code := strings.ToLower(rand.Text()[:12])
	if err := e.DB.CreateShortener(context.Background(), &esign.Shortener{Code: code, TargetURL: "/o/" + o.ID,
		ExpiresAt: o.ExpiresAt}); err != nil {
		tb.Fatal(err)
	}
	return code
}

// webCode sends the account code of the link and returns it from the SMS.
func webCode(tb testing.TB, e *customerstest.Env, c *esign.Customer, link string, m customers.Meta) string {
	tb.Helper()
	a, err := e.Svc.SendWebAccountCode(context.Background(), link, m)
	if err != nil {
		tb.Fatal(err)
	}
	n := e.Queue.Last(tb, notify.AccountCode)
	if n.To != c.Phone || len(n.Params.Code) != 6 || a.PhoneHint != notify.MaskPhone(c.Phone) || !a.ExpiresAt.Equal(n.Params.ExpiresAt) {
		tb.Fatalf("SMS to %q, code %q, hint %q", n.To, n.Params.Code, a.PhoneHint)
	}
	return n.Params.Code
}

// webUser is a username unique to the customer.
func webUser(c *esign.Customer) string { return "web-" + c.ID[len(c.ID)-12:] }

func wantAttemptsLeft(tb testing.TB, err error, left int) {
	tb.Helper()
	wantCode(tb, err, esign.Invalid, "invalid_code")
	if n, ok := esign.ErrorAttemptsLeft(err); !ok || n != left {
		tb.Fatalf("attempts left %d (%v), want %d", n, ok, left)
	}
}

// TestWebAccount: a customer without an account creates one from the
// offer's short link — the SMS code to the registered phone, the app's
// username and password rules, the code's attempts and expiry — and is
// signed in, still waiting for approval like after the app's onboarding.
func TestWebAccount(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		db := customerstest.OpenDB(t, driver)
		const pw = "New-Passw0rd-1"
		m := customers.Meta{IP: "198.51.100.7", UserAgent: "test"}
		tests := []struct {
			name string
			run  func(t *testing.T, e *customerstest.Env, c *esign.Customer, link string)
		}{
			{"created_and_signed_in", func(t *testing.T, e *customerstest.Env, c *esign.Customer, link string) {
				ctx := t.Context()
				a, err := e.Svc.WebAccountStart(ctx, link, m)
				if err != nil || a.PhoneHint != notify.MaskPhone(c.Phone) || strings.Contains(a.PhoneHint, c.Phone[4:9]) {
					t.Fatalf("start: %+v, %v", a, err)
				}
				_, err = e.Svc.CreateWebAccount(ctx, link, "123456", webUser(c), pw, m)
				wantAttemptsLeft(t, err, 0) // no code sent yet
				code := webCode(t, e, c, link, m)
				// The rules come first: a typo there costs no attempt.
				_, err = e.Svc.CreateWebAccount(ctx, link, code, "ab", pw, m)
				wantCode(t, err, esign.Invalid, "username_too_short")
				_, err = e.Svc.CreateWebAccount(ctx, link, code, "web user", pw, m)
				wantCode(t, err, esign.Invalid, "username_pattern_mismatch")
				_, err = e.Svc.CreateWebAccount(ctx, link, code, webUser(c), "alllowercase1", m)
				wantCode(t, err, esign.Invalid, "password_pattern_mismatch")
				_, err = e.Svc.CreateWebAccount(ctx, link, code, webUser(c), "Sh0rt", m)
				wantCode(t, err, esign.Invalid, "password_too_short")
				other := e.Customer(t, "Other")
				taken := "taken" + webUser(other)
				if _, err := e.DB.UpdateCustomer(ctx, other.ID, esign.CustomerUpdate{Username: &taken, PasswordHash: &taken}); err != nil {
					t.Fatal(err)
				}
				_, err = e.Svc.CreateWebAccount(ctx, link, code, taken, pw, m)
				wantCode(t, err, esign.Conflict, "username_unavailable")
				_, err = e.Svc.CreateWebAccount(ctx, link, customerstest.WrongCode(code), webUser(c), pw, m)
				wantAttemptsLeft(t, err, 4)

				in, err := e.Svc.CreateWebAccount(ctx, link, code, webUser(c), pw, m)
				if err != nil {
					t.Fatal(err)
				}
				if in.Customer.Username != webUser(c) || in.Customer.Status != esign.CustomerPending {
					t.Errorf("customer after creation: %+v", in.Customer)
				}
				p, err := e.Svc.AuthenticateSession(ctx, in.SessionToken)
				if err != nil || p.Approved() || p.App.Platform != customers.WebPlatform {
					t.Fatalf("the new session: %+v, %v", p, err)
				}
				stored, err := e.DB.GetCustomer(ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := password.Verify(pw, stored.PasswordHash); err != nil {
					t.Errorf("the stored password does not verify: %v", err)
				}
				acts, err := e.DB.ListActivities(ctx, esign.ActivityFilter{CustomerID: c.ID, Kind: "customer.created"})
				if err != nil || len(acts) != 1 || acts[0].Detail != `{"web":true}` || acts[0].IP != m.IP {
					t.Errorf("customer.created activities: %+v, %v", acts, err)
				}
				// Done once: the link now leads to the sign-in.
				_, err = e.Svc.CreateWebAccount(ctx, link, code, "2"+webUser(c), pw, m)
				wantCode(t, err, esign.Conflict, "already_created")
				_, err = e.Svc.WebAccountStart(ctx, link, m)
				wantCode(t, err, esign.Conflict, "already_created")
				// Approval is the operator's, as for the app.
				e.Approve(t, c)
				if p, err = e.Svc.AuthenticateSession(ctx, in.SessionToken); err != nil || !p.Approved() {
					t.Fatalf("after approval: %+v, %v", p, err)
				}
			}},
			{"five_wrong_codes_kill_it", func(t *testing.T, e *customerstest.Env, c *esign.Customer, link string) {
				code := webCode(t, e, c, link, m)
				for left := 4; left >= 0; left-- {
					_, err := e.Svc.CreateWebAccount(t.Context(), link, customerstest.WrongCode(code), webUser(c), pw, m)
					wantAttemptsLeft(t, err, left)
				}
				_, err := e.Svc.CreateWebAccount(t.Context(), link, code, webUser(c), pw, m)
				wantCode(t, err, esign.Invalid, "invalid_code")
				// A new code starts again.
				code = webCode(t, e, c, link, m)
				if _, err := e.Svc.CreateWebAccount(t.Context(), link, code, webUser(c), pw, m); err != nil {
					t.Fatal(err)
				}
			}},
			{"code_expires", func(t *testing.T, e *customerstest.Env, c *esign.Customer, link string) {
				code := webCode(t, e, c, link, m)
				e.Clock.Advance(5*time.Minute + time.Second)
				_, err := e.Svc.CreateWebAccount(t.Context(), link, code, webUser(c), pw, m)
				wantCode(t, err, esign.Invalid, "invalid_code")
			}},
			{"resend_replaces", func(t *testing.T, e *customerstest.Env, c *esign.Customer, link string) {
				first := webCode(t, e, c, link, m)
				second := webCode(t, e, c, link, m)
				if first != second {
					_, err := e.Svc.CreateWebAccount(t.Context(), link, first, webUser(c), pw, m)
					wantCode(t, err, esign.Invalid, "invalid_code")
				}
				if _, err := e.Svc.CreateWebAccount(t.Context(), link, second, webUser(c), pw, m); err != nil {
					t.Fatal(err)
				}
			}},
			{"not_an_app_pairing_code", func(t *testing.T, e *customerstest.Env, c *esign.Customer, link string) {
				code := webCode(t, e, c, link, m)
				app := register(t, e)
				_, err := e.Svc.Associate(t.Context(), app, c.Phone, code, customers.Meta{})
				wantCode(t, err, esign.Invalid, "invalid_code")
				appCode := sendCode(t, e, c)
				_, err = e.Svc.CreateWebAccount(t.Context(), link, appCode, webUser(c), pw, m)
				wantCode(t, err, esign.Invalid, "invalid_code")
			}},
			{"sends_are_capped", func(t *testing.T, e *customerstest.Env, c *esign.Customer, link string) {
				for range 5 {
					webCode(t, e, c, link, m)
				}
				_, err := e.Svc.SendWebAccountCode(t.Context(), link, m)
				wantCode(t, err, esign.TooMany, "sms_limit")
			}},
			{"unknown_expired_or_blocked", func(t *testing.T, e *customerstest.Env, c *esign.Customer, link string) {
				ctx := t.Context()
				for _, code := range []string{"", "nosuchlink00", strings.Repeat("x", 40)} {
					if _, err := e.Svc.WebAccountStart(ctx, code, m); !esign.IsKind(err, esign.NotFound) {
						t.Fatalf("link %q: %v", code, err)
					}
				}
				e.Clock.Advance(8 * 24 * time.Hour) // past the offer and its link
				_, err := e.Svc.SendWebAccountCode(ctx, link, m)
				if !esign.IsKind(err, esign.NotFound) {
					t.Fatalf("expired link: %v", err)
				}
				other := e.Customer(t, "Blocked")
				blockedLink := linkFor(t, e, other)
				st := esign.CustomerBlocked
				if _, err := e.DB.UpdateCustomer(ctx, other.ID, esign.CustomerUpdate{Status: &st}); err != nil {
					t.Fatal(err)
				}
				_, err = e.Svc.SendWebAccountCode(ctx, blockedLink, m)
				wantCode(t, err, esign.Forbidden, "customer_inactive")
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := customerstest.New(t, db, nil, customers.Config{}, nil)
				c := e.Customer(t, "Web Account")
				tt.run(t, e, c, linkFor(t, e, c))
			})
		}
	})
}

// TestWebAccountRateLimit: the link's account operations are limited per
// client address.
func TestWebAccountRateLimit(t *testing.T) {
	e := customerstest.New(t, customerstest.OpenDB(t, "sqlite"), nil, customers.Config{RegisterPerIP: notify.Limit{N: 3, Per: time.Hour}}, nil)
	c := e.Customer(t, "Limited")
	link := linkFor(t, e, c)
	m := customers.Meta{IP: "203.0.113.9"}
	for range 3 {
		if _, err := e.Svc.WebAccountStart(t.Context(), link, m); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.Svc.CreateWebAccount(t.Context(), link, "123456", "web-user", "New-Passw0rd-1", m)
	wantCode(t, err, esign.TooMany, "rate_limited")
	if _, err := e.Svc.WebAccountStart(t.Context(), link, customers.Meta{IP: "203.0.113.10"}); err != nil {
		t.Errorf("another address: %v", err)
	}
}

// TestActivityLocation: each activity records the client address and the
// place the configured MaxMind DB file gives for it; without a file, or
// for an address it does not map, "unknown"; without a client, nothing.
func TestActivityLocation(t *testing.T) {
	gdb, err := geo.OpenFile(filepath.Join("..", "geo", "testdata", "city.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	customerstest.Engines(t, func(t *testing.T, driver string) {
		db := customerstest.OpenDB(t, driver)
		for _, tt := range []struct {
			name string
			loc  customers.Locator
			ip   string
			want string
		}{
			{"mapped", geo.NewLocator(gdb), "192.0.2.10", "Budapest, HU"},
			{"country_only", geo.NewLocator(gdb), "198.51.100.1", "DE"},
			{"not_in_the_file", geo.NewLocator(gdb), "10.1.2.3", "unknown"},
			{"no_file", nil, "192.0.2.10", "unknown"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				e := customerstest.New(t, db, nil, customers.Config{}, nil, func(d *customers.Deps) { d.Geo = tt.loc })
				c := e.Customer(t, "Located")
				link := linkFor(t, e, c)
				m := e.Svc.Meta(tt.ip, "browser")
				code := webCode(t, e, c, link, m)
				if _, err := e.Svc.CreateWebAccount(t.Context(), link, code, webUser(c), "New-Passw0rd-1", m); err != nil {
					t.Fatal(err)
				}
				e.Approve(t, c)
				acts, err := e.DB.ListActivities(t.Context(), esign.ActivityFilter{CustomerID: c.ID})
				if err != nil || len(acts) != 3 {
					t.Fatalf("activities: %+v, %v", acts, err)
				}
				for _, a := range acts {
					want, ip := tt.want, tt.ip
					if a.Kind == "customer.approved" { // the operator's: no client
						want, ip = "", ""
					}
					if a.Location != want || a.IP != ip {
						t.Errorf("%s: ip %q location %q, want %q %q", a.Kind, a.IP, a.Location, ip, want)
					}
				}
			})
		}
	})
}
