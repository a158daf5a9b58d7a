package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"esign/internal/archive"
	"esign/internal/bus"
	"esign/internal/config"
	"esign/internal/docstore"
	"esign/internal/esign"
	"esign/internal/jobs"
	"esign/internal/locale"
	"esign/internal/notify"
	"esign/internal/notify/fcm"
	"esign/internal/notify/inbox"
	"esign/internal/notify/smsapi"
	"esign/internal/notify/smtp"
	"esign/internal/offers"
	"esign/internal/pades"
	"esign/internal/sqlstore"
)

func jobsDialect(db *sqlstore.DB) jobs.Dialect {
	if db.Driver() == "postgres" {
		return jobs.Postgres
	}
	return jobs.SQLite
}

// migrateAll applies the store's migrations and the job queue's own.
func migrateAll(ctx context.Context, db *sqlstore.DB) error {
	if err := db.MigrateUp(ctx); err != nil {
		return err
	}
	if err := jobs.Migrate(ctx, db.SQL(), jobsDialect(db)); err != nil {
		return fmt.Errorf("job queue tables: %w", err)
	}
	return nil
}

// queueOptions say what a process does with the job queue.
type queueOptions struct {
	insertOnly bool // enqueue (and RunNow) only
	schedules  bool // run the cron schedules (leader-elected across replicas)
	seal       bool // work the seal jobs (the process has the signing service)
}

// openQueue builds the job queue of a process from the configuration: the
// notification providers, rate limits, cron schedules and retention.
func (a *app) openQueue(ctx context.Context, opt queueOptions) (*jobs.Queue, error) {
	cfg := a.cfg
	loc, err := time.LoadLocation(cfg.Cron.TimeZone)
	if err != nil {
		return nil, err
	}
	schedules := map[string]string{
		jobs.OfferTimeout:     cfg.Cron.OfferTimeout,
		jobs.DeleteDocuments:  cfg.Cron.DeleteDocuments,
		jobs.DeleteExpiredURL: cfg.Cron.DeleteExpiredURL,
		jobs.AuditAnchor:      cfg.Cron.AuditAnchor,
		jobs.ArchiveRenewal:   cfg.Cron.ArchiveRenewal,
	}
	keys := map[string]string{jobs.OfferTimeout: "cron.offer_timeout", jobs.DeleteDocuments: "cron.delete_documents",
		jobs.DeleteExpiredURL: "cron.delete_expired_url", jobs.AuditAnchor: "cron.audit_anchor",
		jobs.ArchiveRenewal: "cron.archive_renewal"}
	for name, spec := range schedules {
		if spec == "off" {
			continue
		}
		if _, err := jobs.ParseSchedule(spec, loc); err != nil {
			return nil, &config.FieldError{Key: keys[name], Reason: esign.ErrorMessage(err)}
		}
	}
	renderer, err := notify.NewCustomRenderer(notify.Branding{
		ProductName:  cfg.Branding.ProductName,
		BankName:     cfg.Branding.BankName,
		SupportEmail: cfg.Branding.SupportEmail,
		SupportPhone: cfg.Branding.SupportPhone,
		BaseURL:      publicCustomerURL(cfg),
		LogoURL:      cfg.Branding.LogoURL,
		Color:        cfg.Branding.ColorPrimary,
		OnPrimary:    cfg.Branding.ColorOnPrimary,
		SupportURL:   cfg.Branding.SupportURL,
		LegalFooter:  cfg.Branding.LegalFooter,
		PushTitle:    cfg.Branding.PushTitle,
	}, loc, locale.Dir(cfg.Customize.Dir).Templates())
	if err != nil {
		if cfg.Customize.Dir != "" {
			return nil, &config.FieldError{Key: "customize.dir", Reason: err.Error()}
		}
		return nil, fmt.Errorf("notification templates: %w", err)
	}
	deps := jobs.Deps{Renderer: renderer, Log: a.db.JobStore(), Runs: a.db.JobStore(), Offers: a.db.JobStore(), URLs: a.db}
	if err := a.senders(&deps); err != nil {
		return nil, err
	}
	if rdb := a.redis(); rdb != nil {
		deps.Limiter = notify.NewRedisLimiter(rdb, redisPrefix(a.cfg)+"rl:", nil)
	} else {
		deps.Limiter = notify.NewMemoryLimiter(nil)
	}
	deps.Documents = &retention{db: a.db, docs: a.docs}
	deps.Audit = auditAnchorer{a}
	deps.Orphans = &retention{db: a.db, docs: a.docs}
	if a.docs != nil { // also for `esign cron run ArchiveRenewal` (insert-only, runs it in-process)
		if deps.Archive, err = a.archiveRenewer(); err != nil {
			return nil, err
		}
	}
	if opt.seal {
		deps.Sealer = appSealer{a}
	}
	hook := a.eventDeps(&deps)
	limits := map[notify.Channel]notify.Limit{}
	if cfg.Notify.SMSPerHour > 0 {
		limits[notify.SMS] = notify.Limit{N: cfg.Notify.SMSPerHour, Per: time.Hour}
	}
	if cfg.Notify.EmailPerHour > 0 {
		limits[notify.Email] = notify.Limit{N: cfg.Notify.EmailPerHour, Per: time.Hour}
	}
	host, _ := os.Hostname()
	var tp trace.TracerProvider
	if a.tracer.Enabled() {
		tp = a.tracer
	}
	q, err := jobs.New(a.db.SQL(), jobs.Config{
		Tracer:       tp,
		Metrics:      a.reg,
		Dialect:      jobsDialect(a.db),
		ID:           fmt.Sprintf("%s-%s-%d", a.spec.name, host, os.Getpid()),
		Workers:      cfg.Notify.Workers,
		PollInterval: cfg.Database.JobPoll,
		InsertOnly:   opt.insertOnly,
		Notify:       jobs.NotifyConfig{RateLimits: limits},
		Events:       jobs.EventConfig{MaxAttempts: cfg.Webhook.EventMaxAttempts},
		Cron: jobs.CronConfig{
			Schedules:         schedules,
			Location:          loc,
			DocumentRetention: cfg.Cron.DocumentRetention,
			ContractRetention: cfg.Cron.ContractRetention,
			Disabled:          !opt.schedules,
		},
		Logger: a.log,
	}, deps)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	a.events = offers.NewEmitter(q, cfg.Webhook.CallbackURLs(), nil).WithFeed(
		&offers.LiveFeed{Pub: busPublisher{a}, Stream: bus.StreamContractUpdates, Log: a.log})
	hook.em = a.events
	if a.reg != nil && !opt.insertOnly {
		a.watchQueue(q)
	}
	return q, nil
}

