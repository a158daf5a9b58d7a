package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"esign/internal/signing"
)

// check returns the invariants the scenario broke, read from the
// database and the downloaded contracts once the load has stopped.
func (fr *faultRun) check(ctx context.Context, records []*flowRecord, window time.Time, f fault) []string {
	var v []string
	add := func(format string, args ...any) { v = append(v, fmt.Sprintf(format, args...)) }
	// A dead process's jobs (seal, notify, event) come back first; then a
	// verified signature is sealed by its job, which a fault may delay:
	// give the seals time before judging.
	v = append(v, fr.checkRescued(ctx, window, f)...)
	fr.waitSealed(ctx, records, fr.o.limit/2)
	fr.waitQueued(ctx, window, 90*time.Second)
	for _, r := range records {
		if r.rejected != "" {
			add("a valid M2 of signature %s was rejected (%s)", r.sigID, r.rejected)
		}
		if r.internal500 > 0 {
			add("%d answers were HTTP 500, not 503 with Retry-After; the first: %s", r.internal500, r.first500)
		}
		if r.err != nil {
			add("the flow of offer %s gave up after %s: %v", r.offerID, r.end.Sub(r.start).Round(time.Second), r.err)
		}
		if r.offerID != "" && r.err == nil {
			var state string
			if err := fr.db.QueryRowContext(ctx, `SELECT state FROM offer WHERE id = $1`, r.offerID).Scan(&state); err != nil {
				add("read offer %s: %v", r.offerID, err)
			} else if state != "signed" {
				add("offer %s is %s after its flow ended", r.offerID, state)
			}
		}
		if r.verifiedAt.IsZero() {
			continue
		}
		v = append(v, fr.checkSealed(ctx, r)...)
	}
	// Nothing stuck past the takeover time.
	stale := time.Now().Add(-signing.ClaimTimeout - 15*time.Second)
	v = append(v, fr.ids(ctx, "signature %s stays m2_received past the takeover time",
		`SELECT id FROM signature WHERE status = 'm2_received' AND updated_at < $1 AND created_at >= $2`, stale, window)...)
	v = append(v, fr.ids(ctx, "offer %s stays signing with no signature waiting for its M2",
		`SELECT o.id FROM offer o WHERE o.state = 'signing' AND o.state_changed_at < $1
		AND o.created_at >= $2 AND NOT EXISTS (SELECT 1 FROM signature g WHERE g.offer_id = o.id AND g.status = 'm1_received')`,
		stale, window)...)
	// Once-only events.
	v = append(v, fr.ids(ctx, "event %s was recorded more than once",
		`SELECT type || ' ' || subject_id FROM webhook_event GROUP BY type, subject_id
		HAVING count(*) > 1 AND max(created_at) >= $1`, window)...)
	v = append(v, fr.checkSlots(ctx, window, f)...)
	return v
}

// rescueLimit is how soon after its process died a job left running must
// be running again elsewhere (issue 16: about a minute).
const rescueLimit = 90 * time.Second

// checkRescued: no job that started during the scenario stays running on
// a dead process longer than rescueLimit after the fault began.
func (fr *faultRun) checkRescued(ctx context.Context, window time.Time, f fault) []string {
	for {
		rows, err := fr.db.QueryContext(ctx, `SELECT id, kind, attempted_by[array_length(attempted_by, 1)]
			FROM river_job WHERE state = 'running' AND attempted_by IS NOT NULL AND attempted_at >= $1`, window)
		if err != nil {
			return []string{"read the running jobs: " + err.Error()}
		}
		var stuck []string
		for rows.Next() {
			var id int64
			var kind, by string
			if rows.Scan(&id, &kind, &by) == nil && !alive(pidOf(by)) {
				stuck = append(stuck, fmt.Sprintf("%s job %d of the dead %s", kind, id, by))
			}
		}
		rows.Close()
		if len(stuck) == 0 {
			return nil
		}
		if time.Since(f.start) > rescueLimit || ctx.Err() != nil {
			for i := range stuck {
				stuck[i] += fmt.Sprintf(" still running %s after the fault began", time.Since(f.start).Round(time.Second))
			}
			return stuck
		}
		time.Sleep(time.Second)
	}
}

