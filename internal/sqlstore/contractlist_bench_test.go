package sqlstore

import (
	"context"
	"strconv"
	"testing"
	"time"

	"esign/internal/esign"
)

// seedContracts inserts n contracts (uploaded ones: no offer) spread over
// 1,000 customers, one a minute back from now, in every status, each with
// a reference.
func seedContracts(b *testing.B, db *DB, n int) []*esign.Customer {
	b.Helper()
	statuses := []esign.ContractStatus{esign.ContractActive, esign.ContractAcknowledged, esign.ContractAcknowledged, esign.ContractRevoked}
	return seedRows(b, db, n, `INSERT INTO contract (id, customer_id, external_ref, title, status, signed_at, created_at, updated_at) VALUES `,
		func(i int, customer string, at time.Time) []any {
			return []any{esign.NewID(), customer, "K-" + strconv.Itoa(i), "Loan contract", statuses[i%len(statuses)], at, at, at}
		})
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
