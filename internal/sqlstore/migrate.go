package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"

	"github.com/pressly/goose/v3"

	"esign/internal/esign"
)

// migrationFS holds one append-only tree of goose SQL migrations per engine.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

func (db *DB) provider() (*goose.Provider, error) {
	gd, opts, err := db.d.goose()
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(gd, db.sqlDB, db.d.migrations(), opts...)
}

// MigrateUp applies every pending migration. It is safe to call when the
// schema is current. Errors are Internal (or Unavailable when the database
// does not answer).
func (db *DB) MigrateUp(ctx context.Context) error {
	const op = "sqlstore.MigrateUp"
	p, err := db.provider()
	if err != nil {
		return esign.E(op, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return db.wrap(op, fmt.Errorf("migrate up: %w", err))
	}
	return nil
}

// MigrateDown rolls back the most recent migration. With no migration
// applied it returns NotFound.
func (db *DB) MigrateDown(ctx context.Context) error {
	const op = "sqlstore.MigrateDown"
	p, err := db.provider()
	if err != nil {
		return esign.E(op, err)
	}
	if _, err := p.Down(ctx); err != nil {
		if errors.Is(err, goose.ErrNoNextVersion) {
			return esign.E(op, esign.NotFound, "no migration is applied", err)
		}
		return db.wrap(op, fmt.Errorf("migrate down: %w", err))
	}
	return nil
}

// MigrateStatus writes one line per migration to w: its state (applied with
// the time, or pending) and its file name.
func (db *DB) MigrateStatus(ctx context.Context, w io.Writer) error {
	const op = "sqlstore.MigrateStatus"
	p, err := db.provider()
	if err != nil {
		return esign.E(op, err)
	}
	st, err := p.Status(ctx)
	if err != nil {
		return db.wrap(op, fmt.Errorf("migration status: %w", err))
	}
	for _, s := range st {
		when := "-"
		if s.State == goose.StateApplied {
			when = s.AppliedAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		if _, err := fmt.Fprintf(w, "%-8s %-20s %s\n", s.State, when, path.Base(s.Source.Path)); err != nil {
			return esign.E(op, err)
		}
	}
	return nil
}

// tableColumns lists the column names of every table of the current schema,
// sorted: the parity test compares the engines with it.
func (db *DB) tableColumns(ctx context.Context) (map[string][]string, error) {
	return db.d.columns(ctx, db.sqlDB)
}

func queryColumns(ctx context.Context, db *sql.DB, query string) (map[string][]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string][]string{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, err
		}
		m[t] = append(m[t], c)
	}
	for _, cols := range m {
		sort.Strings(cols)
	}
	return m, rows.Err()
}
