package sqlstore

import (
	"path/filepath"
	"testing"

	"esign/internal/esign"
)

func TestCheckSchema(t *testing.T) {
	db, err := Open(t.Context(), Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "s.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CheckSchema(t.Context()); !esign.IsKind(err, esign.Unavailable) {
		t.Fatalf("fresh database: %v", err)
	}
	if err := db.MigrateUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckSchema(t.Context()); err != nil {
		t.Fatalf("migrated database: %v", err)
	}
}
