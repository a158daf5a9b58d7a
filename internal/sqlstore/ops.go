package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"esign/internal/esign"
)

var emailLogs = newTable("email_log", "e-mail log entry",
	[]string{"id", "customer_id", "recipient", "subject", "template", "status", "delivery_key", "job_id", "attempt",
		"provider", "provider_id", "error_code", "error", "sent_at", "created_at", "updated_at"},
	func(l *esign.EmailLog) []any {
		return append([]any{&l.ID, nstr(&l.CustomerID), &l.Recipient, &l.Subject, &l.Template, &l.Status},
			append(deliveryFields(&l.Delivery), tm(&l.SentAt), tm(&l.CreatedAt), tm(&l.UpdatedAt))...)
	})

// CreateEmailLog records an outgoing e-mail; an empty Status becomes
// queued. Errors: Invalid (validation, unknown customer), Conflict (the
// delivery key exists).
func (s *store) CreateEmailLog(ctx context.Context, l *esign.EmailLog) error {
	const op = "sqlstore.CreateEmailLog"
	if l.Status == "" {
		l.Status = esign.DeliveryQueued
	}
	return createRow(ctx, s, op, emailLogs, l, &l.ID, &l.CreatedAt, &l.UpdatedAt)
}

// GetEmailLog returns the entry with the id. Errors: NotFound.
func (s *store) GetEmailLog(ctx context.Context, id string) (*esign.EmailLog, error) {
	return getByID(ctx, s, "sqlstore.GetEmailLog", emailLogs, id)
}

// ListEmailLogs lists entries newest first.
func (s *store) ListEmailLogs(ctx context.Context, f esign.MessageLogFilter) ([]*esign.EmailLog, error) {
	return listRows(ctx, s, "sqlstore.ListEmailLogs", emailLogs, messageLogWhere(f), "created_at DESC, id DESC", f.Page)
}

// UpdateEmailLog records the delivery outcome. Errors: NotFound, Invalid.
func (s *store) UpdateEmailLog(ctx context.Context, id string, upd esign.DeliveryUpdate) (*esign.EmailLog, error) {
	return updateRow(ctx, s, "sqlstore.UpdateEmailLog", emailLogs, id, deliverySetter(upd))
}

var smsLogs = newTable("sms_log", "SMS log entry",
	[]string{"id", "customer_id", "recipient", "body", "template", "status", "delivery_key", "job_id", "attempt",
		"provider", "provider_id", "error_code", "error", "sent_at", "created_at", "updated_at"},
	func(l *esign.SmsLog) []any {
		return append([]any{&l.ID, nstr(&l.CustomerID), &l.Recipient, &l.Body, &l.Template, &l.Status},
			append(deliveryFields(&l.Delivery), tm(&l.SentAt), tm(&l.CreatedAt), tm(&l.UpdatedAt))...)
	})

// CreateSmsLog records an outgoing SMS (with a masked body); an empty
// Status becomes queued. Errors: Invalid (validation, unknown customer),
// Conflict (the delivery key exists).
func (s *store) CreateSmsLog(ctx context.Context, l *esign.SmsLog) error {
	const op = "sqlstore.CreateSmsLog"
	if l.Status == "" {
		l.Status = esign.DeliveryQueued
	}
	return createRow(ctx, s, op, smsLogs, l, &l.ID, &l.CreatedAt, &l.UpdatedAt)
}

// GetSmsLog returns the entry with the id. Errors: NotFound.
func (s *store) GetSmsLog(ctx context.Context, id string) (*esign.SmsLog, error) {
	return getByID(ctx, s, "sqlstore.GetSmsLog", smsLogs, id)
}

// ListSmsLogs lists entries newest first.
func (s *store) ListSmsLogs(ctx context.Context, f esign.MessageLogFilter) ([]*esign.SmsLog, error) {
	return listRows(ctx, s, "sqlstore.ListSmsLogs", smsLogs, messageLogWhere(f), "created_at DESC, id DESC", f.Page)
}

