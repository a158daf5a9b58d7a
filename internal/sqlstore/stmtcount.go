package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"sync/atomic"
)

// stmtCounter counts the statements a pool sends to the database: every
// query and exec, prepared or not, and BEGIN, COMMIT and ROLLBACK, whoever
// issues them through the pool — the repository methods, the job queue
// (River drives both engines through this *sql.DB) and the migrations. It
// counts what the database is asked to run, the figure the signing-flow
// benchmark divides by the flows (docs/performance.md): on PostgreSQL it
// matches pg_stat_statements' calls, except that a statement the server
// rejects is counted here and not there. Not counted: the pool's pings and
// pgx's connection set-up and session resets. On SQLite one exec of a
// script of several statements (a migration file) counts once.
//
// It sits below database/sql as a wrapping driver.Connector, so that no
// caller can bypass it and the engines need no code of their own.
type stmtCounter struct{ n atomic.Uint64 }

// Statements returns the statements the pool has sent since Open (see
// stmtCounter for what counts).
func (db *DB) Statements() uint64 { return db.stmts.n.Load() }

// connector wraps c so that the connections it makes are counted.
func (sc *stmtCounter) connector(c driver.Connector) driver.Connector {
	return &countingConnector{Connector: c, sc: sc}
}

type countingConnector struct {
	driver.Connector
	sc *stmtCounter
}

func (c *countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, sc: c.sc}, nil
}

// countingConn forwards every optional interface the drivers' connections
// implement (database/sql falls back to slower or context-free paths for
// one a wrapper hides). Where the wrapped connection lacks one it answers
// as database/sql would without it: driver.ErrSkip, or no check.
type countingConn struct {
	driver.Conn
	sc *stmtCounter
}

// Unwrap returns the driver's connection (modernc.org/sqlite's Limit looks
// through wrappers this way).
func (c *countingConn) Unwrap() driver.Conn { return c.Conn }

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip // database/sql prepares it instead: counted by the statement
	}
	r, err := e.ExecContext(ctx, query, args)
	if err != driver.ErrSkip {
		c.sc.n.Add(1)
	}
	return r, err
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	r, err := q.QueryContext(ctx, query, args)
	if err != driver.ErrSkip {
		c.sc.n.Add(1)
	}
	return r, err
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var s driver.Stmt
	var err error
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		s, err = p.PrepareContext(ctx, query)
	} else {
		s, err = c.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: s, conn: c}, nil
}

func (c *countingConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	var tx driver.Tx
	var err error
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		tx, err = c.Conn.Begin() //nolint:staticcheck // the fallback database/sql itself would take
	}
	if err != nil {
		return nil, err
	}
	c.sc.n.Add(1) // BEGIN
	return &countingTx{Tx: tx, sc: c.sc}, nil
}

func (c *countingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *countingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// CheckNamedValue keeps pgx's own argument conversion (it takes any Go
// value its type map knows).
func (c *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if v, ok := c.Conn.(driver.NamedValueChecker); ok {
		return v.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type countingTx struct {
	driver.Tx
	sc *stmtCounter
}

func (t *countingTx) Commit() error {
	t.sc.n.Add(1)
	return t.Tx.Commit()
}

func (t *countingTx) Rollback() error {
	t.sc.n.Add(1)
	return t.Tx.Rollback()
}

// countingStmt counts each execution of a prepared statement.
type countingStmt struct {
	driver.Stmt
	conn *countingConn
}

// The statements of both drivers have the context methods; database/sql
// calls only these on a statement that has them.
var errNoStmtContext = errors.New("sqlstore: the driver's prepared statement lacks the context methods")

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	e, ok := s.Stmt.(driver.StmtExecContext)
	if !ok {
		return nil, errNoStmtContext
	}
	s.conn.sc.n.Add(1)
	return e.ExecContext(ctx, args)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := s.Stmt.(driver.StmtQueryContext)
	if !ok {
		return nil, errNoStmtContext
	}
	s.conn.sc.n.Add(1)
	return q.QueryContext(ctx, args)
}

// CheckNamedValue asks the statement, then its connection: database/sql
// asks only the statement when it has a checker.
func (s *countingStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if v, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return v.CheckNamedValue(nv)
	}
	return s.conn.CheckNamedValue(nv)
}
