package customers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"esign/customize"
	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/hooks"
)

// TestApprovalHook: the bank's customer_registered hook vetoes an approval
// (the customer stays pending, the activity says why) and lets the next
// one through; a refused offer reaches the offer_ended hook.
func TestApprovalHook(t *testing.T) {
	var reg customize.Registry
	calls := 0
	reg.RegisterCustomerRegistered(func(ctx context.Context, p customize.CustomerRegistered) (customize.Answer, error) {
		calls++
		if p.Name != "Tóth Dénes" || p.CustomerID == "" {
			t.Errorf("payload %+v", p)
		}
		if calls == 1 {
			return customize.Answer{Veto: true, Reason: "KYC documents missing"}, nil
		}
		return customize.Answer{}, nil
	})
	ended := make(chan customize.OfferEnded, 1)
	reg.RegisterOfferEnded(func(ctx context.Context, p customize.OfferEnded) error {
		ended <- p
		return nil
	})
	runner := hooks.New(hooks.Config{Timeout: time.Second}, &reg)
	e := customerstest.New(t, customerstest.OpenDB(t, "sqlite"), nil, customers.Config{}, nil,
		func(d *customers.Deps) { d.Hooks = runner })
	ctx := t.Context()
	c := e.Customer(t, "Tóth Dénes")
	_, err := e.Svc.Approve(ctx, c.ID, "")
	wantCode(t, err, esign.Forbidden, "approval_vetoed")
	if !strings.Contains(esign.ErrorMessage(err), "KYC documents missing") {
		t.Fatalf("message %q", esign.ErrorMessage(err))
	}
	got, _ := e.DB.GetCustomer(ctx, c.ID)
	if got.Status != esign.CustomerPending {
		t.Fatalf("status %s after a veto", got.Status)
	}
	acts, err := e.DB.ListActivities(ctx, esign.ActivityFilter{CustomerID: c.ID, Kind: "customer.approval_vetoed"})
	if err != nil || len(acts) != 1 || acts[0].Detail != "KYC documents missing" {
		t.Fatalf("activities %v, %v", acts, err)
	}
	approved, err := e.Svc.Approve(ctx, c.ID, "")
	if err != nil || approved.Status != esign.CustomerActive {
		t.Fatalf("second approval: %v", err)
	}

	doc := e.Document(t, c.ID, "a.pdf", []byte("%PDF-1.4"))
	o := e.Offer(t, c.ID, "Számlanyitás", doc.ID)
	if _, err := e.Svc.RefuseOffer(ctx, &customers.Principal{Customer: approved}, o.ID, "not now", customers.Meta{}); err != nil {
		t.Fatal(err)
	}
	runner.Wait()
	select {
	case p := <-ended:
		if p.OfferID != o.ID || p.State != "refused" || p.Reason != "not now" {
			t.Fatalf("offer_ended %+v", p)
		}
	default:
		t.Fatal("offer_ended was not told")
	}
}
