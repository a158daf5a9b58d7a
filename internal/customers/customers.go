// Package customers is the domain service behind the mobile-app REST API
// (and, later, the customer RPC queues): app registration and association,
// customer credentials, login sessions, one-time SMS codes, password
// lockout, operator approval and the access checks that let a customer
// reach only their own offers, contracts and documents.
//
// It works on *sqlstore.DB; notifications go through the job queue in the
// same transaction as the change (outbox). Sessions live in a SessionStore:
// Redis in production, the database in the embedded deployment.
package customers

import (
	"context"
	"crypto"
	"database/sql"
	"io"
	"time"

	"esign/customize"
	"esign/internal/esign"
	"esign/internal/jobs"
	"esign/internal/notify"
	"esign/internal/sqlstore"
	"esign/internal/tsa"
)

// Enqueuer puts a notification into the job queue inside the caller's
// transaction (*jobs.Queue).
type Enqueuer interface {
	Enqueue(ctx context.Context, tx *sql.Tx, n jobs.Notification) (int64, error)
}

// Timestamper obtains RFC 3161 tokens (*tsa.Client).
type Timestamper interface {
	Timestamp(ctx context.Context, digest []byte, h crypto.Hash) (*tsa.Token, error)
}

// Documents opens stored document bytes (*docstore.Store).
type Documents interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// OpenSection reads the n bytes at off (fewer at the end) without
	// decrypting what comes before, and tells the document's size.
	OpenSection(ctx context.Context, key string, off, n int64) (io.ReadCloser, int64, error)
}

// Config holds the policies of the service. Zero fields take the defaults
// of DefaultConfig.
type Config struct {
	SessionIdle time.Duration // a session unused this long expires
	SessionMax  time.Duration // a session expires this long after login, used or not
	// SessionCacheTTL is how long AuthenticateSessionCached may answer a
	// session from memory (at most MaxSessionCacheTTL); 0: the default,
	// DefaultSessionCacheTTL; negative: never.
	SessionCacheTTL time.Duration

	CodeTTL          time.Duration // validity of an SMS code (≤ 5 min)
	CodeMaxAttempts  int           // wrong codes that kill a challenge
	CodeSendsPerHour int           // codes of one purpose sent to one customer (signing codes: for one signature) per hour
	SMSPerNumber     notify.Limit  // codes sent to one phone number
	SMSGlobal        notify.Limit  // codes sent by the whole system

	LockoutThreshold int           // consecutive password failures that lock the account
	LockoutDuration  time.Duration // how long the lock lasts
	LoginPerApp      notify.Limit  // credential checks from one app installation
	RegisterPerIP    notify.Limit  // app registrations from one client address
	TimestampPerApp  notify.Limit  // /api/timestamp requests from one app installation

	ClientErrorsPerApp notify.Limit // client error reports from one app installation (or one customer's web sessions)
	ClientErrorsPerDay notify.Limit // client error reports stored by the whole system

	// ParallelWebSessions lets a customer's new web sign-in leave their
	// other web sessions alive; false (the default) ends them: one web
	// session per customer (mobile.web_sessions).
	ParallelWebSessions bool

	// LinkLifetime bounds the life of a fresh short link (RenewLink); 0:
	// it expires with the offer (mobile.link_lifetime).
	LinkLifetime time.Duration
	// LinkRenewals limits the fresh links sent for one offer.
	LinkRenewals notify.Limit

	// CodeKey keys the hash under which SMS codes are stored (≥ 32 bytes).
	CodeKey []byte
	Now     func() time.Time
}