// watchQueue reports the jobs waiting and running in each queue as
// esign_job_queue_depth{queue,state}, refreshed every 30 s. Every replica
// reports the same (shared) queue: aggregate with max, not sum.
func (a *app) watchQueue(q *jobs.Queue) {
	depth := a.reg.Gauge("esign_job_queue_depth", "Jobs of the queue (notify, cron, seal, events) in the state (available, scheduled, retryable, running), the same on every replica.", "queue", "state")
	a.background(func(ctx context.Context) {
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			ds, err := q.Depths(cctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				a.log.Warn("job queue depth", "err", err)
			}
			for _, d := range ds {
				depth.Set(float64(d.Jobs), d.Queue, d.State)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
}

// watchSchedules makes the cron schedules part of the readiness and the
// metrics of a process that runs them: its "schedules" check fails while a
// schedule has missed two slots in a row, and
// esign_cron_last_run_timestamp_seconds / esign_cron_overdue show each
// schedule's newest scheduled run and state, refreshed every 30 s. In
// esign cron the check is required (the process is unready); in esign all
// it only degrades the report, so that a missed clean-up does not take the
// mobile API out of a load balancer.
func (a *app) watchSchedules(q *jobs.Queue) {
	lastRun := a.reg.Gauge("esign_cron_last_run_timestamp_seconds", "Start of the newest scheduled run of the cron job (Unix seconds); 0: none recorded.", "job")
	overdue := a.reg.Gauge("esign_cron_overdue", "1 while the cron job has missed two slots of its schedule in a row (also fails the schedules check of /readyz).", "job")
	check := func(ctx context.Context) error {
		states, err := q.ScheduleStates(ctx)
		if err != nil {
			return err
		}
		var late []string
		for _, st := range states {
			last, over := 0.0, 0.0
			if !st.LastRun.IsZero() {
				last = float64(st.LastRun.UnixNano()) / 1e9
			}
			if st.Overdue {
				over = 1
				when := "no scheduled run recorded"
				if !st.LastRun.IsZero() {
					when = "last run " + st.LastRun.UTC().Format(time.RFC3339)
				}
				late = append(late, fmt.Sprintf("%s overdue since %s (%s)", st.Name, st.DueBy.UTC().Format(time.RFC3339), when))
			}
			lastRun.Set(last, st.Name)
			overdue.Set(over, st.Name)
		}
		if len(late) > 0 {
			return errors.New(strings.Join(late, "; "))
		}
		return nil
	}
	if a.spec.has(roleOSS) {
		a.peers["schedules"] = check
	} else {
		a.checks["schedules"] = check
	}
	a.background(func(ctx context.Context) {
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if err := check(cctx); err != nil && ctx.Err() == nil {
				a.log.Warn("cron schedules", "err", err)
			}
			cancel()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
}

// archiveRenewer renews the archives of B-LTA contracts (ArchiveRenewal)
// with the seal's TSA (tsa.url) and revocation sources (seal.crl_files,
// seal.ocsp_files, then the responders), archive.renewal_margin before the
// newest document time-stamp's certificates expire.
func (a *app) archiveRenewer() (*archive.Renewer, error) {
	ts, err := tsaClient(a.cfg, "", nil)
	if err != nil {
		return nil, err
	}
	files := &pades.RevocationFiles{CRLFiles: config.Files(a.cfg.Seal.CRLFiles), OCSPFiles: config.Files(a.cfg.Seal.OCSPFiles), Log: a.log}
	return archive.New(archive.Config{DB: a.db, Docs: a.docs, Margin: a.cfg.Archive.RenewalMargin, Log: a.log,
		Renew: pades.RenewOptions{TSA: ts, Revocation: pades.RevocationSources{files, pades.HTTPRevocation{}}}})
}

// appSealer runs the seal jobs with the process's signing service, which
// is built after the queue (its M2 enqueues into the queue) and before the
// queue starts.
type appSealer struct{ a *app }

func (s appSealer) SealSignature(ctx context.Context, signatureID string) error {
	return s.a.signing.SealSignature(ctx, signatureID)
}

// senders picks the providers; the development inbox is the default for
// every channel.
func (a *app) senders(d *jobs.Deps) error {
	n := a.cfg.Notify
	box := inbox.New(a.db.Inbox(), nil)
	d.SMS, d.Email, d.Push = box, box, box
	if n.SMS == "smsapi" {
		c, err := smsapi.New(smsapi.Config{Endpoint: n.SmsAPIEndpoint, Token: n.SmsAPIToken, From: cmp.Or(n.SmsAPIFrom, a.cfg.Branding.SMSSender)})
		if err != nil {
			return err
		}
		d.SMS = c
	}
	if n.Email == "smtp" {
		c, err := smtp.New(smtp.Config{Host: n.SMTPHost, Port: n.SMTPPort, Security: smtp.Security(n.SMTPSecurity),
			Username: n.SMTPUsername, Password: n.SMTPPassword, From: n.EmailFrom, FromName: a.cfg.Branding.BankName})
		if err != nil {
			return err
		}
		d.Email = c
	}
	if n.Push == "fcm" {
		c, err := fcmSender(n)
		if err != nil {
			return err
		}
		d.Push = c
	}
	return nil
}

// fcmSender is the FCM client of notify.fcm_service_account_file, sending
// to notify.fcm_endpoint.
func fcmSender(n config.Notify) (*fcm.Client, error) {
	sa, err := os.ReadFile(n.FCMServiceAccountFile)
	if err != nil {
		return nil, &config.FieldError{Key: "notify.fcm_service_account_file", Reason: err.Error()}
	}
	c, err := fcm.New(fcm.Config{ServiceAccountJSON: sa, SendURL: n.FCMEndpoint})
	if err != nil {
		return nil, &config.FieldError{Key: "notify.fcm_service_account_file", Reason: esign.ErrorMessage(err)}
	}
	return c, nil
}

func publicCustomerURL(cfg config.Config) string {
	if cfg.Public.CustomerURL != "" {
		return cfg.Public.CustomerURL
	}
	return "http://" + displayAddr(cfg.Listen.Customer) + "/"
}

// publicVerifyURL is the public verify page of css (public.customer_url +
// "/verify", docs/validation-report.md) that a sealed contract's visible
// line points to.
func publicVerifyURL(cfg config.Config) string {
	return strings.TrimSuffix(publicCustomerURL(cfg), "/") + "/verify"
}

// retention deletes the bytes of documents past their retention, then marks
// their rows deleted (DeleteDocuments cron job). Deleting the bytes first
// means a crash in between leaves a row that the next run finishes.
type retention struct {
	db   *sqlstore.DB
	docs *docstore.Store
}

var (
	_ jobs.DocumentDeleter = (*retention)(nil)
	_ jobs.OrphanSweeper   = (*retention)(nil)
)

// SweepUnreferenced deletes the files of [from, to) that no row names.
func (r *retention) SweepUnreferenced(ctx context.Context, from, to time.Time) (int64, error) {
	return r.docs.SweepUnreferenced(ctx, from, to, r.db.UnreferencedStorageKeys)
}

func (r *retention) DeleteDocuments(ctx context.Context, unsignedBefore, signedBefore time.Time) (int64, error) {
	var n int64
	for {
		now := time.Now()
		batch, err := r.db.ListDocumentsToDelete(ctx, now, unsignedBefore, signedBefore, esign.Page{Limit: 100})
		if err != nil {
			return n, err
		}
		if len(batch) == 0 {
			return n, nil
		}
		for _, d := range batch {
			if err := r.docs.Delete(ctx, d.StorageKey); err != nil {
				return n, err
			}
			if _, err := r.db.UpdateDocument(ctx, d.ID, esign.DocumentUpdate{DeletedAt: &now}); err != nil {
				return n, err
			}
			n++
		}
	}
}
