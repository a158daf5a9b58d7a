package operators

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"time"

	"esign/internal/esign"
	"esign/internal/jobs"
	"esign/internal/sqlstore"
)

// EventDelivery is the delivery of an event to one of the bank's callback
// URLs.
type EventDelivery = sqlstore.EventDelivery

// AuditQuery selects entries of the audit log page.
type AuditQuery struct {
	Actor    string    // an operator's username; empty: anyone
	Action   string    // exact action, e.g. "access.denied"
	From, To time.Time // creation date range, To exclusive
	Page     esign.Page
}

// AuditRow is an audit entry with its actor's username.
type AuditRow struct {
	Entry *esign.AuditLog
	Actor string // username of an operator actor; empty otherwise
}

// AuditLog lists audit entries newest first. An unknown actor name lists
// nothing.
func (s *Service) AuditLog(ctx context.Context, q AuditQuery) ([]AuditRow, error) {
	const op = "operators.AuditLog"
	f := esign.AuditLogFilter{Action: q.Action, Since: q.From, Until: q.To, Page: q.Page}
	if q.Actor != "" {
		u, err := s.d.DB.GetUserByUsername(ctx, q.Actor)
		if esign.IsKind(err, esign.NotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, esign.E(op, err)
		}
		f.ActorType, f.ActorID = "user", u.ID
	}
	es, err := s.d.DB.ListAuditLogs(ctx, f)
	if err != nil {
		return nil, esign.E(op, err)
	}
	names := map[string]string{}
	out := make([]AuditRow, 0, len(es))
	for _, e := range es {
		row := AuditRow{Entry: e}
		if e.ActorType == "user" && e.ActorID != "" {
			name, ok := names[e.ActorID]
			if !ok {
				u, err := s.d.DB.GetUser(ctx, e.ActorID)
				switch {
				case err == nil:
					name = u.Username
				case !esign.IsKind(err, esign.NotFound):
					return nil, esign.E(op, err)
				}
				names[e.ActorID] = name
			}
			row.Actor = name
		}
		out = append(out, row)
	}
	return out, nil
}

// Message is one line of the e-mail / SMS / push log.
type Message struct {
	Channel   esign.Channel
	Recipient string // as logged: masked where the channel masks it
	Subject   string // the e-mail's subject, the push's title; the SMS text (masked)
	Template  string
	Status    esign.DeliveryStatus
	esign.Delivery
	SentAt    time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MessageQuery selects the message log of one channel.
type MessageQuery struct {
	Channel esign.Channel // default e-mail
	Status  esign.DeliveryStatus
	Page    esign.Page
}

// Messages lists the channel's log, newest first. Errors: Invalid (unknown
// channel or status).
func (s *Service) Messages(ctx context.Context, q MessageQuery) ([]Message, error) {
	const op = "operators.Messages"
	if q.Status != "" && !validStatus(q.Status) {
		return nil, esign.WithCode(op, esign.Invalid, "status", "unknown delivery state")
	}
	f := esign.MessageLogFilter{Status: q.Status, Page: q.Page}
	var out []Message
	switch q.Channel {
	case esign.ChannelEmail, "":
		ls, err := s.d.DB.ListEmailLogs(ctx, f)
		if err != nil {
			return nil, esign.E(op, err)
		}
		for _, l := range ls {
			out = append(out, Message{Channel: esign.ChannelEmail, Recipient: l.Recipient, Subject: l.Subject, Template: l.Template,
				Status: l.Status, Delivery: l.Delivery, SentAt: l.SentAt, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt})
		}
	case esign.ChannelSMS:
		ls, err := s.d.DB.ListSmsLogs(ctx, f)
		if err != nil {
			return nil, esign.E(op, err)
		}
		for _, l := range ls {
			out = append(out, Message{Channel: esign.ChannelSMS, Recipient: l.Recipient, Subject: l.Body, Template: l.Template,
				Status: l.Status, Delivery: l.Delivery, SentAt: l.SentAt, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt})
		}
	case esign.ChannelPush:
		ls, err := s.d.DB.ListPushLogs(ctx, f)
		if err != nil {
			return nil, esign.E(op, err)
		}
		for _, l := range ls {
			out = append(out, Message{Channel: esign.ChannelPush, Recipient: l.Recipient, Subject: l.Title, Template: l.Template,
				Status: l.Status, Delivery: l.Delivery, SentAt: l.SentAt, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt})
		}
	default:
		return nil, esign.WithCode(op, esign.Invalid, "channel", "unknown channel")
	}
	return out, nil
}

func validStatus(st esign.DeliveryStatus) bool {
	for _, x := range esign.DeliveryStatuses {
		if x == st {
			return true
		}
	}
	return false
}

// ClientErrors lists the errors browsers and apps reported, newest first.
func (s *Service) ClientErrors(ctx context.Context, source string, p esign.Page) ([]*esign.ClientErrorLog, error) {
	const op = "operators.ClientErrors"
	switch source {
	case "", "css", "admin", "app":
	default:
		return nil, esign.WithCode(op, esign.Invalid, "source", "unknown source")
	}
	ls, err := s.d.DB.ListClientErrorLogs(ctx, esign.ClientErrorLogFilter{Source: source, Page: p})
	if err != nil {
		return nil, esign.E(op, err)
	}
	return ls, nil
}

// JobStates are the job states the jobs page lists by default: the ones
// an operator acts on.
var JobStates = []string{"retryable", "discarded", "cancelled"}

// HasJobs reports whether this process reaches the job queue.
func (s *Service) HasJobs() bool { return s.d.Jobs != nil }

// Jobs lists background jobs in the states (empty: JobStates), newest
// first. Errors: Unavailable (no job queue here), Invalid (state).
func (s *Service) Jobs(ctx context.Context, states []string, limit int) ([]jobs.JobInfo, error) {
	const op = "operators.Jobs"
	if err := s.needJobs(op); err != nil {
		return nil, err
	}
	if len(states) == 0 {
		states = JobStates
	}
	for _, st := range states {
		switch st {
		case "available", "scheduled", "running", "retryable", "completed", "cancelled", "discarded", "pending":
		default:
			return nil, esign.WithCode(op, esign.Invalid, "state", "unknown job state")
		}
	}
	js, err := s.d.Jobs.Jobs(ctx, jobs.JobFilter{States: states, Limit: limit})
	if err != nil {
		return nil, esign.E(op, err)
	}
	return js, nil
}

// RetryJob runs a failed, cancelled or retrying job again at once.
// Errors: NotFound, Unavailable.
func (s *Service) RetryJob(ctx context.Context, id int64) (Job, error) {
	const op = "operators.RetryJob"
	if err := s.needJobs(op); err != nil {
		return Job{}, err
	}
	j, err := s.d.Jobs.RetryJob(ctx, id)
	return j, wrap(op, err)
}

// CancelJob cancels a job that has not finished. Errors: NotFound,
// Unavailable.
func (s *Service) CancelJob(ctx context.Context, id int64) (Job, error) {
	const op = "operators.CancelJob"
	if err := s.needJobs(op); err != nil {
		return Job{}, err
	}
	j, err := s.d.Jobs.CancelJob(ctx, id)
	return j, wrap(op, err)
}

// needJobs is Unavailable where the process does not reach the job queue.
func (s *Service) needJobs(op string) error {
	if s.d.Jobs == nil {
		return esign.E(op, esign.Unavailable, "this process does not reach the job queue")
	}
	return nil
}

// wrap adds op to a non-nil error.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return esign.E(op, err)
}

