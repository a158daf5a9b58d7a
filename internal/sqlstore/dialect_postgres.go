package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"esign/internal/esign"
)

// postgresDialect is PostgreSQL through pgx's database/sql driver. The DSN is
// a postgres:// URL or key=value string; extra runtime parameters such as
// search_path may be given in it.
type postgresDialect struct{}

func (postgresDialect) name() string { return "postgres" }

func (postgresDialect) open(ctx context.Context, cfg Config, wrap func(driver.Connector) driver.Connector) (*sql.DB, error) {
	const op = "sqlstore.Open"
	pc, err := pgx.ParseConfig(cfg.DSN)
	if err != nil {
		// The parse error may echo the password; do not wrap it.
		return nil, esign.E(op, esign.Invalid, "the postgres URL is not valid")
	}
	db := sql.OpenDB(wrap(stdlib.GetConnector(*pc)))
	n := cfg.MaxOpenConns
	if n <= 0 {
		n = 20
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		addr := net.JoinHostPort(pc.Host, strconv.Itoa(int(pc.Port)))
		return nil, esign.E(op, esign.Unavailable, fmt.Sprintf("connect to postgres at %s: %s", addr, pgCause(err)), err)
	}
	return db, nil
}

// pgCause is the short reason a connection failed.
func pgCause(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		msg := oe.Err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return msg
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

// rebind replaces the ? placeholders outside string literals with $1, $2, ….
func (postgresDialect) rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	inStr := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			inStr = !inStr
		case c == '?' && !inStr:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func (postgresDialect) timeValue(t time.Time) any { return t }

// classify maps SQLSTATE codes: 23505 unique_violation, 23503
// foreign_key_violation, 23514 check_violation, 23502 not_null_violation,
// 22P02 invalid_text_representation (e.g. a malformed uuid), 40001
// serialization_failure, 40P01 deadlock_detected, 55P03 lock_not_available.
func (postgresDialect) forUpdate() string { return " FOR UPDATE" }

func (postgresDialect) classify(err error) (esign.Kind, string, bool) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		// A connection that could not be made, or broke under a query
		// (the server restarted, a proxy cut it): the client may retry.
		var ce *pgconn.ConnectError
		var ne net.Error
		if pgconn.SafeToRetry(err) || pgconn.Timeout(err) || errors.As(err, &ce) || errors.As(err, &ne) ||
			errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) ||
			errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
			return esign.Unavailable, "the database is not reachable", true
		}
		return 0, "", false
	}
	if strings.HasPrefix(pe.Code, "08") { // connection exception
		return esign.Unavailable, "the database is not reachable", true
	}
	switch pe.Code {
	case "23505":
		return esign.Conflict, "it exists already", true
	case "23503":
		return esign.Invalid, "it refers to something that does not exist or is still referred to", true
	case "23514", "23502", "22P02", "22001", "22007", "22008":
		return esign.Invalid, "a value is not allowed", true
	case "40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300":
		return esign.Unavailable, "the database is busy", true
	}
	return 0, "", false
}

func (postgresDialect) migrations() fs.FS {
	f, err := fs.Sub(migrationFS, "migrations/postgres")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return f
}

// goose uses a session advisory lock so that replicas starting at once
// migrate one after the other.
func (postgresDialect) goose() (goose.Dialect, []goose.ProviderOption, error) {
	l, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return "", nil, err
	}
	return goose.DialectPostgres, []goose.ProviderOption{goose.WithSessionLocker(l)}, nil
}

func (postgresDialect) columns(ctx context.Context, db *sql.DB) (map[string][]string, error) {
	return queryColumns(ctx, db, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() ORDER BY table_name, column_name`)
}