// UpdateSmsLog records the delivery outcome. Errors: NotFound, Invalid.
func (s *store) UpdateSmsLog(ctx context.Context, id string, upd esign.DeliveryUpdate) (*esign.SmsLog, error) {
	return updateRow(ctx, s, "sqlstore.UpdateSmsLog", smsLogs, id, deliverySetter(upd))
}

// PutEmailLog stores l or, when an entry with the same DeliveryKey exists,
// updates that entry's status and delivery fields (keeping the first
// SentAt); l then holds the stored entry. Errors: Invalid (validation, no
// delivery key, unknown customer).
func (s *store) PutEmailLog(ctx context.Context, l *esign.EmailLog) error {
	const op = "sqlstore.PutEmailLog"
	if l.Status == "" {
		l.Status = esign.DeliveryQueued
	}
	if err := l.Validate(); err != nil {
		return esign.E(op, err)
	}
	return putDelivery(ctx, s, op, emailLogs, l, &l.ID, &l.CreatedAt, &l.UpdatedAt, l.DeliveryKey)
}

// PutSmsLog is PutEmailLog for SMS.
func (s *store) PutSmsLog(ctx context.Context, l *esign.SmsLog) error {
	const op = "sqlstore.PutSmsLog"
	if l.Status == "" {
		l.Status = esign.DeliveryQueued
	}
	if err := l.Validate(); err != nil {
		return esign.E(op, err)
	}
	return putDelivery(ctx, s, op, smsLogs, l, &l.ID, &l.CreatedAt, &l.UpdatedAt, l.DeliveryKey)
}

var pushLogs = newTable("push_log", "push log entry",
	[]string{"id", "customer_id", "recipient", "title", "template", "status", "delivery_key", "job_id", "attempt",
		"provider", "provider_id", "error_code", "error", "sent_at", "created_at", "updated_at"},
	func(l *esign.PushLog) []any {
		return append([]any{&l.ID, nstr(&l.CustomerID), &l.Recipient, &l.Title, &l.Template, &l.Status},
			append(deliveryFields(&l.Delivery), tm(&l.SentAt), tm(&l.CreatedAt), tm(&l.UpdatedAt))...)
	})

// PutPushLog is PutEmailLog for push notifications.
func (s *store) PutPushLog(ctx context.Context, l *esign.PushLog) error {
	const op = "sqlstore.PutPushLog"
	if l.Status == "" {
		l.Status = esign.DeliveryQueued
	}
	if err := l.Validate(); err != nil {
		return esign.E(op, err)
	}
	return putDelivery(ctx, s, op, pushLogs, l, &l.ID, &l.CreatedAt, &l.UpdatedAt, l.DeliveryKey)
}

// ListPushLogs lists entries newest first.
func (s *store) ListPushLogs(ctx context.Context, f esign.MessageLogFilter) ([]*esign.PushLog, error) {
	return listRows(ctx, s, "sqlstore.ListPushLogs", pushLogs, messageLogWhere(f), "created_at DESC, id DESC", f.Page)
}

func putDelivery[T any](ctx context.Context, s *store, op string, t *table[T], v *T, id *string, created, updated *time.Time, key string) error {
	if key == "" {
		return esign.E(op, esign.Invalid, "a delivery key is required")
	}
	if err := s.stamp(op, id, created, updated); err != nil {
		return err
	}
	q := deliveryUpsert(t.values, t.name) + t.ret
	f := t.fields(v)
	return s.wrap(op, s.queryRow(ctx, q, f...).Scan(f...))
}

func deliveryFields(d *esign.Delivery) []any {
	return []any{nstr(&d.DeliveryKey), &d.JobID, &d.Attempt, &d.Provider, &d.ProviderID, &d.ErrorCode, &d.Error}
}