// DefaultConfig returns the documented policy (docs/mobile-api.md).
func DefaultConfig() Config {
	return Config{
		SessionIdle:      15 * time.Minute,
		SessionMax:       12 * time.Hour,
		SessionCacheTTL:  DefaultSessionCacheTTL,
		CodeTTL:          5 * time.Minute,
		CodeMaxAttempts:  5,
		CodeSendsPerHour: 5,
		SMSPerNumber:     notify.Limit{N: 10, Per: time.Hour},
		SMSGlobal:        notify.Limit{N: 600, Per: time.Minute},
		LockoutThreshold: 10,
		LockoutDuration:  30 * time.Minute,
		LoginPerApp:      notify.Limit{N: 30, Per: 10 * time.Minute},
		RegisterPerIP:    notify.Limit{N: 60, Per: 10 * time.Minute},
		TimestampPerApp:  notify.Limit{N: 120, Per: 10 * time.Minute},

		ClientErrorsPerApp: notify.Limit{N: 30, Per: 10 * time.Minute},
		ClientErrorsPerDay: notify.Limit{N: 10000, Per: 24 * time.Hour},
		LinkRenewals:       notify.Limit{N: 3, Per: 24 * time.Hour},
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.SessionIdle <= 0 {
		c.SessionIdle = d.SessionIdle
	}
	if c.SessionMax <= 0 {
		c.SessionMax = d.SessionMax
	}
	if c.SessionCacheTTL == 0 {
		c.SessionCacheTTL = d.SessionCacheTTL
	}
	if c.CodeTTL <= 0 || c.CodeTTL > 5*time.Minute {
		c.CodeTTL = d.CodeTTL
	}
	if c.CodeMaxAttempts <= 0 {
		c.CodeMaxAttempts = d.CodeMaxAttempts
	}
	if c.CodeSendsPerHour <= 0 {
		c.CodeSendsPerHour = d.CodeSendsPerHour
	}
	if c.SMSPerNumber.N == 0 {
		c.SMSPerNumber = d.SMSPerNumber
	}
	if c.SMSGlobal.N == 0 {
		c.SMSGlobal = d.SMSGlobal
	}
	if c.LockoutThreshold <= 0 {
		c.LockoutThreshold = d.LockoutThreshold
	}
	if c.LockoutDuration <= 0 {
		c.LockoutDuration = d.LockoutDuration
	}
	if c.LoginPerApp.N == 0 {
		c.LoginPerApp = d.LoginPerApp
	}
	if c.RegisterPerIP.N == 0 {
		c.RegisterPerIP = d.RegisterPerIP
	}
	if c.TimestampPerApp.N == 0 {
		c.TimestampPerApp = d.TimestampPerApp
	}
	if c.ClientErrorsPerApp.N == 0 {
		c.ClientErrorsPerApp = d.ClientErrorsPerApp
	}
	if c.ClientErrorsPerDay.N == 0 {
		c.ClientErrorsPerDay = d.ClientErrorsPerDay
	}
	if c.LinkRenewals.N == 0 {
		c.LinkRenewals = d.LinkRenewals
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Deps are the collaborators of the service. Queue, Sessions, Limiter and
// CodeKey are required; TSA and Docs only for the endpoints that use them.
type Deps struct {
	DB       *sqlstore.DB
	Queue    Enqueuer
	Sessions SessionStore
	Limiter  notify.Limiter
	TSA      Timestamper
	Docs     Documents
	Events   Events  // optional: events out to the bank's systems
	Geo      Locator // optional: the place of client addresses (nil: "unknown")
	// Approved, optional, is told of an approval inside its transaction
	// (offers.Held: the offer notifications held for it are sent).
	Approved Approvals
	// Hooks, optional, are the bank's customer_registered and offer_ended
	// hooks (*hooks.Runner; docs/customization.md).
	Hooks Hooks
	// Revocations, optional, is the process's count of session revocations,
	// shared by all its services so that a revocation through one ends the
	// sessions another has cached (nil: the service counts its own).
	Revocations *Revocations
}

// Hooks runs the bank's hooks: before an approval (its veto holds the
// customer pending) and after a refusal.
type Hooks interface {
	CustomerRegistered(ctx context.Context, p customize.CustomerRegistered) customize.Answer
	OfferEnded(ctx context.Context, p customize.OfferEnded)
}

// Approvals hears of a customer's approval inside the transaction that
// makes it.
type Approvals interface {
	Release(ctx context.Context, tx *sqlstore.Tx, c *esign.Customer) error
}

// Locator names the place of a client address: "City, CC", "CC" or
// "unknown" (*geo.Locator, on the MaxMind DB file of geo.mmdb_path).
type Locator interface {
	Locate(ip string) string
}

// Events hears of the customer's changes to offers and contracts inside the
// transaction that makes them (offers.Emitter: events to the bank's
// callback URLs).
type Events interface {
	OfferChanged(ctx context.Context, tx *sqlstore.Tx, o *esign.Offer) error
	ContractChanged(ctx context.Context, tx *sqlstore.Tx, c *esign.Contract) error
}

// noEvents is the Events of a service without a listener.
type noEvents struct{}

func (noEvents) OfferChanged(context.Context, *sqlstore.Tx, *esign.Offer) error       { return nil }
func (noEvents) ContractChanged(context.Context, *sqlstore.Tx, *esign.Contract) error { return nil }

// Service implements the customer and app operations.
type Service struct {
	db       *sqlstore.DB
	queue    Enqueuer
	sessions SessionStore
	limiter  notify.Limiter
	tsa      Timestamper
	docs     Documents
	events   Events
	geo      Locator
	approved Approvals
	hooks    Hooks
	cfg      Config
	cache    *sessionCache // nil: AuthenticateSessionCached reads every time
}

// New returns the service. Errors: Invalid (a required dependency or the
// code key is missing).
func New(d Deps, cfg Config) (*Service, error) {
	const op = "customers.New"
	if d.DB == nil || d.Queue == nil || d.Sessions == nil || d.Limiter == nil {
		return nil, esign.E(op, esign.Invalid, "database, queue, session store and limiter are required")
	}
	if len(cfg.CodeKey) < 32 {
		return nil, esign.E(op, esign.Invalid, "the code key must have at least 32 bytes")
	}
	events := d.Events
	if events == nil {
		events = noEvents{}
	}
	cfg = cfg.withDefaults()
	revoked := d.Revocations
	if revoked == nil {
		revoked = new(Revocations)
	}
	return &Service{db: d.DB, queue: d.Queue, sessions: revokingSessions{d.Sessions, revoked}, limiter: d.Limiter, tsa: d.TSA, docs: d.Docs,
		events: events, geo: d.Geo, approved: d.Approved, hooks: d.Hooks, cfg: cfg, cache: newSessionCache(cfg.SessionCacheTTL, revoked)}, nil
}

func (s *Service) now() time.Time { return esign.Timestamp(s.cfg.Now()) }

// Meta is what the transport knows about a request, recorded with
// activities. It carries no secrets.
type Meta struct {
	IP        string
	UserAgent string
	Location  string // where IP is (Service.Meta); empty: "unknown" when there is an IP
}

// Meta returns the request's metadata with the place of the client
// address (Deps.Geo; "unknown" without a database or a match — never a
// guess).
func (s *Service) Meta(ip, userAgent string) Meta {
	m := Meta{IP: ip, UserAgent: userAgent}
	if ip != "" && s.geo != nil {
		m.Location = s.geo.Locate(ip)
	}
	return m
}

// customerAudit is a security event of the customer for the audit log
// (the customer's own activity list is separate).
func customerAudit(customerID, action string, m Meta) *esign.AuditLog {
	ip := m.IP
	if len(ip) > 64 {
		ip = ip[:64]
	}
	return &esign.AuditLog{ActorType: "customer", ActorID: customerID, Action: action, ObjectType: "customer",
		ObjectID: customerID, IP: ip}
}

func activity(customerID, offerID, kind, detail string, m Meta) *esign.Activity {
	ua := m.UserAgent
	if len(ua) > 512 {
		ua = ua[:512]
	}
	ip := m.IP
	if len(ip) > 64 {
		ip = ip[:64]
	}
	loc := m.Location
	if loc == "" && ip != "" {
		loc = "unknown"
	}
	if len(loc) > 128 {
		loc = loc[:128]
	}
	return &esign.Activity{CustomerID: customerID, OfferID: offerID, Kind: kind, Detail: detail, IP: ip, UserAgent: ua, Location: loc}
}

// allow applies a rate limit; TooMany when it is exhausted.
func (s *Service) allow(ctx context.Context, op, key string, l notify.Limit) error {
	if l.Unlimited() {
		return nil
	}
	d, err := s.limiter.Allow(ctx, key, l)
	if err != nil {
		return esign.E(op, esign.Unavailable, "rate limiter unavailable", err)
	}
	if !d.Allowed {
		return &esign.Error{Op: op, Kind: esign.TooMany, Code: "rate_limited", Msg: "too many requests, try again later",
			RetryAfter: d.RetryAfter}
	}
	return nil
}
