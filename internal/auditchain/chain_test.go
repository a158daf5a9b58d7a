package auditchain_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/auditchain"
	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/sqlstore"
	"esign/internal/tsa"
	"esign/internal/tsa/tsatest"
)

// engines runs fn on SQLite and on PostgreSQL (when configured), each with
// a fresh database and its DSN.
func engines(t *testing.T, fn func(t *testing.T, db *sqlstore.DB, driver, dsn string)) {
	t.Run("sqlite", func(t *testing.T) {
		dsn := filepath.Join(t.TempDir(), "esign.db")
		fn(t, open(t, "sqlite", dsn), "sqlite", dsn)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := esigntest.PostgresSchemaURL(t)
		fn(t, open(t, "postgres", dsn), "postgres", dsn)
	})
}

func open(tb testing.TB, driver, dsn string) *sqlstore.DB {
	tb.Helper()
	db, err := sqlstore.Open(context.Background(), sqlstore.Config{Driver: driver, DSN: dsn})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.MigrateUp(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return db
}

func appendN(tb testing.TB, db *sqlstore.DB, n int, tag string) {
	tb.Helper()
	for i := range n {
		e := &esign.AuditLog{ActorType: "user", ActorID: "u1", Action: "test.append", ObjectType: "offer",
			ObjectID: fmt.Sprintf("%s-%d", tag, i), Detail: `{"i":` + strconv.Itoa(i) + `}`, IP: "127.0.0.1"}
		if err := db.CreateAuditLog(context.Background(), e); err != nil {
			tb.Fatalf("append %s %d: %v", tag, i, err)
		}
	}
}

func verify(tb testing.TB, db *sqlstore.DB, roots *tsa.VerifyOptions) *auditchain.Report {
	tb.Helper()
	rep, err := auditchain.Verify(context.Background(), db, auditchain.Options{TSA: *roots})
	if err != nil {
		tb.Fatal(err)
	}
	return rep
}

func TestEncodeIsInjective(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	a := &esign.AuditLog{ID: "x", ActorType: "user", Action: "a", ObjectType: "bc", CreatedAt: at, Seq: 1, PrevHash: auditchain.Genesis}
	b := *a
	b.Action, b.ObjectType = "ab", "c" // the same characters, split differently
	ha, _ := auditchain.Hash(a, 1)
	hb, _ := auditchain.Hash(&b, 1)
	if ha == hb {
		t.Fatal("two entries whose fields differ only in where they split hash alike")
	}
	if _, ok := auditchain.Hash(a, 2); ok {
		t.Fatal("an unknown version hashed")
	}
}

// TestVerifyNamesTheBreak changes one byte in each place of a chain —
// an entry field, a stored hash, a link, the head, an anchor's token,
// hash, time or seq, a missing entry — and expects Verify to name it.
func TestVerifyNamesTheBreak(t *testing.T) {
	ts := tsatest.Start(t, 0)
	opts := &tsa.VerifyOptions{Roots: ts.Roots}
	flipHex := func(col string) string {
		// One hex digit changed: 0→1, anything else → 0.
		return "UPDATE %s SET " + col + " = CASE WHEN substr(" + col + ", 10, 1) = '0' THEN substr(" + col + ", 1, 9) || '1' || substr(" + col + ", 11) " +
			"ELSE substr(" + col + ", 1, 9) || '0' || substr(" + col + ", 11) END WHERE %s"
	}
	cases := []breakCase{
		{"entry_detail", "UPDATE %s SET detail = '{\"i\":3}' WHERE %s", "audit_log", "seq = 5", 5, false, "fields hash to"},
		{"entry_actor", "UPDATE %s SET actor_id = 'u2' WHERE %s", "audit_log", "seq = 2", 2, false, "fields hash to"},
		{"entry_action_one_byte", "UPDATE %s SET action = 'test.appenD' WHERE %s", "audit_log", "seq = 7", 7, false, "fields hash to"},
		{"entry_created_at", "UPDATE %s SET created_at = '2020-01-01T00:00:00.000000Z' WHERE %s", "audit_log", "seq = 9", 9, false, "fields hash to"},
		{"anchor_gen_time", "UPDATE %s SET gen_time = '2020-01-01T00:00:00.000000Z' WHERE %s", "audit_anchor", "seq = 10", 10, true, "anchor's time"},
		{"entry_hash", flipHex("hash"), "audit_log", "seq = 4", 4, false, "fields hash to"},
		{"entry_prev_hash", flipHex("prev_hash"), "audit_log", "seq = 6", 6, false, "prev_hash is"},
		{"entry_seq", "UPDATE %s SET seq = 100 WHERE %s", "audit_log", "seq = 3", 3, false, "missing"},
		{"entry_deleted", "DELETE FROM %s WHERE %s", "audit_log", "seq = 8", 8, false, "missing"},
		{"last_entry_deleted", "DELETE FROM %s WHERE %s", "audit_log", "seq = 12", 12, false, "missing"},
		{"head_hash", flipHex("hash"), "audit_chain_head", "id = 1", 12, false, "head's hash"},
		{"anchor_head_hash", flipHex("head_hash"), "audit_anchor", "seq = 10", 10, true, "head hash"},
		{"anchor_seq", "UPDATE %s SET seq = 9 WHERE %s", "audit_anchor", "seq = 10", 9, true, "head hash"},
	}
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) { testBreaks(t, driver, cases, ts, opts) })
	}
}