func messageLogWhere(f esign.MessageLogFilter) *where {
	var w where
	eq(&w, "delivery_key", f.DeliveryKey)
	eq(&w, "customer_id", f.CustomerID)
	eq(&w, "recipient", f.Recipient)
	eq(&w, "status", f.Status)
	return &w
}

func deliverySetter(upd esign.DeliveryUpdate) *setter {
	var u setter
	setIf(&u, "status", upd.Status)
	setIf(&u, "job_id", upd.JobID)
	setIf(&u, "attempt", upd.Attempt)
	setIf(&u, "provider", upd.Provider)
	setIf(&u, "provider_id", upd.ProviderID)
	setIf(&u, "error_code", upd.ErrorCode)
	setIf(&u, "error", upd.Error)
	setIf(&u, "sent_at", upd.SentAt)
	return &u
}

var clientErrorLogs = newTable("client_error_log", "client error",
	[]string{"id", "source", "message", "stack", "url", "user_agent", "customer_id", "created_at"},
	func(l *esign.ClientErrorLog) []any {
		return []any{&l.ID, &l.Source, &l.Message, &l.Stack, &l.URL, &l.UserAgent, nstr(&l.CustomerID), tm(&l.CreatedAt)}
	})

// CreateClientErrorLog records an error reported by a client. Errors:
// Invalid (validation, unknown customer).
func (s *store) CreateClientErrorLog(ctx context.Context, l *esign.ClientErrorLog) error {
	const op = "sqlstore.CreateClientErrorLog"
	return createRow(ctx, s, op, clientErrorLogs, l, &l.ID, &l.CreatedAt, nil)
}

// GetClientErrorLog returns the entry with the id. Errors: NotFound.
func (s *store) GetClientErrorLog(ctx context.Context, id string) (*esign.ClientErrorLog, error) {
	return getByID(ctx, s, "sqlstore.GetClientErrorLog", clientErrorLogs, id)
}

// ListClientErrorLogs lists entries newest first.
func (s *store) ListClientErrorLogs(ctx context.Context, f esign.ClientErrorLogFilter) ([]*esign.ClientErrorLog, error) {
	var w where
	eq(&w, "source", f.Source)
	eq(&w, "customer_id", f.CustomerID)
	atOrAfter(&w, "created_at", f.Since)
	return listRows(ctx, s, "sqlstore.ListClientErrorLogs", clientErrorLogs, &w, "created_at DESC, id DESC", f.Page)
}

// DeleteClientErrorLogs deletes the entries created before t and returns
// how many.
func (s *store) DeleteClientErrorLogs(ctx context.Context, t time.Time) (int64, error) {
	return s.deleteRows(ctx, "sqlstore.DeleteClientErrorLogs", "client_error_log", "created_at < ?", t)
}

var devInbox = newTable("dev_inbox_message", "inbox message",
	[]string{"id", "channel", "recipient", "subject", "body", "html", "data", "msg_key", "created_at"},
	func(m *esign.DevInboxMessage) []any {
		return []any{&m.ID, &m.Channel, &m.Recipient, &m.Subject, &m.Body, &m.HTML, jsonMap{&m.Data}, nstr(&m.Key),
			tm(&m.CreatedAt)}
	})

// CreateDevInboxMessage stores a captured notification. A message whose Key
// was stored before is not stored again: m is filled with the earlier
// message instead (so a retried job delivers once). Errors: Invalid.
func (s *store) CreateDevInboxMessage(ctx context.Context, m *esign.DevInboxMessage) error {
	const op = "sqlstore.CreateDevInboxMessage"
	if err := m.Validate(); err != nil {
		return esign.E(op, err)
	}
	if err := s.stamp(op, &m.ID, &m.CreatedAt, nil); err != nil {
		return err
	}
	if m.Key == "" {
		return insertRow(ctx, s, op, devInbox, m)
	}
	// ON CONFLICT DO NOTHING returns no row for a duplicate key; then read
	// the stored one.
	f := devInbox.fields(m)
	err := s.queryRow(ctx, devInbox.values+" ON CONFLICT (msg_key) DO NOTHING"+devInbox.ret, f...).Scan(f...)
	if err == sql.ErrNoRows {
		old, err := getRow(ctx, s, op, devInbox, "msg_key = ?", m.Key)
		if err != nil {
			return err
		}
		*m = *old
		return nil
	}
	return s.wrap(op, err)
}

