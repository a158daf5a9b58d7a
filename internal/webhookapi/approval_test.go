package webhookapi

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/notify"
	"esign/internal/pdf/pdftest"
)

// TestUploadHeldUntilApproval (issue 16): an offer for a customer whose
// account waits for the bank's approval is accepted, but its notification
// is held until the approval (the offer is shown only then); a pending
// customer without an account is notified at once (the link is where they
// make it); a held offer revoked meanwhile is not announced.
func TestUploadHeldUntilApproval(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver)
		ctx := t.Context()
		exp := e.Clock.Now().Add(time.Hour)
		upload := func(ref, title string) OfferJSON {
			t.Helper()
			r := e.json(t, "/offer/upload", uploadBody(ref, title, exp, pdftest.Minimal(1)), nil)
			if r.status != http.StatusCreated {
				t.Fatalf("upload %s: %d %s", title, r.status, r.body)
			}
			var o OfferJSON
			json.Unmarshal(r.body, &o)
			return o
		}
		announced := func(offerID string) int {
			n := 0
			for _, x := range e.Queue.All() {
				if x.Kind == notify.OfferAvailable && x.Data["offerId"] == offerID {
					n++
				}
			}
			return n
		}

		// No account yet: notified at once.
		fresh := e.Customer(t, "Fehér Ilona")
		if o := upload(fresh.ExternalRef, "fresh"); o.State != string(esign.OfferNotified) || announced(o.ID) != 1 {
			t.Fatalf("pending customer without an account: state %s, %d notifications", o.State, announced(o.ID))
		}

		// An account waiting for approval: held.
		c := e.Customer(t, "Tóth Gábor")
		user := "toth.gabor"
		if _, err := e.DB.UpdateCustomer(ctx, c.ID, esign.CustomerUpdate{Username: &user}); err != nil {
			t.Fatal(err)
		}
		held := upload(c.ExternalRef, "held")
		revoked := upload(c.ExternalRef, "revoked")
		if held.State != string(esign.OfferCreated) || announced(held.ID) != 0 || announced(revoked.ID) != 0 {
			t.Fatalf("awaiting approval: state %s, %d notifications", held.State, announced(held.ID))
		}
		if r := e.json(t, "/offer/revoke", map[string]string{"customer_ref": c.ExternalRef, "offer_id": revoked.ID}, nil); r.status != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		// A channel without an address is refused at once, held or not.
		b := uploadBody(c.ExternalRef, "no email", exp, pdftest.Minimal(1))
		b["channel"] = "email"
		if r := e.json(t, "/offer/upload", b, nil); r.status != http.StatusBadRequest || r.code() != "no_recipient" {
			t.Fatalf("held upload to a channel without address: %d %s", r.status, r.body)
		}

		if r := e.json(t, "/customer/approve", map[string]string{"customer_ref": c.ExternalRef}, nil); r.status != http.StatusOK {
			t.Fatalf("approve: %d %s", r.status, r.body)
		}
		if announced(held.ID) != 1 || announced(revoked.ID) != 0 {
			t.Fatalf("after approval: %d notifications of the held offer, %d of the revoked one", announced(held.ID), announced(revoked.ID))
		}
		o, err := e.DB.GetOffer(ctx, held.ID)
		if err != nil || o.State != esign.OfferNotified {
			t.Fatalf("held offer after approval: %+v %v", o, err)
		}
		// Approved: the next offer is notified at once.
		if o := upload(c.ExternalRef, "after"); o.State != string(esign.OfferNotified) || announced(o.ID) != 1 {
			t.Fatalf("approved customer: state %s, %d notifications", o.State, announced(o.ID))
		}
	})
}
