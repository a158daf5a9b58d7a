package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"esign/internal/esign"
	"esign/internal/notify"
)

// The senders a Queue uses, one per channel (package notify's smsapi, smtp,
// fcm and inbox implement them).
type (
	SMSSender interface {
		SendSMS(ctx context.Context, m notify.SMSMessage) (notify.Receipt, error)
	}
	EmailSender interface {
		SendEmail(ctx context.Context, m notify.EmailMessage) (notify.Receipt, error)
	}
	PushSender interface {
		SendPush(ctx context.Context, m notify.PushMessage) (notify.Receipt, error)
	}
)

// DeliveryStatus is the state of a notification in the SMS, e-mail or push log.
type DeliveryStatus string

// The delivery states.
const (
	StatusSending     DeliveryStatus = "sending"      // handed to the provider, no answer yet
	StatusSent        DeliveryStatus = "sent"         // the provider accepted it (ProviderID set)
	StatusRetrying    DeliveryStatus = "retrying"     // a temporary failure; another attempt follows
	StatusFailed      DeliveryStatus = "failed"       // given up: permanent error or attempts exhausted
	StatusRateLimited DeliveryStatus = "rate_limited" // not sent: the recipient's limit was reached
	StatusExpired     DeliveryStatus = "expired"      // not sent: the code it carries had expired
)

// Delivery is one notification's row in the SmsLog, EmailLog or PushLog;
// RecordDelivery is called at every state change with the same Key.
// Recipient and Text are already masked.
type Delivery struct {
	Key        string
	JobID      int64
	Attempt    int
	Kind       notify.Kind
	Channel    notify.Channel
	Recipient  string // masked
	Subject    string
	Text       string // masked: one-time codes replaced by asterisks
	Status     DeliveryStatus
	Provider   string
	ProviderID string
	ErrorCode  string
	Error      string
	At         time.Time
}

// LogStore records deliveries. It is what makes a retry after a crash
// skip a message that was already sent.
type LogStore interface {
	// RecordDelivery inserts the delivery or updates the one with the same Key.
	RecordDelivery(ctx context.Context, d Delivery) error
	// FindDelivery returns the delivery on channel with key; ok is false
	// when there is none.
	FindDelivery(ctx context.Context, channel notify.Channel, key string) (d Delivery, ok bool, err error)
}

// DeliveryStarter is a LogStore that can record a delivery as "sending"
// and look up the entry recorded before under its key in one step (one
// statement instead of FindDelivery and RecordDelivery).
type DeliveryStarter interface {
	// StartDelivery records d unless the delivery with d.Key is final
	// already (sent, rate-limited or expired), and returns the entry
	// recorded before d: found is false when there was none; a final one
	// is returned as stored, and d is then not recorded.
	StartDelivery(ctx context.Context, d Delivery) (prev Delivery, found bool, err error)
	// ForgetDelivery removes the entry StartDelivery made when there was
	// none before and the delivery cannot go on yet (the rate limit could
	// not be checked): the retry then finds none, as if nothing had been
	// recorded, and checks the limit again.
	ForgetDelivery(ctx context.Context, channel notify.Channel, key string) error
}

// Notification is a message to send after the enqueuing transaction commits.
type Notification struct {
	Kind    notify.Kind       `json:"kind"`
	Channel notify.Channel    `json:"channel"`
	Lang    notify.Lang       `json:"lang"`
	To      string            `json:"to"`                // E.164 phone, e-mail address or device token
	ToName  string            `json:"to_name,omitempty"` // display name for e-mail
	Params  notify.Params     `json:"params"`
	Data    map[string]string `json:"data,omitempty"` // extra push payload, e.g. {"offerId": "42"}
	// Key, when set, makes the notification idempotent: enqueuing the same
	// key twice (a retried request) creates one job, and it is the
	// provider-side idempotency key. Use something like
	// "offer-available-<offerID>-sms". Empty: "job-<id>".
	Key string `json:"key,omitempty"`
}

// Validate checks a notification before it is enqueued.
func (n Notification) Validate() error {
	const op = "jobs.Notification.Validate"
	switch {
	case !n.Kind.Valid():
		return esign.Errorf(op, esign.Invalid, "unknown notification kind %q", n.Kind)
	case !n.Channel.Valid():
		return esign.Errorf(op, esign.Invalid, "unknown channel %q", n.Channel)
	case n.To == "":
		return esign.E(op, esign.Invalid, "notification has no recipient")
	case n.Kind.HasCode() && n.Params.Code == "":
		return esign.Errorf(op, esign.Invalid, "%s needs a code", n.Kind)
	case len(n.Key) > 200:
		return esign.E(op, esign.Invalid, "notification key too long")
	}
	return nil
}

