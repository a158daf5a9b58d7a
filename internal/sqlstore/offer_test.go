package sqlstore

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"esign/internal/esign"
)

func TestOfferCRUD(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		d1 := mkDocument(t, &db.store, c.ID)
		d2 := mkDocument(t, &db.store, c.ID)
		o := &esign.Offer{CustomerID: c.ID, ExternalRef: "LOAN-1", Title: "Loan", ExpiresAt: time.Now().Add(time.Hour)}
		must(t, db.CreateOffer(ctx, o, d2.ID, d1.ID))
		if o.State != esign.OfferCreated || o.Version != 1 || !esign.ValidID(o.ID) {
			t.Fatalf("created offer = %+v", o)
		}
		got, err := db.GetOffer(ctx, o.ID)
		must(t, err)
		if !reflect.DeepEqual(got, o) {
			t.Fatalf("GetOffer = %+v, want %+v", got, o)
		}

		docs, err := db.ListDocuments(ctx, esign.DocumentFilter{OfferID: o.ID})
		must(t, err)
		if len(docs) != 2 || docs[0].ID != d2.ID || docs[1].ID != d1.ID {
			t.Fatalf("offer documents = %v, want d2, d1 in order", docs)
		}
		d3 := mkDocument(t, &db.store, c.ID)
		must(t, db.AddOfferDocument(ctx, o.ID, d3.ID))
		wantKind(t, db.AddOfferDocument(ctx, o.ID, d3.ID), esign.Conflict)
		other := mkCustomer(t, &db.store)
		wantKind(t, db.AddOfferDocument(ctx, o.ID, mkDocument(t, &db.store, other.ID).ID), esign.Invalid)
		must(t, db.RemoveOfferDocument(ctx, o.ID, d1.ID))
		wantKind(t, db.RemoveOfferDocument(ctx, o.ID, d1.ID), esign.NotFound)
		docs, err = db.ListDocuments(ctx, esign.DocumentFilter{OfferID: o.ID})
		must(t, err)
		if len(docs) != 2 || docs[0].ID != d2.ID || docs[1].ID != d3.ID {
			t.Fatalf("offer documents after changes = %v", docs)
		}

		title := "Loan, revised"
		upd, err := db.UpdateOffer(ctx, o.ID, o.Version, esign.OfferUpdate{Title: &title})
		must(t, err)
		if upd.Title != title || upd.Version != 2 {
			t.Fatalf("UpdateOffer = %+v", upd)
		}
		_, err = db.UpdateOffer(ctx, o.ID, o.Version, esign.OfferUpdate{Title: &title})
		wantKind(t, err, esign.Conflict)

		// The same external reference is allowed for another customer only.
		wantKind(t, db.CreateOffer(ctx, &esign.Offer{CustomerID: c.ID, ExternalRef: "LOAN-1", Title: "x", ExpiresAt: time.Now()}), esign.Conflict)
		must(t, db.CreateOffer(ctx, &esign.Offer{CustomerID: other.ID, ExternalRef: "LOAN-1", Title: "x", ExpiresAt: time.Now()}))

		list, err := db.ListOffers(ctx, esign.OfferFilter{CustomerID: c.ID, States: []esign.OfferState{esign.OfferCreated}})
		must(t, err)
		if len(list) != 1 || list[0].ID != o.ID {
			t.Fatalf("ListOffers = %v", list)
		}

		must(t, db.DeleteOffer(ctx, o.ID))
		_, err = db.GetOffer(ctx, o.ID)
		wantKind(t, err, esign.NotFound)
		wantKind(t, db.DeleteOffer(ctx, o.ID), esign.NotFound)
		_, err = db.GetOffer(ctx, "not-a-uuid")
		wantKind(t, err, esign.NotFound)
	})
}

func TestCreateOfferIsAtomic(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		d := mkDocument(t, &db.store, c.ID)
		o := &esign.Offer{CustomerID: c.ID, Title: "Loan", ExpiresAt: time.Now().Add(time.Hour)}
		// The second document does not exist: nothing may be stored.
		wantKind(t, db.CreateOffer(ctx, o, d.ID, esign.NewID()), esign.Invalid)
		list, err := db.ListOffers(ctx, esign.OfferFilter{CustomerID: c.ID})
		must(t, err)
		if len(list) != 0 {
			t.Fatalf("a failed CreateOffer left %d offers", len(list))
		}
	})
}

