package sqlstore

import (
	"strings"
	"testing"
	"time"

	"esign/internal/esign"
)

// TestConstraintErrors checks that each kind of constraint violation comes
// back with the right kind on both engines: the database, not only
// Validate, enforces the rules.
func TestConstraintErrors(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := mkCustomer(t, &db.store)
		o := mkOffer(t, &db.store, c.ID)
		u := mkUser(t, &db.store)
		bogus := esign.CustomerStatus("bogus")
		tooFar := 150
		associated := esign.AppAssociated
		username := "anna"
		tests := []struct {
			name string
			run  func() error
			kind esign.Kind
		}{
			{"validation", func() error { return db.CreateCustomer(ctx, &esign.Customer{ExternalRef: "x"}) }, esign.Invalid},
			{"unique-external-ref", func() error {
				return db.CreateCustomer(ctx, &esign.Customer{ExternalRef: c.ExternalRef, Name: "n"})
			}, esign.Conflict},
			{"unique-primary-key", func() error {
				return db.CreateCustomer(ctx, &esign.Customer{ID: c.ID, ExternalRef: "other", Name: "n"})
			}, esign.Conflict},
			{"unique-username", func() error {
				if _, err := db.UpdateCustomer(ctx, c.ID, esign.CustomerUpdate{Username: &username}); err != nil {
					return err
				}
				return db.CreateCustomer(ctx, &esign.Customer{ExternalRef: "y", Name: "n", Username: username})
			}, esign.Conflict},
			{"unique-username-case-sensitive-user", func() error {
				return db.CreateUser(ctx, &esign.User{Username: u.Username, PasswordHash: "h"})
			}, esign.Conflict},
			{"fk-unknown-customer", func() error {
				return db.CreateOffer(ctx, &esign.Offer{CustomerID: esign.NewID(), Title: "t", ExpiresAt: time.Now()})
			}, esign.Invalid},
			{"fk-restrict-delete", func() error { return db.DeleteCustomer(ctx, c.ID) }, esign.Invalid},
			{"update-validated", func() error {
				long := strings.Repeat("x", 300)
				_, err := db.UpdateCustomer(ctx, c.ID, esign.CustomerUpdate{Name: &long})
				if got, gerr := db.GetCustomer(ctx, c.ID); gerr != nil || got.Name != c.Name {
					t.Errorf("an invalid update was stored: %v %v", got, gerr)
				}
				return err
			}, esign.Invalid},
			{"check-status", func() error {
				_, err := db.UpdateCustomer(ctx, c.ID, esign.CustomerUpdate{Status: &bogus})
				return err
			}, esign.Invalid},
			{"check-progress", func() error {
				p := &esign.BackgroundProcess{Kind: "k"}
				if err := db.CreateBackgroundProcess(ctx, p); err != nil {
					return err
				}
				_, err := db.UpdateBackgroundProcess(ctx, p.ID, esign.BackgroundProcessUpdate{Progress: &tooFar})
				return err
			}, esign.Invalid},
			{"check-associated-app", func() error {
				a := &esign.App{SessionTokenHash: esign.NewID()}
				if err := db.CreateApp(ctx, a); err != nil {
					return err
				}
				_, err := db.UpdateApp(ctx, a.ID, esign.AppUpdate{Status: &associated})
				return err
			}, esign.Invalid},
			{"one-validation-per-signature", func() error {
				g := &esign.Signature{OfferID: o.ID, CustomerID: c.ID, PublicKey: "pk", Username: "anna"}
				if err := db.CreateSignature(ctx, g); err != nil {
					return err
				}
				if err := db.CreateSignatureValidation(ctx, &esign.SignatureValidation{SignatureID: g.ID, Valid: true}); err != nil {
					return err
				}
				return db.CreateSignatureValidation(ctx, &esign.SignatureValidation{SignatureID: g.ID, Valid: true})
			}, esign.Conflict},
			{"bad-id", func() error {
				return db.CreateCustomer(ctx, &esign.Customer{ID: "1; DROP TABLE customer", ExternalRef: "z", Name: "n"})
			}, esign.Invalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { wantKind(t, tt.run(), tt.kind) })
		}
	})
}
