package sqlstore

import (
	"context"
	"errors"
	"testing"
)

// TestStatements counts what each kind of call sends: a statement, a
// prepared statement's executions, and a transaction's BEGIN and COMMIT or
// ROLLBACK around its statements.
func TestStatements(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		count := func(name string, want uint64, fn func()) {
			t.Helper()
			before := db.Statements()
			fn()
			if got := db.Statements() - before; got != want {
				t.Errorf("%s: %d statements counted, want %d", name, got, want)
			}
		}
		count("repository_insert", 1, func() { mkCustomer(t, &db.store) })
		c := mkCustomer(t, &db.store)
		count("repository_read", 1, func() {
			if _, err := db.GetCustomer(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
		})
		count("transaction", 4, func() {
			must(t, db.InTx(ctx, func(tx *Tx) error {
				mkCustomer(t, &tx.store)
				_, err := tx.GetCustomer(ctx, c.ID)
				return err
			}))
		})
		count("rollback", 3, func() {
			err := db.InTx(ctx, func(tx *Tx) error {
				mkCustomer(t, &tx.store)
				return errors.New("undo")
			})
			if err == nil {
				t.Fatal("InTx returned no error")
			}
		})
		count("prepared", 2, func() {
			st, err := db.SQL().PrepareContext(ctx, db.d.rebind("SELECT name FROM customer WHERE id = ?"))
			must(t, err)
			defer st.Close()
			for range 2 {
				var name string
				must(t, st.QueryRowContext(ctx, c.ID).Scan(&name))
			}
		})
		count("ping", 0, func() { must(t, db.Ping(ctx)) })
		count("canceled_begin", 0, func() {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			_ = db.InTx(cctx, func(*Tx) error { return nil })
		})
	})
}
