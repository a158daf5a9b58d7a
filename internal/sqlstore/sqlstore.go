// Package sqlstore is the one SQL implementation of esign's storage, over
// database/sql, for SQLite (modernc.org/sqlite, the embedded default) and
// PostgreSQL (pgx). SQL is written once with ? placeholders; the differences
// between the engines live only in dialect_sqlite.go and dialect_postgres.go.
//
// Repository methods exist on both *DB and *Tx (they share one unexported
// implementation). Errors are *esign.Error values: a missing row is
// NotFound, a duplicate Conflict, a broken foreign key, CHECK or NOT NULL
// constraint Invalid, a stale version Conflict. Any method may also return
// Unavailable (the database is unreachable or busy), Timeout (the context's
// deadline passed) or Internal; the doc comments name the other kinds.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"esign/internal/esign"
)

// Config says which database to open.
type Config struct {
	Driver       string // "sqlite" | "postgres"
	DSN          string // file path (or file: URI) for sqlite, URL for postgres
	MaxOpenConns int    // 0: a default per driver
}

// DB is an open database. It is safe for concurrent use.
type DB struct {
	store
	sqlDB *sql.DB
	open  sync.Map // *sql.Tx of a running InTx → its *afterCommit (for BindTx)
	stmts *stmtCounter
}

// Tx is a transaction opened by DB.InTx. It has the same repository methods
// as DB; it must not be used after InTx returns.
type Tx struct {
	store
	sqlTx *sql.Tx
	after *afterCommit
}

// afterCommit holds the functions a transaction runs once it committed.
type afterCommit struct {
	mu  sync.Mutex
	fns []func()
}

// AfterCommit has fn run once the transaction committed (not if it rolls
// back), after InTx's commit and before InTx returns, in the order added.
// It is how a change tells the world about itself only when it is true
// (the live feed's bus events). On a Tx that BindTx made of a transaction
// no InTx opened it does nothing and reports false.
func (tx *Tx) AfterCommit(fn func()) bool {
	if tx.after == nil {
		return false
	}
	tx.after.mu.Lock()
	defer tx.after.mu.Unlock()
	tx.after.fns = append(tx.after.fns, fn)
	return true
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// store holds the repository methods shared by DB and Tx.
type store struct {
	q   querier
	d   dialect
	db  *DB // the database, for methods that need a transaction of their own
	inT bool
	now func() time.Time
}

// Open connects to the database described by cfg and pings it. It does not
// migrate; call MigrateUp. Errors are Invalid for a bad configuration and
// Unavailable when the server cannot be reached, with a one-line message
// such as "connect to postgres at 127.0.0.1:5433: connection refused".
func Open(ctx context.Context, cfg Config) (*DB, error) {
	const op = "sqlstore.Open"
	d, err := dialectFor(cfg.Driver)
	if err != nil {
		return nil, esign.E(op, err)
	}
	stmts := &stmtCounter{}
	sqlDB, err := d.open(ctx, cfg, stmts.connector)
	if err != nil {
		return nil, esign.E(op, err)
	}
	db := &DB{sqlDB: sqlDB, stmts: stmts}
	db.store = store{q: sqlDB, d: d, db: db, now: time.Now}
	return db, nil
}

// Ping checks that the database answers. It returns Unavailable when not.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sqlDB.PingContext(ctx); err != nil {
		return esign.E("sqlstore.Ping", esign.Unavailable, "the database does not answer", err)
	}
	return nil
}

// SQL returns the underlying pool, for libraries that need one (the job
// queue). Application code uses the repository methods.
func (db *DB) SQL() *sql.DB { return db.sqlDB }

// Driver returns "sqlite" or "postgres".
func (db *DB) Driver() string { return db.d.name() }

// Close closes the pool.
func (db *DB) Close() error { return db.sqlDB.Close() }

// ErrCommitUncertain is in the chain of InTx's error when the connection
// was lost during COMMIT: the transaction may or may not have committed.
var ErrCommitUncertain = errors.New("the outcome of the commit is unknown")

// InTx runs fn in a transaction. It commits when fn returns nil and rolls
// back when fn returns an error or panics (the panic continues). On SQLite
// the transaction takes the write lock when it begins (BEGIN IMMEDIATE), so
// concurrent writers queue instead of failing. The error is fn's error, or
// the classified error of begin or commit.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	const op = "sqlstore.InTx"
	sqlTx, err := db.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return db.wrap(op, fmt.Errorf("begin: %w", err))
	}
	tx := &Tx{sqlTx: sqlTx, after: &afterCommit{}}
	tx.store = store{q: sqlTx, d: db.d, db: db, inT: true, now: db.now}
	db.open.Store(sqlTx, tx.after)
	committed := false
	defer func() {
		db.open.Delete(sqlTx)
		if !committed {
			_ = sqlTx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		// fn's own errors keep their kind; a driver error that reached
		// fn unclassified (a statement of another package in this
		// transaction, such as the job queue's insert, perhaps wrapped as
		// Internal on its way) is classified here,
		// so that a lost connection is Unavailable (503, retry), not
		// Internal.
		if esign.ErrorKind(err) == esign.Internal {
			if k, msg, ok := db.d.classify(err); ok {
				return esign.E(op, k, msg, err)
			}
		}
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		if k, _, ok := db.d.classify(err); ok && k == esign.Unavailable {
			// The connection broke during COMMIT: the server may have
			// committed. The caller must not undo what lives outside the
			// database (stored files) on this error.
			return db.wrap(op, fmt.Errorf("commit: %w: %w", ErrCommitUncertain, err))
		}
		return db.wrap(op, fmt.Errorf("commit: %w", err))
	}
	committed = true
	tx.after.mu.Lock()
	fns := tx.after.fns
	tx.after.mu.Unlock()
	for _, f := range fns {
		f()
	}
	return nil
}

// SQLTx returns the underlying transaction, so that the job queue can
// enqueue in the same transaction (outbox).
func (tx *Tx) SQLTx() *sql.Tx { return tx.sqlTx }

// withTx runs fn on s when s is already a transaction, and otherwise in a
// new transaction.
func (s *store) withTx(ctx context.Context, fn func(s *store) error) error {
	if s.inT {
		return fn(s)
	}
	return s.db.InTx(ctx, func(tx *Tx) error { return fn(&tx.store) })
}

// wrap classifies a database error into an *esign.Error for op.
func (s *store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *esign.Error
	if errors.As(err, &e) {
		return esign.E(op, err)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return esign.E(op, esign.NotFound, "not found", err)
	case errors.Is(err, context.DeadlineExceeded):
		return esign.E(op, esign.Timeout, err)
	case errors.Is(err, context.Canceled):
		return esign.E(op, esign.Unavailable, "the request was canceled", err)
	}
	if k, msg, ok := s.d.classify(err); ok {
		return esign.E(op, k, msg, err)
	}
	return esign.E(op, err)
}