// EventDeliveries lists deliveries of events to the bank's callback URLs,
// newest event first. Errors: Invalid (status).
func (s *Service) EventDeliveries(ctx context.Context, status string, p esign.Page) ([]sqlstore.EventDelivery, error) {
	const op = "operators.EventDeliveries"
	switch status {
	case "", sqlstore.DeliveryPending, sqlstore.DeliveryDelivered, sqlstore.DeliveryFailed:
	default:
		return nil, esign.WithCode(op, esign.Invalid, "status", "unknown delivery state")
	}
	ds, err := s.d.DB.ListEventDeliveries(ctx, sqlstore.EventDeliveryFilter{Status: status, Page: p})
	if err != nil {
		return nil, esign.E(op, err)
	}
	return ds, nil
}

// URLKey identifies a callback URL in a page without showing it (a URL
// may carry Basic credentials): the hex SHA-256 of the URL, shortened.
func URLKey(url string) string {
	h := sha256.Sum256([]byte(url))
	return hex.EncodeToString(h[:12])
}

// RetryEventDelivery delivers a failed event again to its callback URL
// whose URLKey is urlKey: the delivery is pending again and a new
// delivery job is queued, in one transaction. It returns the URL.
// Errors: NotFound, Conflict (not_failed), Unavailable (no job queue here).
func (s *Service) RetryEventDelivery(ctx context.Context, eventID, urlKey string) (string, error) {
	const op = "operators.RetryEventDelivery"
	if !esign.ValidID(eventID) || urlKey == "" {
		return "", esign.E(op, esign.NotFound, "no such event delivery")
	}
	if err := s.needJobs(op); err != nil {
		return "", err
	}
	ds, err := s.d.DB.ListEventDeliveries(ctx, sqlstore.EventDeliveryFilter{EventID: eventID, Page: esign.Page{Limit: 100}})
	if err != nil {
		return "", esign.E(op, err)
	}
	url := ""
	for _, d := range ds {
		if subtle.ConstantTimeCompare([]byte(URLKey(d.URL)), []byte(urlKey)) == 1 {
			url = d.URL
		}
	}
	if url == "" {
		return "", esign.E(op, esign.NotFound, "no such event delivery")
	}
	err = s.d.DB.InTx(ctx, func(tx *sqlstore.Tx) error {
		if err := tx.RetryEventDelivery(ctx, eventID, url); err != nil {
			return err
		}
		_, err := s.d.Jobs.EnqueueEvent(ctx, tx.SQLTx(), eventID, url)
		return err
	})
	if err != nil {
		return url, esign.E(op, err)
	}
	return url, nil
}
