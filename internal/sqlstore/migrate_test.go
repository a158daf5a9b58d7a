package sqlstore

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"esign/internal/esign"
)

// TestMigrationParity checks that both engines end up with the same tables
// and columns.
func TestMigrationParity(t *testing.T) {
	ctx := testCtx(t)
	lite, err := openSQLite(t).tableColumns(ctx)
	must(t, err)
	if len(lite) < 33 { // 32 tables and goose's version table
		t.Fatalf("sqlite has %d tables, want at least 33", len(lite))
	}
	pg, err := openPostgres(t).tableColumns(ctx)
	must(t, err)
	if !reflect.DeepEqual(lite, pg) {
		for name, cols := range lite {
			if !reflect.DeepEqual(cols, pg[name]) {
				t.Errorf("table %s:\n sqlite   %v\n postgres %v", name, cols, pg[name])
			}
		}
		for name := range pg {
			if _, ok := lite[name]; !ok {
				t.Errorf("table %s only on postgres", name)
			}
		}
	}
}

// TestMigrateDownUp rolls every migration back and applies them again.
func TestMigrateDownUp(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		var status bytes.Buffer
		must(t, db.MigrateStatus(ctx, &status))
		if !strings.Contains(status.String(), "applied") || !strings.Contains(status.String(), "00001_init.sql") {
			t.Fatalf("status after up:\n%s", status.String())
		}
		must(t, db.MigrateUp(ctx)) // idempotent
		for {
			err := db.MigrateDown(ctx)
			if esign.IsKind(err, esign.NotFound) {
				break
			}
			must(t, err)
		}
		status.Reset()
		must(t, db.MigrateStatus(ctx, &status))
		if strings.Contains(status.String(), "applied") {
			t.Fatalf("status after down:\n%s", status.String())
		}
		cols, err := db.tableColumns(ctx)
		must(t, err)
		if _, ok := cols["offer"]; ok {
			t.Fatal("table offer survived migrating down")
		}
		must(t, db.MigrateUp(ctx))
		c := mkCustomer(t, &db.store)
		mkOffer(t, &db.store, c.ID, mkDocument(t, &db.store, c.ID).ID)
		roles, err := db.ListRoles(ctx)
		must(t, err)
		if len(roles) != 3 {
			t.Fatalf("%d roles after up again, want 3 seeded", len(roles))
		}
	})
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		kind    esign.Kind
		message string
	}{
		{"unknown-driver", Config{Driver: "mysql", DSN: "x"}, esign.Invalid, `unknown database driver "mysql"`},
		{"sqlite-memory", Config{Driver: "sqlite", DSN: ":memory:"}, esign.Invalid, "needs a database file path"},
		{"sqlite-missing-dir", Config{Driver: "sqlite", DSN: t.TempDir() + "/no/such/dir/esign.db"}, esign.Unavailable, "open sqlite database"},
		{"postgres-bad-url", Config{Driver: "postgres", DSN: "postgres://u:secret@[::1"}, esign.Invalid, "not valid"},
		{"postgres-refused", Config{Driver: "postgres", DSN: "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5"},
			esign.Unavailable, "connect to postgres at 127.0.0.1:1: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			db, err := Open(ctx, tt.cfg)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			wantKind(t, err, tt.kind)
			if msg := esign.ErrorMessage(err); !strings.Contains(msg, tt.message) {
				t.Fatalf("message %q does not contain %q", msg, tt.message)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("the error reveals the password: %v", err)
			}
		})
	}
}

func TestDriverAndPing(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		must(t, db.Ping(testCtx(t)))
		if d := db.Driver(); d != "sqlite" && d != "postgres" {
			t.Fatalf("Driver() = %q", d)
		}
		if db.SQL() == nil {
			t.Fatal("SQL() is nil")
		}
	})
}

func TestRebind(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = $1 AND b = $2"},
		{"a = '?' AND b = ?", "a = '?' AND b = $1"},
		{"x IN (?, ?, ?)", "x IN ($1, $2, $3)"},
	}
	for _, tt := range tests {
		if got := (postgresDialect{}).rebind(tt.in); got != tt.want {
			t.Errorf("rebind(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
