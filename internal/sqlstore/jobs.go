package sqlstore

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"esign/internal/esign"
	"esign/internal/jobs"
	"esign/internal/notify"
)

// JobStore implements the storage interfaces of the job queue (package
// jobs) on this database: the SMS / e-mail delivery log, cron runs as
// background processes, and the offer timeout. The short URL job uses
// *DB directly (DeleteExpiredShorteners); the document retention job needs
// the document byte store as well and is wired by the caller from
// ListDocumentsToDelete and UpdateDocument.
type JobStore struct{ db *DB }

var (
	_ jobs.LogStore        = (*JobStore)(nil)
	_ jobs.DeliveryStarter = (*JobStore)(nil)
	_ jobs.RunStore        = (*JobStore)(nil)
	_ jobs.OfferExpirer    = (*JobStore)(nil)
	_ jobs.URLDeleter      = (*DB)(nil)
)

// JobStore returns the job queue's view of the database.
func (db *DB) JobStore() *JobStore { return &JobStore{db: db} }

// RecordDelivery inserts the delivery into the SMS, e-mail or push log, or
// updates the entry with the same key.
func (s *JobStore) RecordDelivery(ctx context.Context, d jobs.Delivery) error {
	dl := esign.Delivery{DeliveryKey: d.Key, JobID: d.JobID, Attempt: d.Attempt, Provider: d.Provider,
		ProviderID: d.ProviderID, ErrorCode: d.ErrorCode, Error: d.Error}
	var sent time.Time
	if d.Status == jobs.StatusSent {
		sent = d.At
	}
	switch d.Channel {
	case notify.SMS:
		return s.db.PutSmsLog(ctx, &esign.SmsLog{Recipient: d.Recipient, Body: d.Text, Template: string(d.Kind),
			Status: esign.DeliveryStatus(d.Status), Delivery: dl, SentAt: sent})
	case notify.Email:
		return s.db.PutEmailLog(ctx, &esign.EmailLog{Recipient: d.Recipient, Subject: d.Subject, Template: string(d.Kind),
			Status: esign.DeliveryStatus(d.Status), Delivery: dl, SentAt: sent})
	case notify.Push:
		return s.db.PutPushLog(ctx, &esign.PushLog{Recipient: d.Recipient, Title: d.Subject, Template: string(d.Kind),
			Status: esign.DeliveryStatus(d.Status), Delivery: dl, SentAt: sent})
	}
	return nil
}

// FindDelivery returns the delivery on channel with key; ok is false when
// there is none.
func (s *JobStore) FindDelivery(ctx context.Context, channel notify.Channel, key string) (jobs.Delivery, bool, error) {
	f := esign.MessageLogFilter{DeliveryKey: key, Page: esign.Page{Limit: 1}}
	d := jobs.Delivery{Key: key, Channel: channel}
	var (
		dl     esign.Delivery
		status esign.DeliveryStatus
	)
	switch channel {
	case notify.SMS:
		l, err := s.db.ListSmsLogs(ctx, f)
		if err != nil || len(l) == 0 {
			return d, false, err
		}
		d.Recipient, d.Text, d.Kind, d.At = l[0].Recipient, l[0].Body, notify.Kind(l[0].Template), l[0].UpdatedAt
		dl, status = l[0].Delivery, l[0].Status
	case notify.Email:
		l, err := s.db.ListEmailLogs(ctx, f)
		if err != nil || len(l) == 0 {
			return d, false, err
		}
		d.Recipient, d.Subject, d.Kind, d.At = l[0].Recipient, l[0].Subject, notify.Kind(l[0].Template), l[0].UpdatedAt
		dl, status = l[0].Delivery, l[0].Status
	case notify.Push:
		l, err := s.db.ListPushLogs(ctx, f)
		if err != nil || len(l) == 0 {
			return d, false, err
		}
		d.Recipient, d.Subject, d.Kind, d.At = l[0].Recipient, l[0].Title, notify.Kind(l[0].Template), l[0].UpdatedAt
		dl, status = l[0].Delivery, l[0].Status
	default:
		return d, false, nil
	}
	d.JobID, d.Attempt, d.Provider, d.ProviderID, d.ErrorCode, d.Error = dl.JobID, dl.Attempt, dl.Provider, dl.ProviderID, dl.ErrorCode, dl.Error
	d.Status = jobs.DeliveryStatus(status)
	return d, true, nil
}