// ids formats one violation per row of query (one text column).
func (fr *faultRun) ids(ctx context.Context, format, query string, args ...any) []string {
	rows, err := fr.db.QueryContext(ctx, query, args...)
	if err != nil {
		return []string{fmt.Sprintf("check %q: %v", format, err)}
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return append(out, err.Error())
		}
		out = append(out, fmt.Sprintf(format, id))
	}
	if err := rows.Err(); err != nil {
		out = append(out, err.Error())
	}
	return out
}

// waitQueued waits until no notification or event job of the scenario
// waits for a retry (a fault delays them with backoff), for at most
// limit: a message that has not arrived then counts as lost.
func (fr *faultRun) waitQueued(ctx context.Context, window time.Time, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var n int
		err := fr.db.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE kind IN ('notify', 'event')
			AND created_at >= $1 AND state IN ('available', 'scheduled', 'retryable')`, window).Scan(&n)
		if err == nil && n == 0 {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// waitSealed waits until every verified signature of the records is
// completed, for at most limit.
func (fr *faultRun) waitSealed(ctx context.Context, records []*flowRecord, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for _, r := range records {
		if r.verifiedAt.IsZero() {
			continue
		}
		for time.Now().Before(deadline) && ctx.Err() == nil {
			var st string
			if err := fr.db.QueryRowContext(ctx, `SELECT status FROM signature WHERE id = $1`, r.sigID).Scan(&st); err == nil && st == "completed" {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// checkSealed: the signature whose M2 was answered verified has exactly
// one contract, with a sealed document per offer document that `esign pdf
// verify` accepts, the contract_ready push once and offer.signed once.
func (fr *faultRun) checkSealed(ctx context.Context, r *flowRecord) []string {
	var v []string
	add := func(format string, args ...any) { v = append(v, fmt.Sprintf(format, args...)) }
	var st string
	if err := fr.db.QueryRowContext(ctx, `SELECT status FROM signature WHERE id = $1`, r.sigID).Scan(&st); err != nil {
		return []string{fmt.Sprintf("read signature %s: %v", r.sigID, err)}
	}
	if st != "completed" {
		add("signature %s was answered verified but is %s, without its contract", r.sigID, st)
		return v
	}
	var contracts int
	var contractID string
	if err := fr.db.QueryRowContext(ctx, `SELECT count(*), coalesce(min(id::text), '') FROM contract WHERE offer_id = $1`,
		r.offerID).Scan(&contracts, &contractID); err != nil {
		return []string{fmt.Sprintf("read the contract of offer %s: %v", r.offerID, err)}
	}
	if contracts != 1 {
		add("offer %s has %d contracts, want 1", r.offerID, contracts)
		return v
	}
	var sealed, offered int
	if err := fr.db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM document WHERE contract_id = $1 AND kind = 'contract'),
		(SELECT count(*) FROM offer_document WHERE offer_id = $2)`, contractID, r.offerID).Scan(&sealed, &offered); err != nil {
		add("count the documents of contract %s: %v", contractID, err)
	} else if sealed != offered || sealed == 0 {
		add("contract %s has %d sealed documents for %d offer documents", contractID, sealed, offered)
	}
	if len(r.files) == 0 && r.err != nil { // the flow gave up before it downloaded the contract
		r.contractID = contractID
		do := func(_ string, op func() error) error { return retry(ctx, 30*time.Second, nil, op) }
		if err := fr.fd.download(ctx, r.client, r, do); err != nil {
			add("download contract %s: %v", contractID, err)
		}
	}
	for _, p := range r.files {
		out, err := exec.CommandContext(ctx, fr.ps.esign, "pdf", "verify", p).CombinedOutput()
		if err != nil {
			add("esign pdf verify refuses %s of contract %s: %v: %s", filepath.Base(p), contractID, err, firstLine(string(out)))
		}
	}
	var pushes, signed int
	if err := fr.db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM dev_inbox_message WHERE channel = 'push' AND msg_key = 'contract-ready-' || $1),
		(SELECT count(*) FROM webhook_event WHERE type = 'offer.signed' AND subject_id = $2)`,
		contractID, r.offerID).Scan(&pushes, &signed); err != nil {
		add("count the notifications of contract %s: %v", contractID, err)
	} else {
		if pushes != 1 {
			add("contract %s: %d contract_ready pushes, want 1", contractID, pushes)
		}
		if signed != 1 {
			add("offer %s: %d offer.signed events, want 1", r.offerID, signed)
		}
	}
	return v
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// slotGrace is how long after its slot a scheduled run may be recorded.
const slotGrace = 10 * time.Second