type notifyArgs struct {
	N   Notification `json:"n"`
	Key string       `json:"key,omitempty" river:"unique"`
}

func (notifyArgs) Kind() string { return "notify" }

// insertParams validates n and returns its job arguments and options.
func (q *Queue) insertParams(n Notification) (river.InsertManyParams, error) {
	if err := n.Validate(); err != nil {
		return river.InsertManyParams{}, err
	}
	n.Lang = notify.ParseLang(string(n.Lang))
	opts := &river.InsertOpts{Queue: QueueNotify, MaxAttempts: q.cfg.Notify.MaxAttempts, Priority: 2}
	if n.Kind.HasCode() {
		opts.MaxAttempts = q.cfg.Notify.CodeMaxAttempts
		opts.Priority = 1 // codes first: someone is waiting for them
	}
	if n.Key != "" {
		opts.UniqueOpts = river.UniqueOpts{ByArgs: true}
	}
	return river.InsertManyParams{Args: notifyArgs{N: n, Key: n.Key}, InsertOpts: opts}, nil
}

// EnqueueMany adds several notifications in one statement batch inside tx
// (nil: on its own), e.g. an operator's news to many customers. It returns
// the job ids in order.
func (q *Queue) EnqueueMany(ctx context.Context, tx *sql.Tx, ns []Notification) ([]int64, error) {
	params := make([]river.InsertManyParams, len(ns))
	for i, n := range ns {
		p, err := q.insertParams(n)
		if err != nil {
			return nil, fmt.Errorf("jobs: notification %d: %w", i, err)
		}
		params[i] = p
	}
	var (
		res []*rivertype.JobInsertResult
		err error
	)
	if tx != nil {
		res, err = q.client.InsertManyTx(ctx, tx, params)
	} else {
		res, err = q.client.InsertMany(ctx, params)
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: enqueue %d notifications: %w", len(ns), err)
	}
	ids := make([]int64, len(res))
	for i, r := range res {
		ids[i] = r.Job.ID
	}
	return ids, nil
}

// Enqueue adds n to the outbox inside tx, the caller's transaction: the
// notification exists if and only if tx commits, and is sent after the
// commit by a worker of any replica. tx may be nil to enqueue on its own.
// It returns the job id; a duplicate Key returns the existing job's id.
func (q *Queue) Enqueue(ctx context.Context, tx *sql.Tx, n Notification) (int64, error) {
	p, err := q.insertParams(n)
	if err != nil {
		return 0, err
	}
	res, err := q.insert(ctx, tx, p.Args, p.InsertOpts)
	if err != nil {
		return 0, fmt.Errorf("jobs: enqueue %s %s: %w", n.Kind, n.Channel, err)
	}
	return res.Job.ID, nil
}

type notifyWorker struct {
	river.WorkerDefaults[notifyArgs]
	q *Queue
}

func (w *notifyWorker) Timeout(*river.Job[notifyArgs]) time.Duration {
	return w.q.cfg.Notify.SendTimeout
}

// NextRetry is base·2^(attempt−1) capped at max, with ±10 % jitter.
func (w *notifyWorker) NextRetry(job *river.Job[notifyArgs]) time.Time {
	return w.q.retryAt(job.Attempt, w.q.cfg.Notify.BackoffBase, w.q.cfg.Notify.BackoffMax)
}

func backoff(attempt int, base, max time.Duration) time.Duration {
	d := max
	if attempt >= 1 && attempt < 40 {
		if x := base << (attempt - 1); x > 0 && x < max {
			d = x
		}
	}
	jitter := time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	return d + jitter
}