// GetDevInboxMessage returns the message with the id. Errors: NotFound.
func (s *store) GetDevInboxMessage(ctx context.Context, id string) (*esign.DevInboxMessage, error) {
	return getByID(ctx, s, "sqlstore.GetDevInboxMessage", devInbox, id)
}

// ListDevInboxMessages lists messages newest first.
func (s *store) ListDevInboxMessages(ctx context.Context, f esign.DevInboxFilter) ([]*esign.DevInboxMessage, error) {
	var w where
	eq(&w, "channel", f.Channel)
	eq(&w, "recipient", f.Recipient)
	return listRows(ctx, s, "sqlstore.ListDevInboxMessages", devInbox, &w, "created_at DESC, id DESC", f.Page)
}

// DeleteDevInboxMessages empties the inbox and returns how many messages
// were deleted.
func (s *store) DeleteDevInboxMessages(ctx context.Context) (int64, error) {
	return s.deleteRows(ctx, "sqlstore.DeleteDevInboxMessages", "dev_inbox_message", "1 = 1")
}

var processes = newTable("background_process", "background process",
	[]string{"id", "kind", "trigger_kind", "slot", "node", "status", "progress", "result", "error", "created_by",
		"started_at", "finished_at", "created_at", "updated_at"},
	func(p *esign.BackgroundProcess) []any {
		return []any{&p.ID, &p.Kind, &p.Trigger, tm(&p.Slot), &p.Node, &p.Status, &p.Progress, &p.Result, &p.Error,
			nstr(&p.CreatedBy), tm(&p.StartedAt), tm(&p.FinishedAt), tm(&p.CreatedAt), tm(&p.UpdatedAt)}
	})

// CreateBackgroundProcess stores a new process; an empty Status becomes
// queued. Errors: Invalid (validation, unknown user).
func (s *store) CreateBackgroundProcess(ctx context.Context, p *esign.BackgroundProcess) error {
	const op = "sqlstore.CreateBackgroundProcess"
	if p.Status == "" {
		p.Status = esign.ProcessQueued
	}
	return createRow(ctx, s, op, processes, p, &p.ID, &p.CreatedAt, &p.UpdatedAt)
}

// GetBackgroundProcess returns the process with the id. Errors: NotFound.
func (s *store) GetBackgroundProcess(ctx context.Context, id string) (*esign.BackgroundProcess, error) {
	return getByID(ctx, s, "sqlstore.GetBackgroundProcess", processes, id)
}

// ListBackgroundProcesses lists processes newest first.
func (s *store) ListBackgroundProcesses(ctx context.Context, f esign.BackgroundProcessFilter) ([]*esign.BackgroundProcess, error) {
	var w where
	eq(&w, "kind", f.Kind)
	eq(&w, "trigger_kind", f.Trigger)
	eq(&w, "slot", f.Slot)
	eq(&w, "status", f.Status)
	return listRows(ctx, s, "sqlstore.ListBackgroundProcesses", processes, &w, "created_at DESC, id DESC", f.Page)
}

// UpdateBackgroundProcess applies upd. Errors: NotFound, Invalid (progress
// out of range, unknown status).
func (s *store) UpdateBackgroundProcess(ctx context.Context, id string, upd esign.BackgroundProcessUpdate) (*esign.BackgroundProcess, error) {
	var u setter
	setIf(&u, "status", upd.Status)
	setIf(&u, "progress", upd.Progress)
	setIf(&u, "result", upd.Result)
	setIf(&u, "error", upd.Error)
	setIf(&u, "started_at", upd.StartedAt)
	setIf(&u, "finished_at", upd.FinishedAt)
	return updateRow(ctx, s, "sqlstore.UpdateBackgroundProcess", processes, id, &u)
}

