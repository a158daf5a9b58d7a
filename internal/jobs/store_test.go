package jobs

// Small implementations of the package's store interfaces on real tables
// (SQLite in a temp dir, or a fresh PostgreSQL schema), so that the tests
// exercise the queue against a real database. sqlstore provides the
// production implementations.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"esign/internal/esigntest"
	"esign/internal/notify"
)

// testDB is an open database with River's tables and the test tables.
type testDB struct {
	*sql.DB
	dialect Dialect
	dsn     string // for a subprocess
}

// dialects lists the databases to run a test on: SQLite always, PostgreSQL
// when ESIGN_TEST_POSTGRES_URL is set (or required).
func dialects(testing.TB) []Dialect {
	return []Dialect{SQLite, Postgres}
}

func openDB(t testing.TB, d Dialect) *testDB {
	t.Helper()
	ctx := context.Background()
	var dsn string
	switch d {
	case SQLite:
		dsn = "file:" + filepath.Join(t.TempDir(), "esign.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	case Postgres:
		base := esigntest.ServerURL(t, esigntest.PostgresURLEnv)
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		schema := fmt.Sprintf("jobs_test_%d", time.Now().UnixNano())
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			a, err := sql.Open("pgx", base)
			if err != nil {
				return
			}
			defer a.Close()
			if _, err := a.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				t.Logf("drop schema: %v", err)
			}
		})
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		qv := u.Query()
		qv.Set("search_path", schema)
		u.RawQuery = qv.Encode()
		dsn = u.String()
	}
	db := mustOpen(t, d, dsn)
	if err := Migrate(ctx, db.DB, d); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range schemaSQL(d) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	return db
}

// mustOpen opens dsn without creating anything.
func mustOpen(tb testing.TB, d Dialect, dsn string) *testDB {
	tb.Helper()
	driver := "sqlite"
	if d == Postgres {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	if d == SQLite {
		db.SetMaxOpenConns(1)
	} else {
		db.SetMaxOpenConns(20)
	}
	tb.Cleanup(func() { db.Close() })
	return &testDB{DB: db, dialect: d, dsn: dsn}
}

func schemaSQL(d Dialect) []string {
	id := "id INTEGER PRIMARY KEY AUTOINCREMENT"
	if d == Postgres {
		id = "id BIGSERIAL PRIMARY KEY"
	}
	return []string{
		`CREATE TABLE delivery_log (key TEXT PRIMARY KEY, job_id BIGINT NOT NULL, attempt INT NOT NULL, kind TEXT NOT NULL,
			channel TEXT NOT NULL, recipient TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL,
			provider TEXT NOT NULL, provider_id TEXT NOT NULL, error_code TEXT NOT NULL, error TEXT NOT NULL, at BIGINT NOT NULL)`,
		`CREATE TABLE cron_run (` + id + `, name TEXT NOT NULL, trigger_kind TEXT NOT NULL, slot BIGINT NOT NULL, node TEXT NOT NULL,
			started_at BIGINT NOT NULL, ended_at BIGINT NOT NULL, status TEXT NOT NULL, result TEXT NOT NULL, error TEXT NOT NULL)`,
		`CREATE TABLE cron_run_log (run_id BIGINT NOT NULL, level TEXT NOT NULL, msg TEXT NOT NULL, at BIGINT NOT NULL)`,
		`CREATE TABLE offers (id TEXT PRIMARY KEY, title TEXT NOT NULL, customer_name TEXT NOT NULL, phone TEXT NOT NULL,
			status TEXT NOT NULL, expires_at BIGINT NOT NULL)`,
		`CREATE TABLE documents (id TEXT PRIMARY KEY, signed INT NOT NULL, created_at BIGINT NOT NULL, signed_at BIGINT NOT NULL)`,
		`CREATE TABLE short_urls (code TEXT PRIMARY KEY, expires_at BIGINT NOT NULL)`,
	}
}

// rebind turns ? placeholders into $n for PostgreSQL.
func (db *testDB) rebind(q string) string {
	if db.dialect != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (db *testDB) exec(tb testing.TB, q string, args ...any) {
	tb.Helper()
	if _, err := db.ExecContext(context.Background(), db.rebind(q), args...); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
}

func (db *testDB) count(tb testing.TB, q string, args ...any) int {
	tb.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), db.rebind(q), args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}

// sqlLog is a LogStore on the delivery_log table.
type sqlLog struct{ db *testDB }

func (s sqlLog) RecordDelivery(ctx context.Context, d Delivery) error {
	_, err := s.db.ExecContext(ctx, s.db.rebind(`INSERT INTO delivery_log
		(key, job_id, attempt, kind, channel, recipient, subject, body, status, provider, provider_id, error_code, error, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET job_id = excluded.job_id, attempt = excluded.attempt, status = excluded.status,
		subject = excluded.subject, body = excluded.body, provider = excluded.provider, provider_id = excluded.provider_id,
		error_code = excluded.error_code, error = excluded.error, at = excluded.at`),
		d.Key, d.JobID, d.Attempt, string(d.Kind), string(d.Channel), d.Recipient, d.Subject, d.Text, string(d.Status),
		d.Provider, d.ProviderID, d.ErrorCode, d.Error, d.At.UnixNano())
	return err
}

func (s sqlLog) FindDelivery(ctx context.Context, channel notify.Channel, key string) (Delivery, bool, error) {
	var d Delivery
	var at int64
	err := s.db.QueryRowContext(ctx, s.db.rebind(`SELECT key, job_id, attempt, kind, channel, recipient, subject, body, status,
		provider, provider_id, error_code, error, at FROM delivery_log WHERE channel = ? AND key = ?`), string(channel), key).Scan(
		&d.Key, &d.JobID, &d.Attempt, &d.Kind, &d.Channel, &d.Recipient, &d.Subject, &d.Text, &d.Status,
		&d.Provider, &d.ProviderID, &d.ErrorCode, &d.Error, &at)
	if err == sql.ErrNoRows {
		return Delivery{}, false, nil
	}
	if err != nil {
		return Delivery{}, false, err
	}
	d.At = time.Unix(0, at)
	return d, true, nil
}

// sqlRuns is a RunStore on cron_run and cron_run_log.
type sqlRuns struct{ db *testDB }

func (s sqlRuns) BeginRun(ctx context.Context, r Run) (string, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, s.db.rebind(`INSERT INTO cron_run (name, trigger_kind, slot, node, started_at, ended_at, status, result, error)
		VALUES (?, ?, ?, ?, ?, 0, ?, '', '') RETURNING id`), r.Name, r.Trigger, unixOrZero(r.Slot), r.Node, r.StartedAt.UnixNano(), r.Status).Scan(&id)
	return strconv.FormatInt(id, 10), err
}

