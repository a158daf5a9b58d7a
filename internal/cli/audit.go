package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"esign/internal/auditchain"
	"esign/internal/tsa"
)

// runAudit: esign audit verify [--from DATE] [--trust CA.pem]… [--json]
// recomputes the audit log's hash chain and checks its anchors
// (docs/evidence.md); exit 0 when it holds, 1 at the first break. esign
// audit anchor time-stamps the chain head now.
func runAudit(ctx context.Context, env Env, args []string) error {
	const usage = "usage: esign audit verify [--from DATE] [--trust CA.pem]… [--json] | esign audit anchor"
	if len(args) == 0 {
		return usagef(usage)
	}
	switch args[0] {
	case "verify":
		return runAuditVerify(ctx, env, args[1:])
	case "anchor":
		return runAuditAnchor(ctx, env, args[1:])
	}
	return usagef(usage)
}

func runAuditVerify(ctx context.Context, env Env, args []string) error {
	fs, path := newFlagSet(env, "audit verify")
	from := fs.String("from", "", "check from the first entry made on or after this date (2006-01-02 or RFC 3339); default: the whole chain")
	var trust stringList
	fs.Var(&trust, "trust", "PEM file of a trust anchor of the TSA (repeatable; default: the system roots and the development CA of the data directory)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("usage: esign audit verify [--from DATE] [--trust CA.pem]… [--json]")
	}
	var opt auditchain.Options
	if *from != "" {
		t, err := parseDate(*from)
		if err != nil {
			return usagef("--from %q: want 2006-01-02 or an RFC 3339 time", *from)
		}
		opt.From = t
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	roots, err := trustPool(cfg, trust)
	if err != nil {
		return usagef("%s", err)
	}
	opt.TSA = tsa.VerifyOptions{Roots: roots}
	db, err := openCurrentDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := auditchain.Verify(ctx, db, opt)
	if err != nil {
		return err
	}
	before, err := db.CountAuditBeforeChain(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		b, err := json.MarshalIndent(struct {
			*auditchain.Report
			OK          bool  `json:"ok"`
			BeforeChain int64 `json:"beforeChain"`
		}{rep, rep.OK(), before}, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s\n", b)
	} else {
		if rep.Entries == 0 {
			fmt.Fprintln(env.Stdout, "entries:  none chained")
		} else {
			fmt.Fprintf(env.Stdout, "entries:  %d checked (seq %d to %d)\n", rep.Entries, rep.FirstSeq, rep.LastSeq)
		}
		last := ""
		if !rep.LastAnchor.IsZero() {
			last = ", the newest of " + rep.LastAnchor.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(env.Stdout, "anchors:  %d checked%s\n", rep.Anchors, last)
		if before > 0 {
			fmt.Fprintf(env.Stdout, "before the chain: %d entries (not covered)\n", before)
		}
		if rep.OK() {
			fmt.Fprintln(env.Stdout, "result:   intact")
		} else {
			fmt.Fprintf(env.Stdout, "result:   BROKEN at %s\n", rep.Break)
		}
	}
	if !rep.OK() {
		return exitStatus{Code: exitFailed}
	}
	return nil
}

// parseDate reads a date (UTC midnight) or an RFC 3339 time.
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

func runAuditAnchor(ctx context.Context, env Env, args []string) error {
	fs, path := newFlagSet(env, "audit anchor")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("usage: esign audit anchor")
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	client, err := tsaClient(cfg, "", nil)
	if err != nil {
		return usagef("%s", err)
	}
	db, err := openCurrentDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := auditchain.Anchor(ctx, db, client, "manual")
	if err != nil {
		return err
	}
	if a == nil {
		fmt.Fprintln(env.Stdout, "nothing to anchor: the chain is empty or its head is anchored already")
		return nil
	}
	fmt.Fprintf(env.Stdout, "anchored seq %d (%s) at %s\n", a.Seq, a.HeadHash, a.GenTime.UTC().Format(time.RFC3339Nano))
	return nil
}
