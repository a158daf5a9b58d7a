package sqlstore

import (
	"sync"
	"testing"
	"time"

	"esign/internal/esign"
)

func TestVerificationTokenQueries(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		now := time.Now().UTC().Truncate(time.Microsecond)
		mk := func(hash string, exp time.Time) *esign.VerificationToken {
			v := &esign.VerificationToken{CustomerID: c.ID, Purpose: esign.TokenAssociation, TokenHash: hash, ExpiresAt: exp}
			must(t, db.CreateVerificationToken(ctx, v))
			return v
		}
		a := mk("hash-a", now.Add(5*time.Minute))
		tests := []struct {
			name         string
			id, hash     string
			at           time.Time
			max          int
			wantConsumed bool
		}{
			{"wrong_hash", a.ID, "hash-x", now, 5, false},
			{"expired", a.ID, "hash-a", now.Add(5 * time.Minute), 5, false},
			{"too_many_attempts_allowed_zero", a.ID, "hash-a", now, 0, false},
			{"malformed_id", "nope", "hash-a", now, 5, false},
			{"right", a.ID, "hash-a", now, 5, true},
			{"used", a.ID, "hash-a", now, 5, false},
		}
		for _, tt := range tests {
			got, err := db.ConsumeVerificationToken(ctx, tt.id, tt.hash, tt.at, tt.max)
			must(t, err)
			if got != tt.wantConsumed {
				t.Errorf("%s: consumed %v, want %v", tt.name, got, tt.wantConsumed)
			}
		}

		// Attempts stop at the maximum and kill the token.
		b := mk("hash-b", now.Add(5*time.Minute))
		for i := 1; i <= 5; i++ {
			n, err := db.FailVerificationToken(ctx, b.ID, 3)
			must(t, err)
			if want := min(i, 3); n != want {
				t.Fatalf("attempt %d: %d recorded, want %d", i, n, want)
			}
		}
		if ok, _ := db.ConsumeVerificationToken(ctx, b.ID, "hash-b", now, 3); ok {
			t.Fatal("a dead token was consumed")
		}

		// Parallel consumption: one winner.
		p := mk("hash-p", now.Add(5*time.Minute))
		var mu sync.Mutex
		wins := 0
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				ok, err := db.ConsumeVerificationToken(ctx, p.ID, "hash-p", now, 5)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d winners, want 1", wins)
		}

		d := mk("hash-d", now.Add(5*time.Minute))
		n, err := db.CountVerificationTokens(ctx, c.ID, esign.TokenAssociation, "", now)
		must(t, err)
		if n != 4 {
			t.Fatalf("count %d, want 4", n)
		}
		inv, err := db.InvalidateVerificationTokens(ctx, c.ID, esign.TokenAssociation, "", now)
		must(t, err)
		if inv != 2 { // b (dead but unused) and d
			t.Fatalf("invalidated %d, want 2", inv)
		}
		if ok, _ := db.ConsumeVerificationToken(ctx, d.ID, "hash-d", now, 5); ok {
			t.Fatal("an invalidated token was consumed")
		}
	})
}

func TestLoginFailures(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		n, last, err := db.LoginFailures(ctx, c.ID)
		must(t, err)
		if n != 0 || !last.IsZero() {
			t.Fatalf("fresh customer: %d, %v", n, last)
		}
		at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if _, err := db.AddLoginFailure(ctx, c.ID, at); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		n, last, err = db.LoginFailures(ctx, c.ID)
		must(t, err)
		if n != 10 || !last.Equal(at) {
			t.Fatalf("after 10 parallel failures: %d at %v", n, last)
		}
		must(t, db.ResetLoginFailures(ctx, c.ID))
		if n, _, _ := db.LoginFailures(ctx, c.ID); n != 0 {
			t.Fatalf("after reset: %d", n)
		}
		_, err = db.AddLoginFailure(ctx, esign.NewID(), at)
		wantKind(t, err, esign.Invalid)
	})
}

func TestMobileQueries(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		other := mkCustomer(t, &db.store)
		cs, err := db.ListCustomersByPhone(ctx, c.Phone, esign.Page{})
		must(t, err)
		if len(cs) < 2 {
			t.Fatalf("by phone: %d customers", len(cs))
		}

		d := mkDocument(t, &db.store, c.ID)
		loose := mkDocument(t, &db.store, c.ID)
		o := mkOffer(t, &db.store, c.ID, d.ID)
		visible := []esign.OfferState{esign.OfferNotified}
		for _, tt := range []struct {
			name     string
			doc, cus string
			states   []esign.OfferState
			want     bool
		}{
			{"created_offer_not_visible", d.ID, c.ID, visible, false},
			{"created_state_listed", d.ID, c.ID, []esign.OfferState{esign.OfferCreated}, true},
			{"other_customer", d.ID, other.ID, []esign.OfferState{esign.OfferCreated}, false},
			{"loose_document", loose.ID, c.ID, []esign.OfferState{esign.OfferCreated}, false},
			{"malformed", "x", c.ID, visible, false},
		} {
			got, err := db.DocumentInOffers(ctx, tt.doc, tt.cus, tt.states)
			must(t, err)
			if got != tt.want {
				t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
			}
		}
		_ = o

		app := esign.NewID()
		now := time.Now().UTC()
		for _, h := range []string{"s1", "s2"} {
			must(t, db.CreateSession(ctx, &esign.Session{TokenHash: h, SubjectType: esign.SessionApp, SubjectID: app, ExpiresAt: now.Add(time.Hour)}))
		}
		must(t, db.TouchSession(ctx, "s1", now))
		wantKind(t, db.TouchSession(ctx, "nope", now), esign.NotFound)
		ok, err := db.DeleteSessionByTokenHash(ctx, "s1")
		must(t, err)
		if !ok {
			t.Fatal("s1 not deleted")
		}
		n, err := db.DeleteSubjectSessions(ctx, esign.SessionApp, app)
		must(t, err)
		if n != 1 {
			t.Fatalf("deleted %d subject sessions, want 1", n)
		}
	})
}