func TestOfferStateTransitions(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		o := mkOffer(t, &db.store, c.ID)
		path := []esign.OfferState{esign.OfferNotified, esign.OfferOpened, esign.OfferSigning, esign.OfferOpened,
			esign.OfferSigning, esign.OfferSigned}
		for _, to := range path {
			next, err := db.UpdateOfferState(ctx, o.ID, o.Version, to, "")
			must(t, err)
			if next.State != to || next.Version != o.Version+1 || next.StateChangedAt.Before(o.StateChangedAt) {
				t.Fatalf("after → %s: %+v", to, next)
			}
			o = next
		}
		for _, to := range esign.OfferStates {
			_, err := db.UpdateOfferState(ctx, o.ID, o.Version, to, "")
			wantKind(t, err, esign.Invalid)
			if esign.ErrorCode(err) != "offer_state" {
				t.Fatalf("code = %q, want offer_state", esign.ErrorCode(err))
			}
		}
		title := "x"
		_, err := db.UpdateOffer(ctx, o.ID, o.Version, esign.OfferUpdate{Title: &title})
		wantKind(t, err, esign.Invalid)

		refused := mkOffer(t, &db.store, c.ID)
		_, err = db.UpdateOfferState(ctx, refused.ID, refused.Version, esign.OfferSigned, "")
		wantKind(t, err, esign.Invalid)
		r, err := db.UpdateOfferState(ctx, refused.ID, refused.Version, esign.OfferRevoked, "withdrawn by the bank")
		must(t, err)
		if r.StateReason != "withdrawn by the bank" {
			t.Fatalf("reason = %q", r.StateReason)
		}
		_, err = db.UpdateOfferState(ctx, esign.NewID(), 1, esign.OfferNotified, "")
		wantKind(t, err, esign.NotFound)
	})
}

// TestOfferStateRace lets writers race to move the same offer at the same
// version: exactly one wins, every other gets Conflict.
func TestOfferStateRace(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		const writers = 8
		for round := range 5 {
			o := mkOffer(t, &db.store, c.ID)
			targets := []esign.OfferState{esign.OfferNotified, esign.OfferRevoked, esign.OfferExpired}
			var wg sync.WaitGroup
			errs := make([]error, writers)
			start := make(chan struct{})
			for i := range writers {
				wg.Go(func() {
					<-start
					_, errs[i] = db.UpdateOfferState(ctx, o.ID, o.Version, targets[i%len(targets)], "")
				})
			}
			close(start)
			wg.Wait()
			wins := 0
			for _, err := range errs {
				switch {
				case err == nil:
					wins++
				case esign.IsKind(err, esign.Conflict):
				default:
					t.Fatalf("round %d: unexpected error %v", round, err)
				}
			}
			if wins != 1 {
				t.Fatalf("round %d: %d writers won, want exactly 1", round, wins)
			}
			got, err := db.GetOffer(ctx, o.ID)
			must(t, err)
			if got.Version != 2 {
				t.Fatalf("round %d: version = %d, want 2", round, got.Version)
			}
		}
	})
}