func (s sqlRuns) LogRun(ctx context.Context, id string, level slog.Level, msg string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.db.rebind(`INSERT INTO cron_run_log (run_id, level, msg, at) VALUES (?, ?, ?, ?)`), id, level.String(), msg, at.UnixNano())
	return err
}

func (s sqlRuns) EndRun(ctx context.Context, r Run) error {
	_, err := s.db.ExecContext(ctx, s.db.rebind(`UPDATE cron_run SET ended_at = ?, status = ?, result = ?, error = ? WHERE id = ?`),
		r.EndedAt.UnixNano(), r.Status, r.Result, r.Error, r.ID)
	return err
}

func (s sqlRuns) LastScheduledRun(ctx context.Context, name string) (Run, bool, error) {
	var r Run
	var id, slot, started int64
	err := s.db.QueryRowContext(ctx, s.db.rebind(`SELECT id, slot, started_at, node, status FROM cron_run
		WHERE name = ? AND trigger_kind = 'schedule' ORDER BY started_at DESC LIMIT 1`), name).Scan(&id, &slot, &started, &r.Node, &r.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, err
	}
	r.ID, r.Name, r.Trigger, r.StartedAt = strconv.FormatInt(id, 10), name, "schedule", time.Unix(0, started)
	if slot != 0 {
		r.Slot = time.Unix(0, slot)
	}
	return r, true, nil
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// sqlOffers implements OfferExpirer, DocumentDeleter and URLDeleter.
type sqlOffers struct{ db *testDB }

func (s sqlOffers) ExpireDueOffers(ctx context.Context, now time.Time, enqueue func(context.Context, *sql.Tx, []ExpiredOffer) error) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, s.db.rebind(`SELECT id, title, customer_name, phone, expires_at FROM offers WHERE status = 'open' AND expires_at < ?`), now.UnixNano())
	if err != nil {
		return 0, err
	}
	var offers []ExpiredOffer
	for rows.Next() {
		var o ExpiredOffer
		var phone string
		var exp int64
		if err := rows.Scan(&o.OfferID, &o.Title, &o.CustomerName, &phone, &exp); err != nil {
			rows.Close()
			return 0, err
		}
		o.ExpiresAt, o.Lang = time.Unix(0, exp), notify.Hungarian
		o.Recipients = []Recipient{{Channel: notify.SMS, To: phone}}
		offers = append(offers, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, o := range offers {
		if _, err := tx.ExecContext(ctx, s.db.rebind(`UPDATE offers SET status = 'expired' WHERE id = ?`), o.OfferID); err != nil {
			return 0, err
		}
	}
	if err := enqueue(ctx, tx, offers); err != nil {
		return 0, err
	}
	return len(offers), tx.Commit()
}

func (s sqlOffers) DeleteDocuments(ctx context.Context, unsignedBefore, signedBefore time.Time) (int64, error) {
	q := `DELETE FROM documents WHERE (signed = 0 AND created_at < ?)`
	args := []any{unsignedBefore.UnixNano()}
	if !signedBefore.IsZero() {
		q += ` OR (signed = 1 AND signed_at < ?)`
		args = append(args, signedBefore.UnixNano())
	}
	res, err := s.db.ExecContext(ctx, s.db.rebind(q), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s sqlOffers) DeleteExpiredShorteners(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.db.rebind(`DELETE FROM short_urls WHERE expires_at < ?`), now.UnixNano())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