// slotRetryLimit is how long after the fault a slot it caught may still be
// recorded: the run failed while the database or the process was away and
// is retried with backoff (jobs' cron retries: 2 s doubling, six attempts).
const slotRetryLimit = 70 * time.Second

// checkSlots: every slot of every schedule between the scenario's start
// and now ran exactly once (bench/faults.sh sets every schedule to @every
// PERIOD, so a slot is a multiple of the period). A slot missing while
// the fault may still explain it — it came during the fault or just
// before it, and its retries have not run out — is waited for.
func (fr *faultRun) checkSlots(ctx context.Context, window time.Time, f fault) []string {
	p := fr.o.period
	first := window.Truncate(p).Add(p)
	// A run is recorded as its job starts: the cron's timer inserts it at
	// the slot and a worker picks it up within the job poll, later on a
	// loaded machine. Slots of the last slotGrace are not judged yet.
	last := time.Now().Add(-slotGrace).Truncate(p)
	for {
		v, late := fr.slotRuns(ctx, first, last, f)
		if !late || time.Now().After(f.end.Add(slotRetryLimit)) || ctx.Err() != nil {
			return v
		}
		time.Sleep(time.Second)
	}
}

// slotRuns compares the recorded runs of the slots from first to last with
// the schedule. late is true when a missing slot is one the fault f may
// have delayed.
func (fr *faultRun) slotRuns(ctx context.Context, first, last time.Time, f fault) (v []string, late bool) {
	p := fr.o.period
	for _, kind := range []string{"OfferTimeout", "DeleteDocuments", "DeleteExpiredURL"} {
		runs := map[int64]int{}
		rows, err := fr.db.QueryContext(ctx, `SELECT slot FROM background_process
			WHERE kind = $1 AND trigger_kind = 'schedule' AND slot >= $2 AND slot <= $3`, kind, first, last)
		if err != nil {
			return append(v, "read the runs: "+err.Error()), false
		}
		for rows.Next() {
			var slot time.Time
			if err := rows.Scan(&slot); err != nil {
				rows.Close()
				return append(v, err.Error()), false
			}
			runs[slot.Truncate(p).Unix()]++
		}
		rows.Close()
		var missing []string
		for s := first; !s.After(last); s = s.Add(p) {
			switch n := runs[s.Unix()]; {
			case n == 0:
				missing = append(missing, s.UTC().Format("15:04:05"))
				if !f.start.IsZero() && !s.Before(f.start.Add(-p-slotGrace)) && !s.After(f.end) {
					late = true
				}
			case n > 1:
				v = append(v, fmt.Sprintf("%s slot %s ran %d times", kind, s.UTC().Format("15:04:05"), n))
			}
		}
		if len(missing) > 0 {
			v = append(v, fmt.Sprintf("%s did not run in %d of its slots: %s", kind, len(missing), strings.Join(missing, " ")))
		}
	}
	return v, late
}

// checkDocstore: no temporary file, no file that no document or
// attachment names, and no empty directory is left in the document store
// by the scenario (written since window, ignoring what is younger than a
// few seconds: a write in progress).
func (fr *faultRun) checkDocstore(ctx context.Context, window time.Time) []string {
	root := filepath.Join(os.Getenv("ESIGN_DATA_DIR"), "documents")
	keys := map[string]bool{}
	rows, err := fr.db.QueryContext(ctx, `SELECT storage_key FROM document UNION ALL SELECT storage_key FROM attachment`)
	if err != nil {
		return []string{"read the storage keys: " + err.Error()}
	}
	for rows.Next() {
		var k string
		if rows.Scan(&k) == nil {
			keys[k] = true
		}
	}
	rows.Close()
	old := time.Now().Add(-10 * time.Second)
	var v []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil || info.ModTime().After(old) || info.ModTime().Before(window) {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if ents, err := os.ReadDir(p); err == nil && len(ents) == 0 && p != root {
				v = append(v, "empty directory left in the document store: "+rel)
			}
			return nil
		}
		if !keys[filepath.ToSlash(rel)] {
			v = append(v, "file left in the document store that no document names: "+rel)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		v = append(v, "walk the document store: "+err.Error())
	}
	return v
}