type breakCase struct {
	name     string
	sql      string // %s: table, %s: where
	table    string
	where    string
	seq      int64
	anchor   bool
	contains string
}

func testBreaks(t *testing.T, driver string, cases []breakCase, ts *tsatest.TSA, opts *tsa.VerifyOptions) {
	{
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				db := freshChain(t, driver, ts)
				if rep := verify(t, db, opts); !rep.OK() || rep.Entries != 12 || rep.Anchors != 1 {
					t.Fatalf("before the change: %+v %v", rep, rep.Break)
				}
				q := fmt.Sprintf(c.sql, c.table, c.where)
				if _, err := db.SQL().ExecContext(t.Context(), q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				rep := verify(t, db, opts)
				if rep.OK() {
					t.Fatal("the change went unnoticed")
				}
				b := rep.Break
				if b.Seq != c.seq || (b.AnchorID != "") != c.anchor || !strings.Contains(b.What, c.contains) {
					t.Fatalf("break %v, want seq %d anchor=%v containing %q", b, c.seq, c.anchor, c.contains)
				}
			})
		}
		// The token: one byte changed at several places, each caught.
		for _, at := range []int{10, 200, -1} {
			t.Run(fmt.Sprintf("anchor_token_byte_%d", at), func(t *testing.T) {
				db := freshChain(t, driver, ts)
				as, err := db.ListAuditAnchors(t.Context(), 0, auditchain.NilID, 10)
				if err != nil || len(as) != 1 {
					t.Fatal(as, err)
				}
				tok := as[0].Token
				i := at
				if i < 0 {
					i = len(tok) + i
				}
				tok[i] ^= 0x01
				q := "UPDATE audit_anchor SET token = ? WHERE id = ?"
				if driver == "postgres" {
					q = "UPDATE audit_anchor SET token = $1 WHERE id = $2"
				}
				if _, err := db.SQL().ExecContext(t.Context(), q, tok, as[0].ID); err != nil {
					t.Fatal(err)
				}
				rep := verify(t, db, opts)
				if rep.OK() || rep.Break.AnchorID != as[0].ID || rep.Break.Seq != 10 {
					t.Fatalf("break %v, want anchor %s", rep.Break, as[0].ID)
				}
			})
		}
	}
}

