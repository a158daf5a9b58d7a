package sqlstore

import (
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"esign/internal/esign"
	"esign/internal/esigntest"
)

// TestOutageIsUnavailable: when the connection to PostgreSQL breaks under
// the pool (the server restarted, the network cut) or cannot be made, a
// query fails with Unavailable (HTTP 503, retry), never Internal (500).
func TestOutageIsUnavailable(t *testing.T) {
	ctx := testCtx(t)
	u, err := url.Parse(esigntest.PostgresSchemaURL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := esigntest.NewProxy(t, u.Host)
	u.Host = proxy.Addr
	db, err := Open(ctx, Config{Driver: "postgres", DSN: u.String()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	query := func() error {
		_, err := db.GetSessionByTokenHash(ctx, "token-hash", time.Now())
		return err
	}
	if err := query(); !esign.IsKind(err, esign.NotFound) {
		t.Fatalf("before the outage: %v, want NotFound", err)
	}
	proxy.Cut()
	// The first query meets a pooled connection that broke; the next ones
	// cannot connect at all.
	for i := range 3 {
		if err := query(); !esign.IsKind(err, esign.Unavailable) {
			t.Fatalf("query %d during the outage: %v (kind %v), want Unavailable", i, err, esign.ErrorKind(err))
		}
	}
	proxy.Restore()
	if err := query(); !esign.IsKind(err, esign.NotFound) {
		t.Fatalf("after the outage: %v, want NotFound", err)
	}

	// A statement of another package in the caller's transaction (the job
	// queue's insert: the outbox) meets the outage; its own error, wrapped
	// as that package does, is still Unavailable.
	err = db.InTx(ctx, func(tx *Tx) error {
		proxy.Cut()
		_, err := tx.SQLTx().ExecContext(ctx, "SELECT 1")
		return esign.E("offers.emit", fmt.Errorf("jobs: enqueue twofa_code sms: %w", err))
	})
	if !esign.IsKind(err, esign.Unavailable) {
		t.Fatalf("an outage inside a transaction: %v (kind %v), want Unavailable", err, esign.ErrorKind(err))
	}
	proxy.Restore()
	if err := query(); !esign.IsKind(err, esign.NotFound) {
		t.Fatalf("after the second outage: %v, want NotFound", err)
	}

	// The connection lost at COMMIT: the outcome is unknown to the client,
	// and the error says so (the seal keeps its stored files then).
	err = db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.SQLTx().ExecContext(ctx, "SELECT 1"); err != nil {
			return err
		}
		proxy.Cut()
		return nil
	})
	if !errors.Is(err, ErrCommitUncertain) || !esign.IsKind(err, esign.Unavailable) {
		t.Fatalf("an outage at commit: %v (kind %v), want ErrCommitUncertain and Unavailable", err, esign.ErrorKind(err))
	}
	proxy.Restore()
}