// DeleteBackgroundProcess deletes a process with its log. Errors: NotFound.
func (s *store) DeleteBackgroundProcess(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteBackgroundProcess", processes, id)
}

var processLogs = newTable("background_process_log", "process log line",
	[]string{"id", "process_id", "level", "message", "created_at"},
	func(l *esign.BackgroundProcessLog) []any {
		return []any{&l.ID, &l.ProcessID, &l.Level, &l.Message, tm(&l.CreatedAt)}
	})

// CreateBackgroundProcessLog appends a log line to a process. Errors:
// Invalid (validation, unknown process).
func (s *store) CreateBackgroundProcessLog(ctx context.Context, l *esign.BackgroundProcessLog) error {
	const op = "sqlstore.CreateBackgroundProcessLog"
	return createRow(ctx, s, op, processLogs, l, &l.ID, &l.CreatedAt, nil)
}

// ListBackgroundProcessLogs lists a process's log lines oldest first.
func (s *store) ListBackgroundProcessLogs(ctx context.Context, processID string, p esign.Page) ([]*esign.BackgroundProcessLog, error) {
	var w where
	w.add("process_id = ?", processID)
	return listRows(ctx, s, "sqlstore.ListBackgroundProcessLogs", processLogs, &w, "created_at, id", p)
}

var shorteners = newTable("shortener", "short URL",
	[]string{"id", "code", "target_url", "expires_at", "hits", "created_at"},
	func(x *esign.Shortener) []any {
		return []any{&x.ID, &x.Code, &x.TargetURL, tm(&x.ExpiresAt), &x.Hits, tm(&x.CreatedAt)}
	})

// CreateShortener stores a short URL. Errors: Invalid, Conflict (code taken).
func (s *store) CreateShortener(ctx context.Context, x *esign.Shortener) error {
	const op = "sqlstore.CreateShortener"
	return createRow(ctx, s, op, shorteners, x, &x.ID, &x.CreatedAt, nil)
}

// ResolveShortener returns the short URL with the code if it has not
// expired at now, and counts the hit. Errors: NotFound (unknown or expired).
func (s *store) ResolveShortener(ctx context.Context, code string, now time.Time) (*esign.Shortener, error) {
	const op = "sqlstore.ResolveShortener"
	x := new(esign.Shortener)
	f := shorteners.fields(x)
	err := s.queryRow(ctx, "UPDATE shortener SET hits = hits + 1 WHERE code = ? AND expires_at > ?"+shorteners.ret,
		code, now).Scan(f...)
	if err != nil {
		if esign.IsKind(s.wrap(op, err), esign.NotFound) {
			return nil, shorteners.notFound(op)
		}
		return nil, s.wrap(op, err)
	}
	return x, nil
}

// ListShorteners lists short URLs oldest first.
func (s *store) ListShorteners(ctx context.Context, f esign.ShortenerFilter) ([]*esign.Shortener, error) {
	var w where
	eq(&w, "code", f.Code)
	before(&w, "expires_at", f.ExpiredBefore)
	return listRows(ctx, s, "sqlstore.ListShorteners", shorteners, &w, "created_at, id", f.Page)
}

// DeleteShortener deletes the short URL with the id. Errors: NotFound.
func (s *store) DeleteShortener(ctx context.Context, id string) error {
	return deleteByID(ctx, s, "sqlstore.DeleteShortener", shorteners, id)
}

// DeleteExpiredShorteners deletes the short URLs that expired before now
// (the daily cron job) and returns how many.
func (s *store) DeleteExpiredShorteners(ctx context.Context, now time.Time) (int64, error) {
	return s.deleteRows(ctx, "sqlstore.DeleteExpiredShorteners", "shortener", "expires_at <= ?", now)
}
