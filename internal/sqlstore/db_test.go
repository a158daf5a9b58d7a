package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"esign/internal/esign"
	"esign/internal/esigntest"
)

// engines runs fn as a subtest against a freshly migrated database of every
// engine: SQLite in a temporary directory, and PostgreSQL in a schema of its
// own when ESIGN_TEST_POSTGRES_URL is set.
func engines(t *testing.T, fn func(t *testing.T, db *DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, openSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, openPostgres(t)) })
}

func testCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

func openSQLite(tb testing.TB) *DB {
	tb.Helper()
	ctx := testCtx(tb)
	db, err := Open(ctx, Config{Driver: "sqlite", DSN: filepath.Join(tb.TempDir(), "esign.db")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.MigrateUp(ctx); err != nil {
		tb.Fatal(err)
	}
	return db
}

// openPostgres creates a schema esign_test_<random>, opens a pool whose
// search_path is that schema, migrates it, and drops the schema at the end.
func openPostgres(tb testing.TB) *DB {
	tb.Helper()
	base := esigntest.ServerURL(tb, esigntest.PostgresURLEnv)
	ctx := testCtx(tb)
	admin, err := Open(ctx, Config{Driver: "postgres", DSN: base, MaxOpenConns: 2})
	if err != nil {
		tb.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "esign_test_" + hex.EncodeToString(b[:])
	if _, err := admin.SQL().ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.SQL().ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := Open(ctx, Config{Driver: "postgres", DSN: u.String()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.MigrateUp(ctx); err != nil {
		tb.Fatal(err)
	}
	return db
}

// wantKind fails the test unless err has kind k.
func wantKind(tb testing.TB, err error, k esign.Kind) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want %v", k)
	}
	if got := esign.ErrorKind(err); got != k {
		tb.Fatalf("got kind %v (%v), want %v", got, err, k)
	}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func digest(s string) string {
	var b [32]byte
	copy(b[:], s)
	return hex.EncodeToString(b[:])
}

// The builders below create valid rows with unique keys.

func mkCustomer(tb testing.TB, s *store) *esign.Customer {
	tb.Helper()
	c := &esign.Customer{ExternalRef: "C-" + esign.NewID(), Name: "Kovács Anna", Phone: "+36201234567", Locale: "hu-HU"}
	must(tb, s.CreateCustomer(testCtx(tb), c))
	return c
}

func mkDocument(tb testing.TB, s *store, customerID string) *esign.Document {
	tb.Helper()
	id := esign.NewID()
	d := &esign.Document{CustomerID: customerID, Kind: esign.DocumentOffer, Name: "offer.pdf",
		ContentType: "application/pdf", Size: 1234, SHA256: digest(id), StorageKey: "docs/" + id, Encrypted: true}
	must(tb, s.CreateDocument(testCtx(tb), d))
	return d
}

func mkOffer(tb testing.TB, s *store, customerID string, docs ...string) *esign.Offer {
	tb.Helper()
	o := &esign.Offer{CustomerID: customerID, Title: "Personal loan", ExpiresAt: time.Now().Add(14 * 24 * time.Hour)}
	must(tb, s.CreateOffer(testCtx(tb), o, docs...))
	return o
}

func mkUser(tb testing.TB, s *store) *esign.User {
	tb.Helper()
	u := &esign.User{Username: "op-" + esign.NewID()[24:], PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$x$y"}
	must(tb, s.CreateUser(testCtx(tb), u))
	return u
}
