package rpc_test

import (
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/bus"
	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/geo"
	"esign/internal/notify"
	"esign/internal/rpc"
)

// TestAccountRPC: account.start → account.send-code → account.create over
// the bus (in process and RabbitMQ): a customer without an account makes
// one from the offer's short link and is signed in, waiting for approval;
// the activities carry the address css saw and its place.
func TestAccountRPC(t *testing.T) {
	gdb, err := geo.OpenFile(filepath.Join("..", "geo", "testdata", "city.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	transports(t, func(t *testing.T, server, client bus.Bus) {
		ctx := t.Context()
		e := customerstest.New(t, customerstest.OpenDB(t, "sqlite"), nil, customers.Config{}, nil,
			func(d *customers.Deps) { d.Geo = geo.NewLocator(gdb) })
		q := uniqueQueues(t)
		if err := rpc.NewServer(e.Svc, rpc.ServerOptions{}).Serve(ctx, server, q); err != nil {
			t.Fatal(err)
		}
		cl := rpc.NewClient(client, q)
		c := e.Customer(t, "Web Only")
		o := e.Offer(t, c.ID, "Offer")
		link := strings.ToLower(rand.Text()[:12])
		if err := e.DB.CreateShortener(ctx, &esign.Shortener{Code: link, TargetURL: "/o/" + o.ID, ExpiresAt: o.ExpiresAt}); err != nil {
			t.Fatal(err)
		}
		web := rpc.Caller{IP: "192.0.2.44", UserAgent: "browser"}

		a, err := cl.AccountStart(ctx, web, link)
		if err != nil || a.PhoneHint != notify.MaskPhone(c.Phone) || a.ExpiresAt != nil {
			t.Fatalf("start: %+v, %v", a, err)
		}
		_, err = cl.AccountStart(ctx, web, "nosuchlink00")
		wantErr(t, err, esign.NotFound, "")
		_, err = cl.AccountStart(ctx, web, "")
		wantErr(t, err, esign.Invalid, "missing_field")

		sent, err := cl.AccountSendCode(ctx, web, link)
		if err != nil || sent.ExpiresAt == nil || !sent.ExpiresAt.After(e.Clock.Now()) || sent.ExpiresAt.After(e.Clock.Now().Add(5*time.Minute)) {
			t.Fatalf("send code: %+v, %v", sent, err)
		}
		code := e.Queue.Last(t, notify.AccountCode).Params.Code
		req := rpc.AccountCreateRequest{Link: link, Code: customerstest.WrongCode(code), Username: "web-" + rand.Text()[:8], Password: "New-Passw0rd-1"}
		_, err = cl.AccountCreate(ctx, web, req)
		wantErr(t, err, esign.Invalid, "invalid_code")
		if n, ok := esign.ErrorAttemptsLeft(err); !ok || n != 4 {
			t.Errorf("attempts left over the bus: %d, %v", n, ok)
		}
		bad := req
		bad.Code, bad.Password = code, "short"
		_, err = cl.AccountCreate(ctx, web, bad)
		wantErr(t, err, esign.Invalid, "password_too_short")
		bad.Password = ""
		_, err = cl.AccountCreate(ctx, web, bad)
		wantErr(t, err, esign.Invalid, "missing_field")

		req.Code = code
		in, err := cl.AccountCreate(ctx, web, req)
		if err != nil || in.SessionToken == "" || in.Customer.ID != c.ID || in.Customer.Approved || in.Customer.Status != "pending" {
			t.Fatalf("create: %+v, %v", in, err)
		}
		me, err := cl.Me(ctx, rpc.Caller{Token: in.SessionToken})
		if err != nil || me.Username != req.Username || me.KeyAlgorithm != "ecdsa-p256-sha256" {
			t.Fatalf("me: %+v, %v", me, err)
		}
		_, err = cl.AccountStart(ctx, web, link)
		wantErr(t, err, esign.Conflict, "already_created")
		if _, err := cl.WebLogin(ctx, web, req.Username, req.Password); err != nil {
			t.Fatalf("sign-in with the new account: %v", err)
		}
		acts, err := e.DB.ListActivities(ctx, esign.ActivityFilter{CustomerID: c.ID})
		if err != nil || len(acts) < 2 {
			t.Fatalf("activities: %+v, %v", acts, err)
		}
		for _, x := range acts {
			if x.IP != web.IP || x.Location != "Budapest, HU" || x.UserAgent != "browser" {
				t.Errorf("%s: ip %q location %q agent %q", x.Kind, x.IP, x.Location, x.UserAgent)
			}
		}
	})
}