// Work renders and sends one notification. The order of steps is what keeps
// it from being lost or sent twice:
//
//  1. A delivery already recorded as sent under the key ends the job: this
//     is a retry after a crash that happened after the provider accepted
//     the message and the log row was written.
//  2. The rate limit is checked on the first attempt only, so a retry does
//     not count twice.
//  3. The delivery is recorded as "sending", the provider called with the
//     key as its idempotency key (SmsApi.com idx, Message-ID, inbox key),
//     and the receipt recorded as "sent" before the job is marked complete.
//
// The remaining window is a crash after the provider accepted the message
// but before "sent" was recorded: the retry sends again, except where the
// provider refuses a repeated key (SmsApi.com, the inbox). That is the
// at-least-once boundary, documented in docs/notifications.md.
func (w *notifyWorker) Work(ctx context.Context, job *river.Job[notifyArgs]) error {
	q := w.q
	n := job.Args.N
	key := job.Args.Key
	if key == "" {
		key = "job-" + strconv.FormatInt(job.ID, 10)
	}
	d := Delivery{
		Key: key, JobID: job.ID, Attempt: job.Attempt, Kind: n.Kind, Channel: n.Channel,
		Recipient: notify.MaskRecipient(n.Channel, n.To),
	}
	now := q.now()
	if st, ok := q.deps.Log.(DeliveryStarter); ok {
		// What decides without the log first, so that the "sending"
		// entry can be written with the look-up of an earlier one.
		if r, err := q.deps.Renderer.Render(n.Kind, n.Lang, n.Params); err == nil && !codeExpired(n, now) {
			return w.start(ctx, job, st, d, r, now)
		}
	}
	prev, found, err := q.deps.Log.FindDelivery(ctx, n.Channel, key)
	if err != nil {
		return fmt.Errorf("jobs: look up delivery %s: %w", key, err)
	}
	if found && prev.Status == StatusSent {
		q.log.InfoContext(ctx, "notification already sent, skipping", "key", key, "job", job.ID, "provider_id", prev.ProviderID)
		return nil
	}
	if found && (prev.Status == StatusRateLimited || prev.Status == StatusExpired) {
		return river.JobCancel(fmt.Errorf("notification %s: %s", key, prev.Status))
	}
	if codeExpired(n, now) {
		d.Status, d.At, d.Error = StatusExpired, now, "code expired before it could be sent"
		return river.JobCancel(q.record(ctx, d, errors.New(d.Error)))
	}
	if !found {
		if stop, err := q.limit(ctx, n, d, now); stop {
			return err
		}
	}
	r, err := q.deps.Renderer.Render(n.Kind, n.Lang, n.Params)
	if err != nil {
		d.Status, d.At, d.Error = StatusFailed, now, err.Error()
		return river.JobCancel(q.record(ctx, d, err))
	}
	d = sending(d, n, r, now)
	if err := q.deps.Log.RecordDelivery(ctx, d); err != nil {
		return fmt.Errorf("jobs: record delivery %s: %w", key, err)
	}
	return w.send(ctx, job, d, r)
}

// limit counts a first delivery against the recipient's rate limit of the
// channel; stop says the job ends, with err, because the limit was reached
// (recorded as rate_limited in d's entry) or could not be checked.
func (q *Queue) limit(ctx context.Context, n Notification, d Delivery, now time.Time) (stop bool, err error) {
	lim, ok := q.cfg.Notify.RateLimits[n.Channel]
	if !ok || q.deps.Limiter == nil || lim.Unlimited() {
		return false, nil
	}
	dec, err := q.deps.Limiter.Allow(ctx, string(n.Channel)+":"+n.To, lim)
	if err != nil {
		return true, fmt.Errorf("jobs: rate limit: %w", err)
	}
	if !dec.Allowed {
		d.Status, d.At = StatusRateLimited, now
		d.Error = fmt.Sprintf("at most %d per %s to this recipient", lim.N, lim.Per)
		return true, river.JobCancel(q.record(ctx, d, errors.New(d.Error)))
	}
	return false, nil
}

// codeExpired says whether n carries a code that expired before now.
func codeExpired(n Notification, now time.Time) bool {
	return n.Kind.HasCode() && !n.Params.ExpiresAt.IsZero() && now.After(n.Params.ExpiresAt)
}

// sending is d about to be handed to the provider: the rendered subject and
// text, masked.
func sending(d Delivery, n Notification, r notify.Rendered, now time.Time) Delivery {
	d.Subject, d.Text = r.Subject, r.SMS
	switch n.Channel {
	case notify.Email:
		d.Text = r.Text
	case notify.Push:
		d.Subject, d.Text = r.PushTitle, r.PushBody
	}
	d.Text = notify.MaskSecret(d.Text, n.Params.Code)
	d.Status, d.At = StatusSending, now
	return d
}

// start is Work's steps 1 to 3 on a DeliveryStarter, for a notification
// that rendered and whose code has not expired: the "sending" entry is
// written with the look-up of an earlier one, and the rate limit checked
// after it when there was none (a refused message's entry then goes from
// sending to rate_limited). The decisions are Work's: an entry sent
// already ends the job, a rate-limited or expired one cancels it, and the
// limit counts the first delivery of a key only.
func (w *notifyWorker) start(ctx context.Context, job *river.Job[notifyArgs], st DeliveryStarter, d Delivery, r notify.Rendered, now time.Time) error {
	q := w.q
	n := job.Args.N
	d = sending(d, n, r, now)
	prev, found, err := st.StartDelivery(ctx, d)
	if err != nil {
		return fmt.Errorf("jobs: record delivery %s: %w", d.Key, err)
	}
	if found && prev.Status == StatusSent {
		q.log.InfoContext(ctx, "notification already sent, skipping", "key", d.Key, "job", job.ID, "provider_id", prev.ProviderID)
		return nil
	}
	if found && (prev.Status == StatusRateLimited || prev.Status == StatusExpired) {
		return river.JobCancel(fmt.Errorf("notification %s: %s", d.Key, prev.Status))
	}
	if !found {
		if stop, err := q.limit(ctx, n, d, now); stop {
			var c *river.JobCancelError
			if !errors.As(err, &c) {
				// Not refused but unchecked: the retry must find no
				// entry, or it would skip the limit.
				if ferr := st.ForgetDelivery(context.WithoutCancel(ctx), d.Channel, d.Key); ferr != nil {
					err = errors.Join(err, fmt.Errorf("jobs: forget delivery %s: %w", d.Key, ferr))
				}
			}
			return err
		}
	}
	return w.send(ctx, job, d, r)
}

