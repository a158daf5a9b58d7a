package sqlstore

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"esign/internal/esign"
)

// seedOffers inserts n offers spread over 1,000 customers, one a minute
// back from now, in every state.
func seedOffers(b *testing.B, db *DB, n int) []*esign.Customer {
	b.Helper()
	states := []esign.OfferState{esign.OfferNotified, esign.OfferOpened, esign.OfferSigned, esign.OfferSigned,
		esign.OfferRefused, esign.OfferExpired, esign.OfferRevoked, esign.OfferSigning}
	return seedRows(b, db, n, `INSERT INTO offer (id, customer_id, title, state, state_changed_at, expires_at, created_at, updated_at) VALUES `,
		func(i int, customer string, at time.Time) []any {
			return []any{esign.NewID(), customer, "Personal loan", states[i%len(states)], at, at.Add(14 * 24 * time.Hour), at, at}
		})
}

// seedRows inserts n rows made by row (the i-th, of one of 1,000 new
// customers, created a minute before the previous) with multi-row INSERTs
// of the statement's head (seconds, not the minutes of n single inserts),
// then analyses the tables, and returns the customers.
func seedRows(b *testing.B, db *DB, n int, head string, row func(i int, customerID string, at time.Time) []any) []*esign.Customer {
	b.Helper()
	ctx := context.Background()
	var cs []*esign.Customer
	for range 1000 {
		cs = append(cs, mkCustomer(b, &db.store))
	}
	now := esign.Timestamp(time.Now())
	const batch = 500
	err := db.InTx(ctx, func(tx *Tx) error {
		for start := 0; start < n; start += batch {
			var q strings.Builder
			q.WriteString(head)
			var args []any
			for i := start; i < min(start+batch, n); i++ {
				r := row(i, cs[i%len(cs)].ID, now.Add(-time.Duration(i)*time.Minute))
				if i > start {
					q.WriteString(", ")
				}
				q.WriteString("(?" + strings.Repeat(", ?", len(r)-1) + ")")
				args = append(args, r...)
			}
			if _, err := tx.exec(ctx, q.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return cs
}

// BenchmarkOfferList100k is the admin UI's offer list at 100,000 offers:
// pages of 26 rows (25 shown, one to know there is a next page), newest
// first, by keyset (the cursor of the last row shown), unfiltered and
// filtered by state, customer and a day's date range. Besides ns/op it
// reports the p99 latency of the iterations.
func BenchmarkOfferList100k(b *testing.B) {
	benchEngines(b, func(b *testing.B, db *DB) {
		ctx := context.Background()
		cs := seedOffers(b, db, 100_000)
		cursorAt := func(f esign.OfferFilter, offset int) esign.Cursor {
			f.Page = esign.Page{Limit: 1, Offset: offset}
			os, err := db.ListOffers(ctx, f)
			if err != nil || len(os) != 1 {
				b.Fatalf("cursor at %d: %v", offset, err)
			}
			return esign.Cursor{CreatedAt: os[0].CreatedAt, ID: os[0].ID}
		}
		signed := []esign.OfferState{esign.OfferSigned}
		day := esign.Timestamp(time.Now()).Add(-30 * 24 * time.Hour)
		cases := []struct {
			name string
			f    esign.OfferFilter
		}{
			{"first_page", esign.OfferFilter{}},
			{"page_at_50000", esign.OfferFilter{After: cursorAt(esign.OfferFilter{}, 50_000)}},
			{"last_page", esign.OfferFilter{After: cursorAt(esign.OfferFilter{}, 99_980)}},
			{"signed_at_20000", esign.OfferFilter{States: signed, After: cursorAt(esign.OfferFilter{States: signed}, 20_000)}},
			{"customer", esign.OfferFilter{CustomerID: cs[7].ID}},
			{"one_day", esign.OfferFilter{CreatedSince: day, CreatedBefore: day.Add(24 * time.Hour)}},
		}
		for _, c := range cases {
			b.Run(c.name, func(b *testing.B) {
				f := c.f
				f.Page = esign.Page{Limit: 26}
				benchPage(b, func() (int, error) {
					os, err := db.ListOffers(ctx, f)
					return len(os), err
				})
			})
		}
	})
}

// benchPage runs a list query per iteration and reports, besides ns/op,
// the p99 latency of the iterations. An empty page fails.
func benchPage(b *testing.B, list func() (int, error)) {
	var took []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		n, err := list()
		took = append(took, time.Since(start))
		if err != nil || n == 0 {
			b.Fatalf("%d rows, %v", n, err)
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}
