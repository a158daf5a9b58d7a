package adminui_test

import (
	"context"
	"html"
	"net/url"
	"strings"
	"testing"

	"esign/internal/esign"
	"esign/internal/offers"
	"esign/internal/pdf/pdftest"
)

// TestHookOutcomes: the operator sees why the bank's hooks stopped
// something — a vetoed offer's reason and the data a hook added on the
// offer's page, a held approval's reason on the customer's page.
func TestHookOutcomes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.signIn(t, "reader", esign.RoleOperator).english()
	cust := e.Customer(t, "Fekete Gábor")
	doc := e.Document(t, cust.ID, "a.pdf", pdftest.Minimal(1))
	o := e.Offer(t, cust.ID, "Jelzálog", doc.ID)
	reason := offers.VetoPrefix + "the credit limit of the customer is exceeded"
	if _, err := e.DB.UpdateOfferState(ctx, o.ID, o.Version, esign.OfferRevoked, reason); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.SQL().ExecContext(ctx, `UPDATE offer SET hook_data = ? WHERE id = ?`, `{"branch":"042"}`, o.ID); err != nil {
		t.Fatal(err)
	}
	resp, body := c.do("GET", "/offers/"+o.ID, nil)
	body = html.UnescapeString(body)
	if resp.StatusCode != 200 || !strings.Contains(body, reason) || !strings.Contains(body, `{"branch":"042"}`) {
		t.Fatalf("offer page: %d\n%s", resp.StatusCode, body)
	}

	if err := e.DB.CreateActivity(ctx, &esign.Activity{CustomerID: cust.ID, Kind: "customer.approval_vetoed",
		Detail: "KYC documents missing"}); err != nil {
		t.Fatal(err)
	}
	resp, body = c.do("GET", "/customers/"+url.PathEscape(cust.ID), nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Approval held by the bank&#39;s rules") ||
		!strings.Contains(body, "KYC documents missing") {
		t.Fatalf("customer page: %d\n%s", resp.StatusCode, body)
	}
}