// freshChain opens a new database of the driver with 12 chained entries,
// the head anchored at seq 10.
func freshChain(t *testing.T, driver string, ts *tsatest.TSA) *sqlstore.DB {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "esign.db")
	if driver == "postgres" {
		if testing.Short() {
			t.Skip("a PostgreSQL schema per case")
		}
		dsn = esigntest.PostgresSchemaURL(t)
	}
	db := open(t, driver, dsn)
	appendN(t, db, 10, "a")
	if a, err := auditchain.Anchor(t.Context(), db, ts.Client, "schedule"); err != nil || a == nil || a.Seq != 10 {
		t.Fatalf("anchor: %v %v", a, err)
	}
	appendN(t, db, 2, "b")
	return db
}

func TestAnchorAndFrom(t *testing.T) {
	ts := tsatest.Start(t, 0)
	opts := tsa.VerifyOptions{Roots: ts.Roots}
	engines(t, func(t *testing.T, db *sqlstore.DB, _, _ string) {
		ctx := t.Context()
		if a, err := auditchain.Anchor(ctx, db, ts.Client, "schedule"); err != nil || a != nil {
			t.Fatalf("an empty chain anchored: %v %v", a, err)
		}
		rep, err := auditchain.Verify(ctx, db, auditchain.Options{TSA: opts})
		if err != nil || !rep.OK() || rep.Entries != 0 {
			t.Fatalf("empty chain: %+v %v", rep, err)
		}
		appendN(t, db, 3, "x")
		a1, err := auditchain.Anchor(ctx, db, ts.Client, "schedule")
		if err != nil || a1 == nil {
			t.Fatal(a1, err)
		}
		if a, err := auditchain.Anchor(ctx, db, ts.Client, "shutdown"); err != nil || a != nil {
			t.Fatalf("the anchored head anchored again: %v %v", a, err)
		}
		mid := time.Now().Add(time.Millisecond)
		time.Sleep(5 * time.Millisecond)
		appendN(t, db, 3, "y")
		if _, err := auditchain.Anchor(ctx, db, ts.Client, "shutdown"); err != nil {
			t.Fatal(err)
		}
		rep, err = auditchain.Verify(ctx, db, auditchain.Options{TSA: opts})
		if err != nil || !rep.OK() || rep.Entries != 6 || rep.Anchors != 2 {
			t.Fatalf("whole chain: %+v %v", rep, err)
		}
		rep, err = auditchain.Verify(ctx, db, auditchain.Options{TSA: opts, From: mid})
		if err != nil || !rep.OK() || rep.FirstSeq != 4 || rep.Entries != 3 || rep.Anchors != 1 {
			t.Fatalf("from %v: %+v %v", mid, rep, err)
		}
		// Read in batches of one and two, with two anchors of one head
		// (a scheduled and a shutdown anchor racing): the same answer.
		if err := db.CreateAuditAnchor(ctx, &esign.AuditAnchor{Seq: a1.Seq, HeadHash: a1.HeadHash, Token: a1.Token,
			GenTime: a1.GenTime, TSAName: a1.TSAName, Reason: "shutdown"}); err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 2, 3} {
			rep, err = auditchain.Verify(ctx, db, auditchain.Options{TSA: opts, Batch: n})
			if err != nil || !rep.OK() || rep.Entries != 6 || rep.Anchors != 3 {
				t.Fatalf("batch %d: %+v %v %v", n, rep, rep.Break, err)
			}
		}
		// A TSA the verifier does not trust: the anchor breaks.
		other := tsatest.Start(t, 0)
		rep, err = auditchain.Verify(ctx, db, auditchain.Options{TSA: tsa.VerifyOptions{Roots: other.Roots}})
		if err != nil || rep.OK() || rep.Break.Seq != a1.Seq || !strings.Contains(rep.Break.What, "certificate") {
			t.Fatalf("untrusted TSA: %+v %v", rep.Break, err)
		}
	})
}

