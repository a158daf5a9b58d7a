package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// scenarios are run in this order, one fault at a time.
var scenarios = []scenario{
	{"pdfservice_kill", func(ctx context.Context, fr *faultRun, _ *load) (fault, error) {
		sleep(ctx, jitter(2*time.Second))
		return fr.killRestart(ctx, "pdfservice")
	}},
	{"oss_kill_random", func(ctx context.Context, fr *faultRun, _ *load) (fault, error) {
		sleep(ctx, jitter(3*time.Second))
		return fr.killRestart(ctx, []string{"oss", "oss2"}[rand.IntN(2)])
	}},
	{"oss_kill_in_m2", killInM2},
	{"oss_kill_in_seal", killInSeal},
	{"cron_leader_kill", killCronLeader},
	{"rabbitmq_cut", func(ctx context.Context, fr *faultRun, _ *load) (fault, error) {
		return fr.proxyFault(ctx, "amqp", "cut")
	}},
	{"postgres_cut", func(ctx context.Context, fr *faultRun, _ *load) (fault, error) {
		return fr.proxyFault(ctx, "postgres", "cut")
	}},
	{"redis_down", func(ctx context.Context, fr *faultRun, _ *load) (fault, error) {
		return fr.proxyFault(ctx, "redis", "cut")
	}},
	{"redis_stall", func(ctx context.Context, fr *faultRun, _ *load) (fault, error) {
		return fr.proxyFault(ctx, "redis", "stall")
	}},
	{"tsa_down", tsaDown},
	{"docstore_full", docstoreFull},
}

// killRestart kills name with SIGKILL and starts it again after the
// restart delay, as a supervisor would.
func (fr *faultRun) killRestart(ctx context.Context, name string) (fault, error) {
	f := fault{start: time.Now(), note: "killed " + name}
	if err := fr.ps.kill(name); err != nil {
		f.end = time.Now()
		return f, err
	}
	fr.logf("killed %s", name)
	sleep(ctx, fr.o.restart)
	err := fr.ps.restart(ctx, name)
	f.end = time.Now()
	return f, err
}

// proxyFault switches the proxy in front of a server to mode (cut,
// stall) for the outage, then restores it.
func (fr *faultRun) proxyFault(ctx context.Context, name, mode string) (fault, error) {
	f := fault{start: time.Now()}
	if err := fr.control(ctx, name, mode); err != nil {
		f.end = time.Now()
		return f, err
	}
	fr.logf("%s: %s", name, mode)
	sleep(ctx, fr.o.down)
	err := fr.control(context.WithoutCancel(ctx), name, "restore")
	f.end = time.Now()
	return f, err
}