func TestExpireOffers(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		past := &esign.Offer{CustomerID: c.ID, Title: "old", ExpiresAt: time.Now().Add(-time.Hour)}
		must(t, db.CreateOffer(ctx, past))
		signedPast := &esign.Offer{CustomerID: c.ID, Title: "old, signed", ExpiresAt: time.Now().Add(-time.Hour)}
		must(t, db.CreateOffer(ctx, signedPast))
		o := signedPast
		for _, to := range []esign.OfferState{esign.OfferNotified, esign.OfferOpened, esign.OfferSigning, esign.OfferSigned} {
			var err error
			o, err = db.UpdateOfferState(ctx, o.ID, o.Version, to, "")
			must(t, err)
		}
		future := mkOffer(t, &db.store, c.ID)

		// An error from the hook rolls the batch back.
		boom := errors.New("boom")
		_, err := db.ExpireOffers(ctx, time.Now(), func(tx *Tx, expired []*esign.Offer) error { return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("ExpireOffers with a failing hook = %v", err)
		}
		got, err := db.GetOffer(ctx, past.ID)
		must(t, err)
		if got.State != esign.OfferCreated {
			t.Fatalf("state after a failed batch = %s", got.State)
		}

		var seen []string
		n, err := db.ExpireOffers(ctx, time.Now(), func(tx *Tx, expired []*esign.Offer) error {
			for _, o := range expired {
				seen = append(seen, o.ID)
				if o.State != esign.OfferExpired {
					t.Errorf("hook got state %s", o.State)
				}
			}
			// the hook writes in the same transaction
			return tx.CreateActivity(ctx, &esign.Activity{CustomerID: c.ID, OfferID: expired[0].ID, Kind: "offer.expired"})
		})
		must(t, err)
		if n != 1 || len(seen) != 1 || seen[0] != past.ID {
			t.Fatalf("ExpireOffers = %d, hook saw %v; want 1 and the past offer", n, seen)
		}
		acts, err := db.ListActivities(ctx, esign.ActivityFilter{OfferID: past.ID})
		must(t, err)
		if len(acts) != 1 {
			t.Fatalf("%d activities written by the hook, want 1", len(acts))
		}
		n, err = db.ExpireOffers(ctx, time.Now(), nil)
		must(t, err)
		if n != 0 {
			t.Fatalf("second ExpireOffers = %d, want 0", n)
		}
		for id, want := range map[string]esign.OfferState{past.ID: esign.OfferExpired, signedPast.ID: esign.OfferSigned, future.ID: esign.OfferCreated} {
			got, err := db.GetOffer(ctx, id)
			must(t, err)
			if got.State != want {
				t.Errorf("offer %s: state %s, want %s", id, got.State, want)
			}
		}
	})
}

func TestInTx(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		boom := errors.New("boom")
		var id string
		err := db.InTx(ctx, func(tx *Tx) error {
			c := mkCustomer(t, &tx.store)
			id = c.ID
			if _, err := tx.GetCustomer(ctx, c.ID); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want boom", err)
		}
		_, err = db.GetCustomer(ctx, id)
		wantKind(t, err, esign.NotFound)

		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("the panic did not propagate")
				}
			}()
			_ = db.InTx(ctx, func(tx *Tx) error {
				id = mkCustomer(t, &tx.store).ID
				panic("boom")
			})
		}()
		_, err = db.GetCustomer(ctx, id)
		wantKind(t, err, esign.NotFound)

		must(t, db.InTx(ctx, func(tx *Tx) error {
			if tx.SQLTx() == nil {
				t.Fatal("SQLTx is nil")
			}
			id = mkCustomer(t, &tx.store).ID
			return nil
		}))
		_, err = db.GetCustomer(ctx, id)
		must(t, err)
	})
}

// TestConcurrentWriters runs many writing transactions at once; on SQLite
// none may fail with SQLITE_BUSY.
func TestConcurrentWriters(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		const workers, each = 8, 15
		var wg sync.WaitGroup
		errs := make(chan error, 2*workers*each)
		for range workers {
			wg.Go(func() {
				for range each {
					errs <- db.InTx(ctx, func(tx *Tx) error {
						// read first, then write: with deferred transactions
						// on SQLite this is where SQLITE_BUSY would appear
						if _, err := tx.ListCustomers(ctx, esign.CustomerFilter{Page: esign.Page{Limit: 5}}); err != nil {
							return err
						}
						c := &esign.Customer{ExternalRef: esign.NewID(), Name: "n"}
						if err := tx.CreateCustomer(ctx, c); err != nil {
							return err
						}
						return tx.CreateActivity(ctx, &esign.Activity{CustomerID: c.ID, Kind: "login"})
					})
					// and a write outside a transaction
					errs <- db.CreateAuditLog(ctx, &esign.AuditLog{ActorType: "system", Action: "test"})
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		list, err := db.ListCustomers(ctx, esign.CustomerFilter{Page: esign.Page{Limit: 1000}})
		must(t, err)
		if len(list) != workers*each {
			t.Fatalf("%d customers, want %d", len(list), workers*each)
		}
	})
}