// BeginRun records the start of a cron run as a running background process.
func (s *JobStore) BeginRun(ctx context.Context, r jobs.Run) (string, error) {
	p := &esign.BackgroundProcess{Kind: r.Name, Trigger: r.Trigger, Slot: r.Slot, Node: r.Node,
		Status: esign.ProcessRunning, StartedAt: r.StartedAt}
	if err := s.db.CreateBackgroundProcess(ctx, p); err != nil {
		return "", err
	}
	return p.ID, nil
}

// LogRun appends a log line to a run.
func (s *JobStore) LogRun(ctx context.Context, runID string, level slog.Level, msg string, at time.Time) error {
	lv := "error"
	switch {
	case level < slog.LevelInfo:
		lv = "debug"
	case level < slog.LevelWarn:
		lv = "info"
	case level < slog.LevelError:
		lv = "warn"
	}
	return s.db.CreateBackgroundProcessLog(ctx, &esign.BackgroundProcessLog{ProcessID: runID, Level: lv, Message: msg})
}

// EndRun records the end of a run: its status, result and error.
func (s *JobStore) EndRun(ctx context.Context, r jobs.Run) error {
	upd := esign.BackgroundProcessUpdate{Status: (*esign.ProcessStatus)(&r.Status), Result: &r.Result, Error: &r.Error}
	if !r.EndedAt.IsZero() {
		upd.FinishedAt = &r.EndedAt
	}
	if r.Status == string(esign.ProcessSucceeded) {
		done := 100
		upd.Progress = &done
	}
	_, err := s.db.UpdateBackgroundProcess(ctx, r.ID, upd)
	return err
}

// LastScheduledRun returns the newest run of the cron job name that its
// schedule started (trigger "schedule").
func (s *JobStore) LastScheduledRun(ctx context.Context, name string) (jobs.Run, bool, error) {
	l, err := s.db.ListBackgroundProcesses(ctx, esign.BackgroundProcessFilter{Kind: name, Trigger: "schedule", Page: esign.Page{Limit: 1}})
	if err != nil || len(l) == 0 {
		return jobs.Run{}, false, err
	}
	p := l[0]
	return jobs.Run{ID: p.ID, Name: p.Kind, Trigger: p.Trigger, Slot: p.Slot, Node: p.Node, StartedAt: p.StartedAt,
		EndedAt: p.FinishedAt, Status: string(p.Status), Result: p.Result, Error: p.Error}, true, nil
}

// ExpireDueOffers expires every open offer whose deadline is before now
// (DB.ExpireOffers) and, in each batch's transaction, hands enqueue the
// expired offers with their customer's name, language and addresses: phone
// (SMS), e-mail, and the FCM tokens of the customer's associated apps (push).
func (s *JobStore) ExpireDueOffers(ctx context.Context, now time.Time, enqueue func(ctx context.Context, tx *sql.Tx, offers []jobs.ExpiredOffer) error) (int, error) {
	return s.db.ExpireOffers(ctx, now, func(tx *Tx, expired []*esign.Offer) error {
		out := make([]jobs.ExpiredOffer, 0, len(expired))
		for _, o := range expired {
			c, err := tx.GetCustomer(ctx, o.CustomerID)
			if err != nil {
				return err
			}
			rcpt, err := recipients(ctx, &tx.store, c)
			if err != nil {
				return err
			}
			out = append(out, jobs.ExpiredOffer{OfferID: o.ID, Title: o.Title, CustomerName: c.Name,
				Lang: notify.ParseLang(c.Locale), ExpiresAt: o.ExpiresAt, Recipients: rcpt})
		}
		return enqueue(ctx, tx.SQLTx(), out)
	})
}

// recipients lists the addresses a customer can be notified at.
func recipients(ctx context.Context, s *store, c *esign.Customer) ([]jobs.Recipient, error) {
	var out []jobs.Recipient
	if c.Phone != "" {
		out = append(out, jobs.Recipient{Channel: notify.SMS, To: c.Phone})
	}
	if c.Email != "" {
		out = append(out, jobs.Recipient{Channel: notify.Email, To: c.Email})
	}
	targets, err := s.CustomerPushTargets(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		out = append(out, jobs.Recipient{Channel: notify.Push, To: t.Token})
	}
	return out, nil
}