// send hands the message recorded as sending (d) to the provider and
// records the outcome: Work's step 3.
func (w *notifyWorker) send(ctx context.Context, job *river.Job[notifyArgs], d Delivery, r notify.Rendered) error {
	q := w.q
	n, key := job.Args.N, d.Key
	rc, sendErr := q.send(ctx, n, r, key)
	d.At = q.now()
	// What happened must be recorded even when the attempt's deadline has
	// just passed: above all a "sent", without which a retry sends again.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if sendErr != nil {
		d.ErrorCode, d.Error = esign.ErrorCode(sendErr), sendErr.Error()
		last := job.Attempt >= job.MaxAttempts
		if notify.Permanent(sendErr) || last {
			d.Status = StatusFailed
			q.log.WarnContext(ctx, "notification failed", "key", key, "job", job.ID, "channel", n.Channel, "to", d.Recipient, "attempt", job.Attempt, "error", sendErr)
			err := q.record(ctx, d, sendErr)
			if notify.Permanent(sendErr) {
				return river.JobCancel(err)
			}
			return err
		}
		d.Status = StatusRetrying
		return q.record(ctx, d, sendErr)
	}
	d.Status, d.Provider, d.ProviderID = StatusSent, rc.Provider, rc.ID
	// The message is out: record that, trying hard, because a failed record
	// means a retry would send it again.
	var recErr error
	for i := range 3 {
		if recErr = q.deps.Log.RecordDelivery(ctx, d); recErr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(i+1) * 200 * time.Millisecond):
		}
	}
	// Completing the job without the log row is the lesser evil: returning
	// an error would send the message again.
	q.log.ErrorContext(ctx, "notification sent but not recorded", "key", key, "job", job.ID, "provider", rc.Provider, "provider_id", rc.ID, "error", recErr)
	return nil
}

// record writes d and returns cause, or the recording error when that
// fails too.
func (q *Queue) record(ctx context.Context, d Delivery, cause error) error {
	if err := q.deps.Log.RecordDelivery(ctx, d); err != nil {
		return errors.Join(cause, fmt.Errorf("jobs: record delivery %s: %w", d.Key, err))
	}
	return cause
}

func (q *Queue) send(ctx context.Context, n Notification, r notify.Rendered, key string) (notify.Receipt, error) {
	const op = "jobs.send"
	switch n.Channel {
	case notify.SMS:
		if q.deps.SMS == nil {
			return notify.Receipt{}, esign.E(op, esign.Invalid, "no SMS sender configured")
		}
		return q.deps.SMS.SendSMS(ctx, notify.SMSMessage{To: n.To, Text: r.SMS, Key: key})
	case notify.Email:
		if q.deps.Email == nil {
			return notify.Receipt{}, esign.E(op, esign.Invalid, "no e-mail sender configured")
		}
		return q.deps.Email.SendEmail(ctx, notify.EmailMessage{To: n.To, ToName: n.ToName, Subject: r.Subject, Text: r.Text, HTML: r.HTML, Key: key})
	case notify.Push:
		if q.deps.Push == nil {
			return notify.Receipt{}, esign.E(op, esign.Invalid, "no push sender configured")
		}
		data := map[string]string{"kind": string(n.Kind)}
		for k, v := range n.Data {
			data[k] = v
		}
		return q.deps.Push.SendPush(ctx, notify.PushMessage{Token: n.To, Title: r.PushTitle, Body: r.PushBody, Data: data, Key: key})
	}
	return notify.Receipt{}, esign.Errorf(op, esign.Invalid, "unknown channel %q", n.Channel)
}

// summarize describes a job for operators without personal data.
func summarize(kind string, args []byte) string {
	switch kind {
	case "notify":
		var a notifyArgs
		if json.Unmarshal(args, &a) != nil {
			return ""
		}
		return fmt.Sprintf("%s %s to %s", a.N.Kind, a.N.Channel, notify.MaskRecipient(a.N.Channel, a.N.To))
	case "cron":
		var a cronArgs
		if json.Unmarshal(args, &a) != nil {
			return ""
		}
		return a.Name
	}
	return ""
}
