package sqlstore

import (
	"testing"

	"esign/internal/esign"
)

func TestCustomerPushTargets(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		other := &esign.Customer{ExternalRef: "other", Name: "Other"}
		must(t, db.CreateCustomer(ctx, other))
		mkApp := func(token, customerID string, status esign.AppStatus, fcm string) *esign.App {
			a := &esign.App{SessionTokenHash: digest(token)}
			must(t, db.CreateApp(ctx, a))
			if customerID != "" {
				var err error
				a, err = db.UpdateApp(ctx, a.ID, esign.AppUpdate{CustomerID: &customerID, Status: &status})
				must(t, err)
			}
			if fcm != "" {
				must(t, db.CreateFcmInfo(ctx, &esign.FcmInfo{AppID: a.ID, Token: fcm}))
			}
			return a
		}
		a1 := mkApp("t1", c.ID, esign.AppAssociated, "fcm-1")
		mkApp("t2", c.ID, esign.AppAssociated, "")          // no push token
		mkApp("t3", c.ID, esign.AppRemoved, "fcm-3")        // removed
		mkApp("t4", other.ID, esign.AppAssociated, "fcm-4") // someone else's
		a5 := mkApp("t5", c.ID, esign.AppAssociated, "fcm-5")
		got, err := db.CustomerPushTargets(ctx, c.ID)
		must(t, err)
		same(t, "CustomerPushTargets", got, []PushTarget{{a1.ID, "fcm-1"}, {a5.ID, "fcm-5"}})
		// the same with the customer, by reference, in one read
		gc, got, err := db.CustomerByRefWithPushTargets(ctx, c.ExternalRef)
		must(t, err)
		same(t, "CustomerByRefWithPushTargets", got, []PushTarget{{a1.ID, "fcm-1"}, {a5.ID, "fcm-5"}})
		same(t, "CustomerByRefWithPushTargets customer", gc, c)
		third := mkCustomer(t, &db.store)
		gc, got, err = db.CustomerByRefWithPushTargets(ctx, third.ExternalRef)
		must(t, err)
		if len(got) != 0 || gc == nil || gc.ID != third.ID {
			t.Errorf("customer without apps: %+v %v", gc, got)
		}
		if gc, _, err = db.CustomerByRefWithPushTargets(ctx, "no-such-ref"); err != nil || gc != nil {
			t.Errorf("unknown reference: %+v %v", gc, err)
		}
		got, err = db.CustomerPushTargets(ctx, "not-an-id")
		must(t, err)
		if len(got) != 0 {
			t.Errorf("malformed id: %v", got)
		}
	})
}
