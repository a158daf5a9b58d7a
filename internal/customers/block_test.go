package customers_test

import (
	"testing"

	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
)

// TestBlock: blocking ends every session of the customer and refuses the
// next request; unblocking restores the status the customer had.
func TestBlock(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		e := customerstest.New(t, customerstest.OpenDB(t, driver), nil, customers.Config{}, nil)
		ctx := t.Context()
		c := e.Customer(t, "Kiss Anna")
		app := associated(t, e, c)
		const pw = "Correct-horse-42"
		if err := e.Svc.CreateCredentials(ctx, app, "anna", pw, customers.Meta{}); err != nil {
			t.Fatal(err)
		}
		in, err := e.Svc.Login(ctx, app, "anna", pw, customers.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if ss, err := e.Svc.CustomerSessions(ctx, c.ID); err != nil || len(ss) != 1 {
			t.Fatalf("sessions before the block: %v, %v", ss, err)
		}

		got, err := e.Svc.Block(ctx, c.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != esign.CustomerBlocked {
			t.Fatalf("status after the block %q", got.Status)
		}
		if ss, err := e.Svc.CustomerSessions(ctx, c.ID); err != nil || len(ss) != 0 {
			t.Fatalf("sessions after the block: %v, %v", ss, err)
		}
		_, err = e.Svc.AuthenticateSession(ctx, in.SessionToken)
		wantCode(t, err, esign.Unauthorized, "invalid_token")
		_, err = e.Svc.Block(ctx, c.ID, "")
		wantCode(t, err, esign.Conflict, "already_blocked")
		_, err = e.Svc.Login(ctx, app, "anna", pw, customers.Meta{})
		if err == nil {
			t.Fatal("a blocked customer signed in")
		}

		got, err = e.Svc.Unblock(ctx, c.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != esign.CustomerPending { // never approved
			t.Fatalf("status after the unblock %q, want pending", got.Status)
		}
		_, err = e.Svc.Unblock(ctx, c.ID, "")
		wantCode(t, err, esign.Conflict, "not_blocked")

		e.Approve(t, c)
		if _, err := e.Svc.Block(ctx, c.ID, ""); err != nil {
			t.Fatal(err)
		}
		if got, err = e.Svc.Unblock(ctx, c.ID, ""); err != nil || got.Status != esign.CustomerActive {
			t.Fatalf("unblock of an approved customer: %v, %v", got, err)
		}
		acts, err := e.DB.ListActivities(ctx, esign.ActivityFilter{CustomerID: c.ID, Kind: "customer.blocked"})
		if err != nil || len(acts) != 2 {
			t.Fatalf("block activities %d, %v", len(acts), err)
		}
		_, err = e.Svc.Block(ctx, esign.NewID(), "")
		if !esign.IsKind(err, esign.NotFound) {
			t.Fatalf("block of an unknown customer: %v", err)
		}
	})
}
