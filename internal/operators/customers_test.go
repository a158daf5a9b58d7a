package operators_test

import (
	"context"
	"testing"

	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/offers"
	"esign/internal/operators"
	"esign/internal/operators/operatorstest"
)

// TestCustomerDetail: the customer's page gathers the customer's offers,
// contracts and activity; block and unblock go through the customer
// service; bootstrap through the offers service.
func TestCustomerDetail(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		e := operatorstest.New(t, driver, nil, operators.Config{})
		ctx := context.Background()
		_, pw := e.User(t, "olga", esign.RoleOperator)
		p, err := e.Ops.Authenticate(ctx, e.SignIn(t, "olga", pw).Token)
		if err != nil {
			t.Fatal(err)
		}
		c, err := e.Ops.BootstrapCustomer(ctx, offers.NewCustomer{ExternalRef: "C-77", Name: "Varga Ilona", Phone: "+36305556677"})
		if err != nil {
			t.Fatal(err)
		}
		doc := e.Document(t, c.ID, "offer.pdf", []byte("%PDF-1.7"))
		o := e.Offer(t, c.ID, "Mortgage", doc.ID)
		sealed := e.Document(t, c.ID, "sealed.pdf", []byte("%PDF-1.7"))
		k := e.Contract(t, c.ID, "Mortgage", sealed.ID)
		if err := e.Ops.SendAssociationCode(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Ops.BlockCustomer(ctx, p, c.ID); err != nil {
			t.Fatal(err)
		}
		d, err := e.Ops.Customer(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Customer.Status != esign.CustomerBlocked || len(d.Offers) != 1 || d.Offers[0].ID != o.ID ||
			len(d.Contracts) != 1 || d.Contracts[0].ID != k.ID || len(d.Activities) != 1 || d.Activities[0].Kind != "customer.blocked" {
			t.Fatalf("customer page %+v", d)
		}
		if err := e.Ops.SendAssociationCode(ctx, c.ID); !esign.IsKind(err, esign.Forbidden) {
			t.Fatalf("association code to a blocked customer: %v", err)
		}
		if _, err := e.Ops.UnblockCustomer(ctx, p, c.ID); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"x", esign.NewID()} {
			if _, err := e.Ops.Customer(ctx, id); !esign.IsKind(err, esign.NotFound) {
				t.Errorf("customer %q: %v", id, err)
			}
			if _, err := e.Ops.BlockCustomer(ctx, p, id); !esign.IsKind(err, esign.NotFound) {
				t.Errorf("block %q: %v", id, err)
			}
		}
		if _, err := e.Ops.BootstrapCustomer(ctx, offers.NewCustomer{ExternalRef: "C-78", Name: "No Contact"}); !esign.IsKind(err, esign.Invalid) {
			t.Errorf("bootstrap without contact: %v", err)
		}
	})
}
