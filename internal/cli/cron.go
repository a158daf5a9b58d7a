package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"esign/internal/httpkit"
	"esign/internal/jobs"
)

// runCron: `esign cron` runs the scheduler process; `esign cron run NAME`
// runs one job now, in this process, and records the run like a scheduled
// one.
func runCron(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "run" {
		return runProcess(processCron)(ctx, env, args)
	}
	fs, path := newFlagSet(env, "cron run")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	names := jobs.CronNames()
	if fs.NArg() != 1 || !slices.Contains(names, fs.Arg(0)) {
		return usagef("usage: esign cron run %s", strings.Join(names, "|"))
	}
	cfg, err := loadConfig(env, *path)
	if err != nil {
		return err
	}
	a := &app{spec: processCron, cfg: cfg, log: newLogger(env.Stderr, cfg.Log), bgCtx: ctx, checks: map[string]httpkit.Check{}}
	a.hooks = newHooks(cfg, env.Hooks, a.log)
	defer a.close()
	defer a.hooks.Wait() // the offer_ended hooks of OfferTimeout
	db, err := openToolDB(ctx, cfg)
	if err != nil {
		return err
	}
	a.db = db
	a.closers = append(a.closers, db.Close)
	if a.keys, err = openKeyring(cfg); err != nil {
		return err
	}
	if err := a.openStores(); err != nil {
		return err
	}
	q, err := a.openQueue(ctx, queueOptions{insertOnly: true})
	if err != nil {
		return err
	}
	run, err := q.RunNow(ctx, fs.Arg(0))
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	fmt.Fprintf(env.Stdout, "%s %s in %s: %s\n", run.Name, run.Status, run.EndedAt.Sub(run.StartedAt).Round(1e6), run.Result)
	return nil
}
