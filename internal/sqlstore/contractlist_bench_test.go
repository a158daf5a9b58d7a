package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"esign/internal/esign"
)

// seedContracts inserts n contracts (uploaded ones: no offer) spread over
// 1,000 customers, one a minute back from now, in every status, each with
// a reference, with multi-row INSERTs.
func seedContracts(b *testing.B, db *DB, n int) []*esign.Customer {
	b.Helper()
	ctx := context.Background()
	var cs []*esign.Customer
	for range 1000 {
		cs = append(cs, mkCustomer(b, &db.store))
	}
	statuses := []esign.ContractStatus{esign.ContractActive, esign.ContractAcknowledged, esign.ContractAcknowledged, esign.ContractRevoked}
	now := esign.Timestamp(time.Now())
	const batch = 500
	err := db.InTx(ctx, func(tx *Tx) error {
		for start := 0; start < n; start += batch {
			var q strings.Builder
			q.WriteString(`INSERT INTO contract (id, customer_id, external_ref, title, status, signed_at, created_at, updated_at) VALUES `)
			var args []any
			for i := start; i < min(start+batch, n); i++ {
				if i > start {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
				at := now.Add(-time.Duration(i) * time.Minute)
				args = append(args, esign.NewID(), cs[i%len(cs)].ID, "K-"+strconv.Itoa(i), "Loan contract", statuses[i%len(statuses)], at, at, at)
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

// BenchmarkContractList100k is the admin UI's contract list at 100,000
// contracts: pages of 26 rows newest first by keyset, unfiltered, by
// status, by customer and by reference (the indexes of migration 00005).
func BenchmarkContractList100k(b *testing.B) {
	benchEngines(b, func(b *testing.B, db *DB) {
		ctx := context.Background()
		cs := seedContracts(b, db, 100_000)
		cursorAt := func(f esign.ContractFilter, offset int) esign.Cursor {
			f.Page = esign.Page{Limit: 1, Offset: offset}
			l, err := db.ListContracts(ctx, f)
			if err != nil || len(l) != 1 {
				b.Fatalf("cursor at %d: %v", offset, err)
			}
			return esign.Cursor{CreatedAt: l[0].CreatedAt, ID: l[0].ID}
		}
		ack := esign.ContractFilter{Status: esign.ContractAcknowledged}
		cases := []struct {
			name string
			f    esign.ContractFilter
		}{
			{"first_page", esign.ContractFilter{}},
			{"page_at_50000", esign.ContractFilter{After: cursorAt(esign.ContractFilter{}, 50_000)}},
			{"last_page", esign.ContractFilter{After: cursorAt(esign.ContractFilter{}, 99_980)}},
			{"acknowledged_at_20000", esign.ContractFilter{Status: ack.Status, After: cursorAt(ack, 20_000)}},
			{"customer", esign.ContractFilter{CustomerID: cs[7].ID}},
			{"reference", esign.ContractFilter{ExternalRef: "K-77777"}},
		}
		for _, c := range cases {
			b.Run(c.name, func(b *testing.B) {
				f := c.f
				f.Page = esign.Page{Limit: 26}
				benchPage(b, func() (int, error) {
					l, err := db.ListContracts(ctx, f)
					return len(l), err
				})
			})
		}
	})
}
