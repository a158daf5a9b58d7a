package sqlstore

import (
	"testing"
	"time"

	"esign/internal/esign"
)

func TestSecondFactor(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		u := mkUser(t, &db.store)
		f, err := db.UserSecondFactor(ctx, u.ID)
		must(t, err)
		if f.Enrolled() || f.SecretEnc != nil {
			t.Fatalf("new user has a second factor: %+v", f)
		}
		_, err = db.UserSecondFactor(ctx, esign.NewID())
		wantKind(t, err, esign.NotFound)
		wantKind(t, db.ConfirmSecondFactor(ctx, u.ID, 5, nil), esign.Conflict) // nothing pending

		must(t, db.BeginSecondFactor(ctx, u.ID, []byte("enc-1")))
		must(t, db.BeginSecondFactor(ctx, u.ID, []byte("enc-2"))) // a restarted enrolment replaces the secret
		must(t, db.ConfirmSecondFactor(ctx, u.ID, 100, []string{"h1", "h2"}))
		f, err = db.UserSecondFactor(ctx, u.ID)
		must(t, err)
		if !f.Enrolled() || string(f.SecretEnc) != "enc-2" || f.LastStep != 100 {
			t.Fatalf("after confirm: %+v", f)
		}
		wantKind(t, db.BeginSecondFactor(ctx, u.ID, []byte("enc-3")), esign.Conflict)
		wantKind(t, db.BeginSecondFactor(ctx, esign.NewID(), []byte("x")), esign.NotFound)

		for _, tt := range []struct {
			step int64
			ok   bool
		}{{100, false}, {99, false}, {101, true}, {101, false}, {103, true}, {102, false}} {
			ok, err := db.UseSecondFactorStep(ctx, u.ID, tt.step)
			must(t, err)
			if ok != tt.ok {
				t.Errorf("UseSecondFactorStep(%d) = %v, want %v", tt.step, ok, tt.ok)
			}
		}

		n, err := db.CountRecoveryCodes(ctx, u.ID)
		must(t, err)
		if n != 2 {
			t.Errorf("%d recovery codes", n)
		}
		for _, tt := range []struct {
			hash string
			ok   bool
		}{{"h1", true}, {"h1", false}, {"nope", false}} {
			ok, err := db.UseRecoveryCode(ctx, u.ID, tt.hash)
			must(t, err)
			if ok != tt.ok {
				t.Errorf("UseRecoveryCode(%s) = %v, want %v", tt.hash, ok, tt.ok)
			}
		}
		if n, _ := db.CountRecoveryCodes(ctx, u.ID); n != 1 {
			t.Errorf("%d unused recovery codes after one use", n)
		}

		must(t, db.ResetSecondFactor(ctx, u.ID))
		f, _ = db.UserSecondFactor(ctx, u.ID)
		if f.Enrolled() || f.SecretEnc != nil || f.LastStep != 0 {
			t.Errorf("after reset: %+v", f)
		}
		if n, _ := db.CountRecoveryCodes(ctx, u.ID); n != 0 {
			t.Errorf("%d recovery codes after reset", n)
		}
	})
}

func TestUserLoginFailures(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		u := mkUser(t, &db.store)
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		for want := 1; want <= 3; want++ {
			n, err := db.AddUserLoginFailure(ctx, u.ID, at)
			must(t, err)
			if n != want {
				t.Fatalf("count %d, want %d", n, want)
			}
		}
		n, last, err := db.UserLoginFailures(ctx, u.ID)
		must(t, err)
		if n != 3 || !last.Equal(at) {
			t.Errorf("UserLoginFailures = %d, %v", n, last)
		}
		must(t, db.ResetUserLoginFailures(ctx, u.ID))
		if n, last, _ := db.UserLoginFailures(ctx, u.ID); n != 0 || !last.IsZero() {
			t.Errorf("after reset %d, %v", n, last)
		}
		_, err = db.AddUserLoginFailure(ctx, esign.NewID(), at)
		wantKind(t, err, esign.NotFound)
	})
}

func TestOfferKeysetAndCounts(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		var all []*esign.Offer
		for range 7 {
			all = append(all, mkOffer(t, &db.store, c.ID))
		}
		var seen []string
		var after esign.Cursor
		for range 10 {
			page, err := db.ListOffers(ctx, esign.OfferFilter{CustomerID: c.ID, After: after, Page: esign.Page{Limit: 3}})
			must(t, err)
			if len(page) == 0 {
				break
			}
			for _, o := range page {
				seen = append(seen, o.ID)
			}
			last := page[len(page)-1]
			after = esign.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
		}
		if len(seen) != len(all) {
			t.Fatalf("keyset pages returned %d offers, want %d", len(seen), len(all))
		}
		full, err := db.ListOffers(ctx, esign.OfferFilter{CustomerID: c.ID})
		must(t, err)
		for i := range full {
			if full[i].ID != seen[i] {
				t.Fatalf("keyset order differs from the full list at %d", i)
			}
		}
		future, err := db.ListOffers(ctx, esign.OfferFilter{CustomerID: c.ID, CreatedSince: time.Now().Add(time.Hour)})
		must(t, err)
		if len(future) != 0 {
			t.Errorf("CreatedSince in the future listed %d", len(future))
		}
		counts, err := db.CountOffers(ctx, time.Now().Add(-time.Hour))
		must(t, err)
		if counts.ByState[esign.OfferCreated] != 7 || counts.SignedSince != 0 {
			t.Errorf("counts %+v", counts)
		}
	})
}
