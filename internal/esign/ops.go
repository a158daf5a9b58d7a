package esign

import "time"

// DeliveryStatus is the state of an outgoing message (SMS, e-mail, push).
type DeliveryStatus string

// The delivery states.
const (
	DeliveryQueued      DeliveryStatus = "queued"       // recorded, not handed to the provider yet
	DeliverySending     DeliveryStatus = "sending"      // handed to the provider, no answer yet
	DeliverySent        DeliveryStatus = "sent"         // the provider accepted it
	DeliveryRetrying    DeliveryStatus = "retrying"     // a temporary failure; another attempt follows
	DeliveryFailed      DeliveryStatus = "failed"       // given up
	DeliveryRateLimited DeliveryStatus = "rate_limited" // not sent: the recipient's limit was reached
	DeliveryExpired     DeliveryStatus = "expired"      // not sent: the code it carries had expired
)

// DeliveryStatuses lists every delivery state.
var DeliveryStatuses = []DeliveryStatus{DeliveryQueued, DeliverySending, DeliverySent, DeliveryRetrying,
	DeliveryFailed, DeliveryRateLimited, DeliveryExpired}

// Delivery is what the e-mail, SMS and push logs share: the job that sends the
// message and the outcome. DeliveryKey, when set, is unique per log and makes
// a retried job find the message it already sent.
type Delivery struct {
	DeliveryKey string // idempotency key of the notification; unique when set
	JobID       int64  // the job queue's job id; 0 when sent directly
	Attempt     int    // the job attempt that last changed the entry
	Provider    string // "smtp", "smsapi", "inbox", …
	ProviderID  string // the provider's message id
	ErrorCode   string // machine-readable failure reason
	Error       string
}

