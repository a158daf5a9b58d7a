package customers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/notify"
	"esign/internal/shortlink"
)

// TestRenewLink: a link that expired while its offer is open says so
// (link_expired), and asking for a fresh one sends it by SMS to the
// registered phone — limited per offer —, a link that works until
// mobile.link_lifetime; an unknown code, or one of a closed offer, gets
// nothing.
func TestRenewLink(t *testing.T) {
	ctx := context.Background()
	const lifetime = 48 * time.Hour
	e := customerstest.New(t, customerstest.OpenDB(t, "sqlite"), nil,
		customers.Config{LinkLifetime: lifetime, LinkRenewals: notify.Limit{N: 2, Per: 24 * time.Hour}}, nil)
	c := e.Customer(t, "Link")
	o := e.Offer(t, c.ID, "Loan")
	link := func(code string, exp time.Time) {
		t.Helper()
		if err := e.DB.CreateShortener(ctx, &esign.Shortener{Code: code, TargetURL: shortlink.OfferPath(o.ID), ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	m := customers.Meta{IP: "198.51.100.7"}
	link("expiredcode1", e.Clock.Now().Add(-time.Hour))
	if _, err := e.Svc.ResolveLink(ctx, "expiredcode1", m); !esign.IsKind(err, esign.NotFound) || esign.ErrorCode(err) != "link_expired" {
		t.Fatalf("expired link of an open offer: %v", err)
	}
	if _, err := e.Svc.ResolveLink(ctx, "nosuchcode", m); !esign.IsKind(err, esign.NotFound) || esign.ErrorCode(err) == "link_expired" {
		t.Fatalf("unknown link: %v", err)
	}
	if err := e.Svc.RenewLink(ctx, "nosuchcode", m); !esign.IsKind(err, esign.NotFound) {
		t.Fatalf("renewing an unknown link: %v", err)
	}
	if err := e.Svc.RenewLink(ctx, "expiredcode1", m); err != nil {
		t.Fatal(err)
	}
	n := e.Queue.Last(t, notify.OfferAvailable)
	if n.Channel != notify.SMS || n.To != c.Phone || !strings.HasPrefix(n.Params.URL, shortlink.Path) {
		t.Fatalf("fresh link notification %+v", n)
	}
	code := strings.TrimPrefix(n.Params.URL, shortlink.Path)
	if target, err := e.Svc.ResolveLink(ctx, code, m); err != nil || target != shortlink.OfferPath(o.ID) {
		t.Fatalf("the fresh link: %q, %v", target, err)
	}
	xs, err := e.DB.ListShorteners(ctx, esign.ShortenerFilter{Code: code})
	if err != nil || len(xs) != 1 || !xs[0].ExpiresAt.Equal(e.Clock.Now().Add(lifetime)) {
		t.Fatalf("the fresh link's row %+v, %v; want it to expire after %v", xs, err, lifetime)
	}
	if err := e.Svc.RenewLink(ctx, "expiredcode1", m); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.RenewLink(ctx, "expiredcode1", m); !esign.IsKind(err, esign.TooMany) {
		t.Fatalf("a third fresh link within a day: %v", err)
	}
	if got := e.Queue.Count(notify.OfferAvailable); got != 2 {
		t.Fatalf("%d fresh links sent, want 2", got)
	}
	// A closed offer's expired link is just gone.
	if _, err := e.DB.UpdateOfferState(ctx, o.ID, o.Version, esign.OfferRefused, ""); err != nil {
		t.Fatal(err)
	}
	link("expiredcode2", e.Clock.Now().Add(-time.Hour))
	if _, err := e.Svc.ResolveLink(ctx, "expiredcode2", m); esign.ErrorCode(err) == "link_expired" {
		t.Fatalf("expired link of a refused offer: %v", err)
	}
	if err := e.Svc.RenewLink(ctx, "expiredcode2", m); !esign.IsKind(err, esign.NotFound) {
		t.Fatalf("renewing a link of a refused offer: %v", err)
	}
}