// control asks esign-bench proxy to switch a proxy.
func (fr *faultRun) control(ctx context.Context, name, op string) error {
	req, err := http.NewRequestWithContext(ctx, "POST", "http://"+fr.o.control+"/"+name+"/"+op, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("proxy control %s %s: %w", name, op, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("proxy control %s %s: HTTP %d", name, op, resp.StatusCode)
	}
	return nil
}

// killInM2 kills the oss that holds an M2 between its claim
// (m2_received) and its verdict: a client pinned to oss sends M2 while
// the driver watches the signature, and kills oss the moment the claim
// shows. The client's retry reaches the other replica through the
// balancer and must get the signature after signing.ClaimTimeout.
func killInM2(ctx context.Context, fr *faultRun, l *load) (fault, error) {
	c := fr.pins
	for attempt := 1; attempt <= 5; attempt++ {
		addr := os.Getenv("ESIGN_LISTEN_MOBILE")
		c.pinned.Store(&addr)
		killed := make(chan fault, 1)
		hook := func(r *flowRecord) {
			if r.client != c {
				return
			}
			go func() {
				f := fault{}
				deadline := time.Now().Add(30 * time.Second)
				for time.Now().Before(deadline) {
					var st string
					err := fr.db.QueryRowContext(ctx, `SELECT status FROM signature WHERE id = $1`, r.sigID).Scan(&st)
					if err == nil && st == "m2_received" {
						f.start = time.Now()
						c.pinned.Store(nil) // the retry goes through the balancer
						if err := fr.ps.kill("oss"); err != nil {
							f.violations = append(f.violations, err.Error())
						}
						f.note = fmt.Sprintf("killed oss holding the M2 claim of signature %s (attempt %d)", r.sigID, attempt)
						killed <- f
						return
					}
					if err == nil && st != "m1_received" {
						break // the verdict came before the driver saw the claim
					}
					time.Sleep(2 * time.Millisecond)
				}
				c.pinned.Store(nil)
				killed <- f
			}()
		}
		fr.fd.beforeM2.Store(&hook)
		done := make(chan *flowRecord, 1)
		go func() { done <- l.runOne(ctx, c) }()
		f := <-killed
		fr.fd.beforeM2.Store(nil)
		if !f.start.IsZero() {
			fr.logf("%s", f.note)
			sleep(ctx, fr.o.restart)
			err := fr.ps.restart(ctx, "oss")
			f.end = time.Now()
			go func() { <-done }()
			return f, err
		}
		<-done
		fr.logf("oss_kill_in_m2: the M2 was answered before the claim showed; again")
	}
	return fault{start: time.Now(), end: time.Now()}, errors.New("the M2 claim never showed in five attempts")
}

// killInSeal kills the oss that runs a seal job (River's attempted_by
// names it: oss-HOST-PID) while the job runs and before its contract is
// committed. A seal takes a few tens of milliseconds: when the kill comes
// after the commit it is tried again with the next seal, up to ten times.
func killInSeal(ctx context.Context, fr *faultRun, _ *load) (fault, error) {
	for attempt := 1; attempt <= 10; attempt++ {
		deadline := time.Now().Add(60 * time.Second)
		var by, sig string
		var id int64
		for time.Now().Before(deadline) && ctx.Err() == nil {
			err := fr.db.QueryRowContext(ctx, `SELECT j.id, j.attempted_by[array_length(j.attempted_by, 1)], g.id
				FROM river_job j JOIN signature g ON g.id::text = j.args->>'signature_id'
				WHERE j.kind = 'seal' AND j.state = 'running' AND g.status = 'verified'
				AND j.attempted_at > now() - interval '2 seconds' ORDER BY j.id DESC LIMIT 1`).Scan(&id, &by, &sig)
			if err == nil && alive(pidOf(by)) && fr.ps.byPID(pidOf(by)) != "" {
				break
			}
			by = ""
			time.Sleep(time.Millisecond)
		}
		if by == "" {
			return fault{start: time.Now(), end: time.Now()}, errors.New("no seal job seen running within 60 s")
		}
		name := fr.ps.byPID(pidOf(by))
		if name == "" {
			return fault{start: time.Now(), end: time.Now()}, fmt.Errorf("seal job %d runs on %s, not a process of the driver", id, by)
		}
		f, err := fr.killRestart(ctx, name)
		if err != nil {
			return f, err
		}
		// Sealed before the kill: the kill missed the window.
		var at sql.NullTime
		if err := fr.db.QueryRowContext(ctx, `SELECT completed_at FROM signature WHERE id = $1`, sig).Scan(&at); err != nil {
			return f, err
		}
		if !at.Valid || at.Time.After(f.start) {
			f.note = fmt.Sprintf("killed %s running seal job %d of signature %s (attempt %d)", name, id, sig, attempt)
			return f, nil
		}
		fr.logf("oss_kill_in_seal: seal job %d committed before the kill; again", id)
	}
	return fault{start: time.Now(), end: time.Now()}, errors.New("every kill came after the seal committed (ten attempts)")
}

// pidOf returns the pid at the end of a River client id (NAME-HOST-PID).
func pidOf(id string) int {
	pid, _ := strconv.Atoi(id[strings.LastIndexByte(id, '-')+1:])
	return pid
}

// killCronLeader kills the cron process that leads River (river_leader).
// River elects its leader among every process with workers, oss too; the
// schedules do not depend on it (every cron process enqueues each slot,
// unique by name and slot: jobs.setupCron), so when an oss leads, a cron
// process is killed all the same and the slot check shows whether the
// schedules went on.
func killCronLeader(ctx context.Context, fr *faultRun, _ *load) (fault, error) {
	var leader string
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := fr.db.QueryRowContext(ctx, `SELECT leader_id FROM river_leader WHERE expires_at > now() LIMIT 1`).Scan(&leader)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fault{start: time.Now(), end: time.Now()}, fmt.Errorf("no job queue leader within 30 s: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	name := fr.ps.byPID(pidOf(leader))
	note := ""
	if !strings.HasPrefix(name, "cron") {
		note = fmt.Sprintf("River's leader is %s (%s); killed cron, which runs the schedules", leader, name)
		name = "cron"
	}
	f, err := fr.killRestart(ctx, name)
	if note != "" {
		f.note = note
	}
	// The handover must run the slots that follow: keep the load going
	// for two more periods so that the slot check sees them.
	sleep(ctx, 2*fr.o.period)
	return f, err
}

// tsaDown stops the TSA for the outage. Signing must fail closed: no M1
// without TS1, so no signature whose M1 came during the outage may be
// verified before the TSA is back (checked with the other invariants).
func tsaDown(ctx context.Context, fr *faultRun, _ *load) (fault, error) {
	f := fault{start: time.Now(), note: "TSA stopped"}
	if err := fr.ps.kill("tsa"); err != nil {
		f.end = time.Now()
		return f, err
	}
	sleep(ctx, fr.o.down)
	down := time.Now()
	var n int
	if err := fr.db.QueryRowContext(ctx, `SELECT count(*) FROM signature WHERE m1_at > $1 AND m1_at < $2
		AND status IN ('verified', 'completed')`, f.start.Add(time.Second), down).Scan(&n); err != nil {
		f.violations = append(f.violations, "count the signatures of the outage: "+err.Error())
	} else if n > 0 {
		f.violations = append(f.violations, fmt.Sprintf("%d signatures with an M1 during the TSA outage were verified: signing did not fail closed", n))
	}
	err := fr.ps.restart(ctx, "tsa")
	f.end = time.Now()
	return f, err
}

// docstoreFull makes every write to a file by the oss processes fail for
// the outage: their RLIMIT_FSIZE drops to 0 (prlimit), so a write past
// byte 0 fails with EFBIG as on a full disk with ENOSPC (Go ignores
// SIGXFSZ). No mount, quota or root is needed; the database is not
// affected.
func docstoreFull(ctx context.Context, fr *faultRun, _ *load) (fault, error) {
	f := fault{start: time.Now(), note: "oss file writes fail (RLIMIT_FSIZE 0)"}
	pids := fr.ps.pids("oss")
	var errs []error
	set := func(v uint64) {
		for n, pid := range pids {
			lim := unix.Rlimit{Cur: v, Max: unix.RLIM_INFINITY}
			if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &lim, nil); err != nil {
				errs = append(errs, fmt.Errorf("prlimit %s: %w", n, err))
			}
		}
	}
	set(0)
	sleep(ctx, fr.o.down)
	set(unix.RLIM_INFINITY)
	f.end = time.Now()
	// The fault took effect: seal attempts failed on a write.
	var n int
	if err := fr.db.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE kind = 'seal' AND errors IS NOT NULL
		AND attempted_at >= $1 AND errors::text LIKE '%file too large%'`, f.start).Scan(&n); err != nil {
		errs = append(errs, err)
	} else if n == 0 {
		f.violations = append(f.violations, "no seal attempt failed on a write while writes were refused: the fault did not take effect")
	}
	return f, errors.Join(errs...)
}