// EmailLog records one outgoing e-mail.
type EmailLog struct {
	ID         string
	CustomerID string // optional
	Recipient  string
	Subject    string
	Template   string
	Status     DeliveryStatus
	Delivery
	SentAt    time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (d *Delivery) check(v *checker) {
	v.text("delivery key", d.DeliveryKey, false, 128)
	v.that(d.JobID >= 0 && d.Attempt >= 0, "job id and attempt must not be negative")
	v.text("provider", d.Provider, false, 32)
	v.text("provider id", d.ProviderID, false, 256)
	v.text("error code", d.ErrorCode, false, 64)
	v.text("error", d.Error, false, 2048)
}

// Validate checks the log entry before it is stored.
func (l *EmailLog) Validate() error {
	v := newChecker("esign.EmailLog.Validate")
	v.id("customer id", l.CustomerID, false)
	v.text("recipient", l.Recipient, true, 320)
	v.text("subject", l.Subject, false, 512)
	v.text("template", l.Template, false, 64)
	oneOf(v, "status", l.Status, DeliveryStatuses...)
	l.Delivery.check(v)
	return v.err()
}

// SmsLog records one outgoing SMS. Body must be masked by the caller: a
// one-time code never reaches the database in clear.
type SmsLog struct {
	ID         string
	CustomerID string // optional
	Recipient  string // E.164
	Body       string // masked
	Template   string
	Status     DeliveryStatus
	Delivery
	SentAt    time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks the log entry before it is stored.
func (l *SmsLog) Validate() error {
	v := newChecker("esign.SmsLog.Validate")
	v.id("customer id", l.CustomerID, false)
	v.text("recipient", l.Recipient, true, 32)
	v.text("body", l.Body, false, 1600)
	v.text("template", l.Template, false, 64)
	oneOf(v, "status", l.Status, DeliveryStatuses...)
	l.Delivery.check(v)
	return v.err()
}

// PushLog records one outgoing push notification. Recipient is the masked
// device token: the token itself is a credential to the device.
type PushLog struct {
	ID         string
	CustomerID string // optional
	Recipient  string // masked device token
	Title      string
	Template   string
	Status     DeliveryStatus
	Delivery
	SentAt    time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks the log entry before it is stored.
func (l *PushLog) Validate() error {
	v := newChecker("esign.PushLog.Validate")
	v.id("customer id", l.CustomerID, false)
	v.text("recipient", l.Recipient, true, 64)
	v.text("title", l.Title, false, 512)
	v.text("template", l.Template, false, 64)
	oneOf(v, "status", l.Status, DeliveryStatuses...)
	l.Delivery.check(v)
	return v.err()
}

// MessageLogFilter selects e-mail, SMS or push log entries; newest first.
type MessageLogFilter struct {
	DeliveryKey string
	CustomerID  string
	Recipient   string
	Status      DeliveryStatus
	Page
}

// DeliveryUpdate changes the non-nil delivery fields of an e-mail, SMS or push log entry.
type DeliveryUpdate struct {
	Status     *DeliveryStatus
	JobID      *int64
	Attempt    *int
	Provider   *string
	ProviderID *string
	ErrorCode  *string
	Error      *string
	SentAt     *time.Time
}

// ClientErrorLog records an error reported by a browser or the mobile app.
type ClientErrorLog struct {
	ID         string
	Source     string // "css", "admin", "app"
	Message    string
	Stack      string
	URL        string
	UserAgent  string
	CustomerID string // optional
	CreatedAt  time.Time
}

// Validate checks the entry before it is stored.
func (l *ClientErrorLog) Validate() error {
	v := newChecker("esign.ClientErrorLog.Validate")
	oneOf(v, "source", l.Source, "css", "admin", "app")
	v.text("message", l.Message, true, 4096)
	v.text("stack", l.Stack, false, 1<<16)
	v.text("url", l.URL, false, 2048)
	v.text("user agent", l.UserAgent, false, 512)
	v.id("customer id", l.CustomerID, false)
	return v.err()
}

// ClientErrorLogFilter selects client errors; newest first.
type ClientErrorLogFilter struct {
	Source     string
	CustomerID string
	Since      time.Time
	Page
}

// Channel is a notification channel.
type Channel string

// The notification channels.
const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "email"
	ChannelPush  Channel = "push"
)

// DevInboxMessage is a notification captured by the development inbox instead
// of being sent (embedded deployment); the admin UI shows them.
type DevInboxMessage struct {
	ID        string
	Channel   Channel
	Recipient string            // unmasked: development data only
	Subject   string            // e-mail subject or push title
	Body      string            // SMS text, e-mail text body or push body
	HTML      string            // e-mail HTML body
	Data      map[string]string // push data
	Key       string            // the notification's idempotency key; unique when set
	CreatedAt time.Time
}

// Validate checks the message before it is stored.
func (m *DevInboxMessage) Validate() error {
	v := newChecker("esign.DevInboxMessage.Validate")
	oneOf(v, "channel", m.Channel, ChannelSMS, ChannelEmail, ChannelPush)
	v.text("recipient", m.Recipient, true, 4096)
	v.text("subject", m.Subject, false, 512)
	v.text("body", m.Body, false, 1<<20)
	v.text("html", m.HTML, false, 1<<20)
	v.text("key", m.Key, false, 256)
	return v.err()
}

// DevInboxFilter selects inbox messages; newest first.
type DevInboxFilter struct {
	Channel   Channel
	Recipient string
	Page
}

// ProcessStatus is the state of a background process.
type ProcessStatus string

// The background process states.
const (
	ProcessQueued    ProcessStatus = "queued"
	ProcessRunning   ProcessStatus = "running"
	ProcessSucceeded ProcessStatus = "succeeded"
	ProcessFailed    ProcessStatus = "failed"
	ProcessCanceled  ProcessStatus = "canceled"
)

// BackgroundProcess is a long-running operation shown to operators (bulk
// import, cron run, re-encryption, …) with its log lines in
// BackgroundProcessLog.
type BackgroundProcess struct {
	ID         string
	Kind       string    // e.g. "cron.offer_timeout"
	Trigger    string    // "schedule", "manual", "user", …
	Slot       time.Time // the schedule slot of a cron run; zero otherwise
	Node       string    // the replica that runs it
	Status     ProcessStatus
	Progress   int    // percent, 0–100
	Result     string // short summary, e.g. "expired 3 offers"
	Error      string
	CreatedBy  string // User id; optional
	StartedAt  time.Time
	FinishedAt time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Validate checks the process before it is stored.
func (p *BackgroundProcess) Validate() error {
	v := newChecker("esign.BackgroundProcess.Validate")
	v.text("kind", p.Kind, true, 64)
	oneOf(v, "status", p.Status, ProcessQueued, ProcessRunning, ProcessSucceeded, ProcessFailed, ProcessCanceled)
	v.text("trigger", p.Trigger, false, 32)
	v.text("node", p.Node, false, 128)
	v.that(p.Progress >= 0 && p.Progress <= 100, "progress must be between 0 and 100")
	v.text("result", p.Result, false, 4096)
	v.text("error", p.Error, false, 4096)
	v.id("created by", p.CreatedBy, false)
	return v.err()
}

// BackgroundProcessFilter selects processes; newest first.
type BackgroundProcessFilter struct {
	Kind    string
	Trigger string // e.g. "schedule" or "manual"; empty: any
	Slot    time.Time
	Status  ProcessStatus
	Page
}

// BackgroundProcessUpdate changes the non-nil fields of a process.
type BackgroundProcessUpdate struct {
	Status     *ProcessStatus
	Progress   *int
	Result     *string
	Error      *string
	StartedAt  *time.Time
	FinishedAt *time.Time
}

// BackgroundProcessLog is one log line of a background process.
type BackgroundProcessLog struct {
	ID        string
	ProcessID string
	Level     string // "debug", "info", "warn", "error"
	Message   string
	CreatedAt time.Time
}

// Validate checks the log line before it is stored.
func (l *BackgroundProcessLog) Validate() error {
	v := newChecker("esign.BackgroundProcessLog.Validate")
	v.id("process id", l.ProcessID, true)
	oneOf(v, "level", l.Level, "debug", "info", "warn", "error")
	v.text("message", l.Message, true, 8192)
	return v.err()
}

// Shortener maps a short code to a long URL (links in SMS). Expired entries
// are deleted by the daily cron job.
type Shortener struct {
	ID        string
	Code      string // unique
	TargetURL string
	ExpiresAt time.Time
	Hits      int64
	CreatedAt time.Time
}

// Validate checks the short URL before it is stored.
func (s *Shortener) Validate() error {
	v := newChecker("esign.Shortener.Validate")
	v.text("code", s.Code, true, 32)
	v.text("target url", s.TargetURL, true, 2048)
	v.that(!s.ExpiresAt.IsZero(), "expiry is required")
	v.that(s.Hits >= 0, "hits must not be negative")
	return v.err()
}

// ShortenerFilter selects short URLs.
type ShortenerFilter struct {
	Code          string
	ExpiredBefore time.Time
	Page
}
