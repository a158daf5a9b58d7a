package esign

import "time"

// UserStatus is the state of an operator account.
type UserStatus string

// The operator account states.
const (
	UserActive   UserStatus = "active"
	UserDisabled UserStatus = "disabled"
)

// User is an operator of the admin UI. What a user may do follows from the
// roles assigned to it (Role, Permission).
type User struct {
	ID           string
	Username     string // unique
	Email        string // unique when set
	Name         string
	PasswordHash string // Argon2id PHC string; never logged
	Status       UserStatus
	LastLoginAt  time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Validate checks the user before it is stored.
func (u *User) Validate() error {
	v := newChecker("esign.User.Validate")
	v.text("username", u.Username, true, 64)
	v.text("email", u.Email, false, 320)
	v.text("name", u.Name, false, 256)
	v.text("password hash", u.PasswordHash, true, 512)
	oneOf(v, "status", u.Status, UserActive, UserDisabled)
	return v.err()
}

// UserFilter selects users.
type UserFilter struct {
	Username string
	Status   UserStatus
	RoleName string
	Page
}

// UserUpdate changes the non-nil fields of a user.
type UserUpdate struct {
	Email        *string
	Name         *string
	PasswordHash *string
	Status       *UserStatus
	LastLoginAt  *time.Time
}

// The roles seeded by the first migration.
const (
	RoleAdmin    = "admin"    // everything
	RoleOperator = "operator" // day-to-day work on customers, offers and contracts
	RoleAuditor  = "auditor"  // read-only, including the audit log
)

// The permissions seeded by the migrations. Permission names are
// "<object>.<action>".
const (
	PermCustomerRead    = "customer.read"
	PermCustomerWrite   = "customer.write"
	PermCustomerApprove = "customer.approve"
	PermOfferRead       = "offer.read"
	PermOfferWrite      = "offer.write"
	PermContractRead    = "contract.read"
	PermContractWrite   = "contract.write"
	PermSignatureVerify = "signature.verify"
	PermUserManage      = "user.manage"
	PermCertManage      = "cert.manage"
	PermSettingManage   = "setting.manage"
	PermAuditRead       = "audit.read"
	PermLogRead         = "log.read"
	PermInboxRead       = "inbox.read"
	PermProcessRead     = "process.read"
	PermProcessManage   = "process.manage" // added by migration 00007
)

// Role is a named set of permissions.
type Role struct {
	ID          string
	Name        string // unique
	Description string
	CreatedAt   time.Time
}

// Validate checks the role before it is stored.
func (r *Role) Validate() error {
	v := newChecker("esign.Role.Validate")
	v.text("name", r.Name, true, 64)
	v.text("description", r.Description, false, 512)
	return v.err()
}

// Permission is the right to do one kind of thing in the admin UI.
type Permission struct {
	ID          string
	Name        string // unique, "<object>.<action>"
	Description string
	CreatedAt   time.Time
}

// Validate checks the permission before it is stored.
func (p *Permission) Validate() error {
	v := newChecker("esign.Permission.Validate")
	v.text("name", p.Name, true, 64)
	v.text("description", p.Description, false, 512)
	return v.err()
}

// SessionSubject says who a session belongs to.
type SessionSubject string

// The session subjects.
const (
	SessionUser     SessionSubject = "user"     // an operator in the admin UI
	SessionCustomer SessionSubject = "customer" // a customer in the web UI
	SessionApp      SessionSubject = "app"      // a mobile app
)

// Session is a login session. Only the hash of its token is stored.
type Session struct {
	ID          string
	TokenHash   string // unique
	SubjectType SessionSubject
	SubjectID   string
	Data        string // JSON; no secrets
	IP          string
	UserAgent   string
	ExpiresAt   time.Time
	LastSeenAt  time.Time
	CreatedAt   time.Time
}

// Validate checks the session before it is stored.
func (s *Session) Validate() error {
	v := newChecker("esign.Session.Validate")
	v.text("token hash", s.TokenHash, true, 128)
	oneOf(v, "subject type", s.SubjectType, SessionUser, SessionCustomer, SessionApp)
	v.id("subject id", s.SubjectID, true)
	v.text("data", s.Data, false, 1<<16)
	v.text("ip", s.IP, false, 64)
	v.text("user agent", s.UserAgent, false, 512)
	v.that(!s.ExpiresAt.IsZero(), "expiry is required")
	return v.err()
}

// SessionFilter selects sessions.
type SessionFilter struct {
	TokenHash   string
	SubjectType SessionSubject
	SubjectID   string
	Page
}

// SessionUpdate changes the non-nil fields of a session.
type SessionUpdate struct {
	Data       *string
	ExpiresAt  *time.Time
	LastSeenAt *time.Time
}

// AuditLog is one entry of the append-only audit trail: who did what to
// which object. Entries are never updated or deleted.
type AuditLog struct {
	ID         string
	ActorType  string // "user", "customer", "app", "api", "system"
	ActorID    string
	Action     string // e.g. "offer.revoke"
	ObjectType string
	ObjectID   string
	Detail     string // JSON; no secrets
	IP         string
	RequestID  string
	CreatedAt  time.Time
	// The hash chain (docs/evidence.md), set by the store when it appends
	// the entry: Seq is its place (from 1; 0 for an entry from before the
	// chain), PrevHash the hash of entry Seq-1 (the genesis hash for 1),
	// Hash its own (hex SHA-256 of the encoding ChainVersion names).
	Seq          int64
	PrevHash     string
	Hash         string
	ChainVersion int
}

// AuditAnchor is an RFC 3161 time-stamp token over the audit chain's head:
// the token's message imprint is the SHA-256 value HeadHash, the hash of
// entry Seq.
type AuditAnchor struct {
	ID        string
	Seq       int64
	HeadHash  string
	Token     []byte // DER
	GenTime   time.Time
	TSAName   string
	Reason    string // "schedule", "shutdown" or "manual"
	CreatedAt time.Time
}

// Validate checks the anchor before it is stored.
func (a *AuditAnchor) Validate() error {
	v := newChecker("esign.AuditAnchor.Validate")
	oneOf(v, "reason", a.Reason, "schedule", "shutdown", "manual")
	v.text("head hash", a.HeadHash, true, 64)
	v.text("tsa name", a.TSAName, false, 1024)
	if len(a.Token) == 0 {
		v.that(false, "token is required")
	}
	return v.err()
}

// Validate checks the entry before it is stored.
func (a *AuditLog) Validate() error {
	v := newChecker("esign.AuditLog.Validate")
	oneOf(v, "actor type", a.ActorType, "user", "customer", "app", "api", "system")
	v.text("actor id", a.ActorID, false, 64)
	v.text("action", a.Action, true, 64)
	v.text("object type", a.ObjectType, false, 64)
	v.text("object id", a.ObjectID, false, 64)
	v.text("detail", a.Detail, false, 1<<16)
	v.text("ip", a.IP, false, 64)
	v.text("request id", a.RequestID, false, 64)
	return v.err()
}

// AuditLogFilter selects audit entries; they are listed newest first.
type AuditLogFilter struct {
	ActorType  string
	ActorID    string
	Action     string
	ObjectType string
	ObjectID   string
	Since      time.Time // inclusive
	Until      time.Time // exclusive
	Page
}

// Setting is one runtime setting changed in the admin UI (webhook endpoint
// switches, branding, …). Secret values are stored encrypted by the caller.
type Setting struct {
	ID        string
	Key       string // unique
	Value     string
	UpdatedBy string // User id; optional
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks the setting before it is stored.
func (s *Setting) Validate() error {
	v := newChecker("esign.Setting.Validate")
	v.text("key", s.Key, true, 128)
	v.text("value", s.Value, false, 1<<16)
	v.id("updated by", s.UpdatedBy, false)
	return v.err()
}

// SettingFilter selects settings; they are listed by key.
type SettingFilter struct {
	KeyPrefix string
	Page
}

// Cert is an uploaded signing certificate of the bank (.p12). The PKCS#12
// file and its password are stored as AES-256-GCM envelopes made by the
// caller; the store never sees them in clear. At most one cert is active.
type Cert struct {
	ID                string
	Name              string
	Subject           string
	Issuer            string
	SerialNumber      string // hex
	FingerprintSHA256 string // hex of the leaf DER; unique
	NotBefore         time.Time
	NotAfter          time.Time
	ChainPEM          string // leaf first
	PKCS12Enc         []byte // encrypted .p12; empty unless KeySource is "p12"
	PasswordEnc       []byte // encrypted .p12 password; empty unless KeySource is "p12"
	// KeySource is where the private key lives: "p12" (PKCS12Enc, the
	// default), "pkcs11" or "csc" (internal/signer); KeyRef names the key
	// there (empty for p12).
	KeySource string
	KeyRef    string
	Active    bool
	CreatedBy string // User id; optional
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks the certificate record before it is stored.
func (c *Cert) Validate() error {
	v := newChecker("esign.Cert.Validate")
	v.text("name", c.Name, true, 128)
	v.text("subject", c.Subject, true, 1024)
	v.text("issuer", c.Issuer, true, 1024)
	v.text("serial number", c.SerialNumber, true, 128)
	v.that(isHexDigest(c.FingerprintSHA256), "fingerprint must be 64 lower-case hex digits")
	v.that(!c.NotBefore.IsZero() && c.NotAfter.After(c.NotBefore), "validity period is invalid")
	v.text("chain", c.ChainPEM, true, 1<<20)
	switch c.KeySource {
	case "", "p12":
		v.that(len(c.PKCS12Enc) > 0, "encrypted PKCS#12 is required")
		v.that(len(c.PasswordEnc) > 0, "encrypted password is required")
		v.that(c.KeyRef == "", "a .p12 key has no key reference")
	case "pkcs11", "csc":
		v.text("key reference", c.KeyRef, true, 1024)
		v.that(len(c.PKCS12Enc) == 0 && len(c.PasswordEnc) == 0, "a key outside the database has no .p12")
	default:
		v.that(false, "key source must be p12, pkcs11 or csc")
	}
	v.id("created by", c.CreatedBy, false)
	return v.err()
}

// CertFilter selects certificates.
type CertFilter struct {
	Active            *bool
	FingerprintSHA256 string
	Page
}

// CertUpdate changes the non-nil fields of a certificate. Activating goes
// through the store's ActivateCert, which deactivates the others.
type CertUpdate struct {
	Name *string
}
