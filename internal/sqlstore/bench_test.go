package sqlstore

import (
	"context"
	"testing"
	"time"

	"esign/internal/esign"
)

func benchEngines(b *testing.B, fn func(b *testing.B, db *DB)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, openSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, openPostgres(b)) })
}

// BenchmarkCreateOfferWithDocuments is the typical write: in one transaction,
// store the metadata of two documents and an offer that links them.
func BenchmarkCreateOfferWithDocuments(b *testing.B) {
	benchEngines(b, func(b *testing.B, db *DB) {
		ctx := context.Background()
		c := mkCustomer(b, &db.store)
		b.ReportAllocs()
		for b.Loop() {
			err := db.InTx(ctx, func(tx *Tx) error {
				ids := make([]string, 2)
				for i := range ids {
					id := esign.NewID()
					d := &esign.Document{CustomerID: c.ID, Kind: esign.DocumentOffer, Name: "offer.pdf",
						ContentType: "application/pdf", Size: 250_000, SHA256: digest(id), StorageKey: "docs/" + id, Encrypted: true}
					if err := tx.CreateDocument(ctx, d); err != nil {
						return err
					}
					ids[i] = d.ID
				}
				o := &esign.Offer{CustomerID: c.ID, Title: "Personal loan", ExpiresAt: time.Now().Add(14 * 24 * time.Hour)}
				return tx.CreateOffer(ctx, o, ids...)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkListCustomerOffers is the typical read: one customer's 50 offers
// (among other customers' offers), newest first.
func BenchmarkListCustomerOffers(b *testing.B) {
	benchEngines(b, func(b *testing.B, db *DB) {
		ctx := context.Background()
		var target *esign.Customer
		for i := range 20 {
			c := mkCustomer(b, &db.store)
			if i == 0 {
				target = c
			}
			for range 50 {
				mkOffer(b, &db.store, c.ID)
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			list, err := db.ListOffers(ctx, esign.OfferFilter{CustomerID: target.ID, Page: esign.Page{Limit: 50}})
			if err != nil {
				b.Fatal(err)
			}
			if len(list) != 50 {
				b.Fatalf("%d offers, want 50", len(list))
			}
		}
	})
}

// BenchmarkGetOffer is a point read by primary key.
func BenchmarkGetOffer(b *testing.B) {
	benchEngines(b, func(b *testing.B, db *DB) {
		ctx := context.Background()
		o := mkOffer(b, &db.store, mkCustomer(b, &db.store).ID)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := db.GetOffer(ctx, o.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}
