package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/esign"
	"esign/internal/sqlstore"
)

// TestAuditVerify: esign audit verify passes on an intact chain, names the
// entry whose field was changed and exits 1, and refuses a bad --from.
func TestAuditVerify(t *testing.T) {
	dir := t.TempDir()
	env := testEnviron(dir)
	if code, _, errs := run(t, t.Context(), env, nil, "user", "create", "--username", "erik"); code != 0 {
		t.Fatal(errs)
	}
	db, err := sqlstore.Open(t.Context(), sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(dir, "esign.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ids []string
	for range 5 {
		e := &esign.AuditLog{ActorType: "system", Action: "test.entry", Detail: `{"ok":true}`}
		if err := db.CreateAuditLog(t.Context(), e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	code, out, errs := run(t, t.Context(), env, nil, "audit", "verify")
	if code != 0 || !strings.Contains(out, "result:   intact") {
		t.Fatalf("intact chain: %d %q %q", code, out, errs)
	}
	if logs, err := db.ListAuditLogs(t.Context(), esign.AuditLogFilter{Action: "user.create"}); err != nil || len(logs) != 1 || logs[0].Seq != 1 {
		t.Errorf("the CLI's user create in the chain: %+v %v", logs, err)
	}
	code, out, _ = run(t, t.Context(), env, nil, "audit", "verify", "--from", "2000-01-01", "--json")
	var rep struct {
		OK      bool  `json:"ok"`
		Entries int64 `json:"entries"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || !rep.OK || rep.Entries < 5 {
		t.Fatalf("--json: %d %q", code, out)
	}
	if _, err := db.SQL().ExecContext(t.Context(), `UPDATE audit_log SET detail = '{"ok":false}' WHERE id = ?`, ids[2]); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(t, t.Context(), env, nil, "audit", "verify")
	if code != 1 || !strings.Contains(out, "BROKEN at entry "+ids[2]) || !strings.Contains(out, "fields hash to") {
		t.Fatalf("changed entry: %d %q", code, out)
	}
	if code, _, errs := run(t, t.Context(), env, nil, "audit", "verify", "--from", "yesterday"); code != 2 || !strings.Contains(errs, "--from") {
		t.Fatalf("bad --from: %d %q", code, errs)
	}
}

// TestShutdownAnchorsAuditChain: esign all time-stamps the audit chain's
// head when it stops (with its built-in TSA, in-process, its listener
// closed by then), and esign audit verify checks that anchor.
func TestShutdownAnchorsAuditChain(t *testing.T) {
	dir := t.TempDir()
	env := testEnviron(dir)
	t.Run("run", func(t *testing.T) {
		startProcess(t, "all", env) // stopped when the subtest ends
		db, err := sqlstore.Open(t.Context(), sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(dir, "esign.db")})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.CreateAuditLog(t.Context(), &esign.AuditLog{ActorType: "system", Action: "test.before_shutdown"}); err != nil {
			t.Fatal(err)
		}
	})
	db, err := sqlstore.Open(t.Context(), sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(dir, "esign.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, ok, err := db.LastAuditAnchor(t.Context())
	seq, _, _ := db.AuditChainHead(t.Context())
	if err != nil || !ok || a.Reason != "shutdown" || a.Seq != seq {
		t.Fatalf("anchor %+v %v %v, head seq %d", a, ok, err, seq)
	}
	code, out, errs := run(t, t.Context(), env, nil, "audit", "verify")
	if code != 0 || !strings.Contains(out, "anchors:  1 checked") {
		t.Fatalf("audit verify: %d %q %q", code, out, errs)
	}
}

// TestCronRunAuditAnchor: the AuditAnchor cron job stamps the head with the
// configured TSA (here an esign tsa process), once.
func TestCronRunAuditAnchor(t *testing.T) {
	dir := t.TempDir()
	env := testEnviron(dir)
	if code, _, errs := run(t, t.Context(), env, nil, "migrate", "up"); code != 0 {
		t.Fatalf("migrate: %s", errs)
	}
	addrs := startProcess(t, "tsa", env)
	env = append(env, "ESIGN_TSA_URL=http://"+addrs["tsa"]+"/")
	db, err := sqlstore.Open(t.Context(), sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(dir, "esign.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateAuditLog(t.Context(), &esign.AuditLog{ActorType: "system", Action: "test.entry"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"anchored seq 1", "anchored already"} {
		code, out, errs := run(t, t.Context(), env, nil, "cron", "run", "AuditAnchor")
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("cron run AuditAnchor: %d %q %q, want %q", code, out, errs, want)
		}
	}
	code, out, errs := run(t, t.Context(), env, nil, "audit", "verify")
	if code != 0 || !strings.Contains(out, "anchors:  1 checked") {
		t.Fatalf("audit verify: %d %q %q", code, out, errs)
	}
}
