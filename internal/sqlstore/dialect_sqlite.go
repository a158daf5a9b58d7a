package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"esign/internal/esign"
)

// sqliteDialect is SQLite through modernc.org/sqlite (pure Go).
//
// Every connection runs with WAL, foreign_keys=ON, busy_timeout=10s and
// synchronous=NORMAL. Transactions begin with BEGIN IMMEDIATE
// (_txlock=immediate): a writer takes the single write lock at BEGIN and
// others wait for it (busy_timeout) instead of failing with SQLITE_BUSY on
// a lock upgrade; readers are never blocked (WAL).
//
// Times are stored as TEXT in the fixed-width form timeLayout (UTC,
// microseconds), so that comparing the text compares the times.
type sqliteDialect struct{}

// timeLayout is the SQLite text form of a time.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func (sqliteDialect) name() string { return "sqlite" }

func (sqliteDialect) dsn(path string) string {
	if path == "" || path == ":memory:" || strings.Contains(path, "mode=memory") {
		// Each connection would see its own empty database.
		return ""
	}
	if !strings.HasPrefix(path, "file:") {
		path = "file:" + path
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

func (d sqliteDialect) open(ctx context.Context, cfg Config, wrap func(driver.Connector) driver.Connector) (*sql.DB, error) {
	dsn := d.dsn(cfg.DSN)
	if dsn == "" {
		return nil, esign.Errorf("sqlstore.Open", esign.Invalid, "sqlite needs a database file path, got %q", cfg.DSN)
	}
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, esign.E("sqlstore.Open", esign.Invalid, fmt.Sprintf("open sqlite database %s", cfg.DSN), err)
	}
	db := sql.OpenDB(wrap(c))
	n := cfg.MaxOpenConns
	if n <= 0 {
		n = max(4, runtime.GOMAXPROCS(0))
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, esign.E("sqlstore.Open", esign.Unavailable,
			fmt.Sprintf("open sqlite database %s: %s", cfg.DSN, sqliteCause(err)), err)
	}
	return db, nil
}

// sqliteCause is the short text of a driver error.
func sqliteCause(err error) string {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return sqlite.ErrorCodeString[se.Code()]
	}
	return err.Error()
}

func (sqliteDialect) rebind(query string) string { return query }

func (sqliteDialect) timeValue(t time.Time) any { return t.Format(timeLayout) }

func (sqliteDialect) forUpdate() string { return "" }

func (sqliteDialect) classify(err error) (esign.Kind, string, bool) {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return 0, "", false
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return esign.Conflict, "it exists already", true
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqlite3.SQLITE_CONSTRAINT_TRIGGER:
		// ON DELETE RESTRICT reports SQLITE_CONSTRAINT_TRIGGER; the schema
		// has no triggers of its own.
		return esign.Invalid, "it refers to something that does not exist or is still referred to", true
	case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL, sqlite3.SQLITE_CONSTRAINT_DATATYPE:
		return esign.Invalid, "a value is not allowed", true
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return esign.Unavailable, "the database is busy", true
	}
	return 0, "", false
}

func (sqliteDialect) migrations() fs.FS {
	f, err := fs.Sub(migrationFS, "migrations/sqlite")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return f
}

func (sqliteDialect) goose() (goose.Dialect, []goose.ProviderOption, error) {
	return goose.DialectSQLite3, nil, nil
}

func (sqliteDialect) columns(ctx context.Context, db *sql.DB) (map[string][]string, error) {
	return queryColumns(ctx, db, `SELECT m.name, p.name FROM sqlite_master m
		JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
		ORDER BY m.name, p.name`)
}
