package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"

	"esign/internal/esign"
)

// dialect is everything that differs between the engines. Only
// dialect_sqlite.go and dialect_postgres.go implement it.
type dialect interface {
	// name is the Config.Driver value: "sqlite" or "postgres".
	name() string
	// open opens and pings the pool, with a one-line error on failure;
	// wrap wraps the driver's connector (the statement counter).
	open(ctx context.Context, cfg Config, wrap func(driver.Connector) driver.Connector) (*sql.DB, error)
	// rebind turns the ? placeholders of query into the engine's form.
	rebind(query string) string
	// timeValue is how a (UTC, microsecond) time is written.
	timeValue(t time.Time) any
	// forUpdate is the clause that locks the rows a SELECT reads until the
	// transaction ends (" FOR UPDATE"), or "" where a write transaction
	// already holds the whole database (SQLite's BEGIN IMMEDIATE).
	forUpdate() string
	// classify maps a driver error to a kind and a user-safe message.
	classify(err error) (kind esign.Kind, msg string, ok bool)
	// migrations returns the embedded migration tree of the engine.
	migrations() fs.FS
	// goose returns the goose dialect and provider options.
	goose() (goose.Dialect, []goose.ProviderOption, error)
	// columns lists the columns of every table, for the parity test.
	columns(ctx context.Context, db *sql.DB) (map[string][]string, error)
}

func dialectFor(driver string) (dialect, error) {
	switch driver {
	case "sqlite":
		return sqliteDialect{}, nil
	case "postgres", "postgresql", "pgx":
		return postgresDialect{}, nil
	}
	return nil, esign.Errorf("sqlstore.Open", esign.Invalid, "unknown database driver %q (want sqlite or postgres)", driver)
}