// TestAppendInCallersTransaction: an entry appended in a transaction that
// rolls back leaves no gap and the head where it was.
func TestAppendInCallersTransaction(t *testing.T) {
	engines(t, func(t *testing.T, db *sqlstore.DB, _, _ string) {
		appendN(t, db, 2, "a")
		err := db.InTx(t.Context(), func(tx *sqlstore.Tx) error {
			if err := tx.CreateAuditLog(t.Context(), &esign.AuditLog{ActorType: "system", Action: "test.rolled_back"}); err != nil {
				return err
			}
			return esign.E("test", esign.Conflict, "roll back")
		})
		if !esign.IsKind(err, esign.Conflict) {
			t.Fatal(err)
		}
		appendN(t, db, 1, "b")
		rep := verify(t, db, &tsa.VerifyOptions{})
		if !rep.OK() || rep.LastSeq != 3 {
			t.Fatalf("%+v %v", rep, rep.Break)
		}
	})
}

// The replicas: TestConcurrentReplicas starts two OS processes (this test
// binary again, as TestHelperReplica) that append to the same PostgreSQL
// schema at once, each with its own pool and several goroutines, and then
// checks that there is one chain with every entry.
const replicaEnv = "ESIGN_AUDITCHAIN_REPLICA_DSN"

func TestHelperReplica(t *testing.T) {
	dsn := os.Getenv(replicaEnv)
	if dsn == "" {
		t.Skip("run by TestConcurrentReplicas")
	}
	db, err := sqlstore.Open(context.Background(), sqlstore.Config{Driver: "postgres", DSN: dsn, MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tag := os.Getenv(replicaEnv + "_TAG")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() { appendN(t, db, 25, fmt.Sprintf("%s-%d", tag, g)) })
	}
	wg.Wait()
}

func TestConcurrentReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two processes")
	}
	dsn := esigntest.PostgresSchemaURL(t)
	db := open(t, "postgres", dsn)
	var cmds []*exec.Cmd
	for _, tag := range []string{"r1", "r2"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperReplica$", "-test.count=1")
		cmd.Env = append(os.Environ(), replicaEnv+"="+dsn, replicaEnv+"_TAG="+tag)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	// This process is a third writer meanwhile.
	appendN(t, db, 20, "r0")
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("replica: %v", err)
		}
	}
	rep := verify(t, db, &tsa.VerifyOptions{})
	if !rep.OK() || rep.Entries != 220 || rep.LastSeq != 220 {
		t.Fatalf("%+v, break %v", rep, rep.Break)
	}
}

// TestRewrittenChainCaughtByAnchor: someone with write access changes an
// entry and recomputes every later hash and the head, so that the chain
// holds by itself; the anchor over the old head names the break.
func TestRewrittenChainCaughtByAnchor(t *testing.T) {
	ts := tsatest.Start(t, 0)
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			if driver == "postgres" {
				esigntest.ServerURL(t, esigntest.PostgresURLEnv)
			}
			db := freshChain(t, driver, ts)
			ctx := t.Context()
			es, err := db.ListAuditChain(ctx, 1, 100)
			if err != nil || len(es) != 12 {
				t.Fatal(len(es), err)
			}
			q := "UPDATE audit_log SET detail = ?, prev_hash = ?, hash = ? WHERE id = ?"
			qh := "UPDATE audit_chain_head SET hash = ? WHERE id = 1"
			if driver == "postgres" {
				q = "UPDATE audit_log SET detail = $1, prev_hash = $2, hash = $3 WHERE id = $4"
				qh = "UPDATE audit_chain_head SET hash = $1 WHERE id = 1"
			}
			prev := es[3].Hash
			for _, e := range es[4:] {
				if e.Seq == 5 {
					e.Detail = `{"i":"rewritten"}`
				}
				auditchain.Link(e, e.Seq-1, prev)
				if _, err := db.SQL().ExecContext(ctx, q, e.Detail, e.PrevHash, e.Hash, e.ID); err != nil {
					t.Fatal(err)
				}
				prev = e.Hash
			}
			if _, err := db.SQL().ExecContext(ctx, qh, prev); err != nil {
				t.Fatal(err)
			}
			rep := verify(t, db, &tsa.VerifyOptions{Roots: ts.Roots})
			if rep.OK() || rep.Break.Seq != 10 || rep.Break.AnchorID == "" || !strings.Contains(rep.Break.What, "head hash") {
				t.Fatalf("break %v", rep.Break)
			}
		})
	}
}
