package esign

import "time"

// Page bounds a list query. A zero Limit means the store's default (100);
// larger limits are capped at 1000. Lists are ordered by creation time,
// oldest first, unless the method says otherwise.
type Page struct {
	Limit  int
	Offset int
}

// CustomerStatus is the registration state of a customer.
type CustomerStatus string

// The customer states.
const (
	CustomerPending CustomerStatus = "pending" // registered, waiting for operator approval
	CustomerActive  CustomerStatus = "active"  // approved, may sign
	CustomerBlocked CustomerStatus = "blocked" // blocked by an operator
	CustomerDeleted CustomerStatus = "deleted" // account removed; rows kept for the audit trail
)

// Customer is a bank customer who receives offers and signs them.
type Customer struct {
	ID           string
	ExternalRef  string // the bank's customer number; unique
	Name         string
	Email        string
	Phone        string // E.164, used for SMS one-time codes
	Username     string // chosen at account creation; unique when set
	PasswordHash string // Argon2id PHC string; never logged
	Status       CustomerStatus
	Locale       string // BCP 47, e.g. "hu-HU"
	ApprovedAt   time.Time
	ApprovedBy   string // User id of the approving operator
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Validate checks the customer before it is stored.
func (c *Customer) Validate() error {
	v := newChecker("esign.Customer.Validate")
	v.text("external reference", c.ExternalRef, true, 128)
	v.text("name", c.Name, true, 256)
	v.text("email", c.Email, false, 320)
	v.text("phone", c.Phone, false, 32)
	v.that(c.Phone == "" || validPhone(c.Phone), "phone must be in E.164 form (+36201234567)")
	v.text("username", c.Username, false, 64)
	v.text("locale", c.Locale, false, 35)
	oneOf(v, "status", c.Status, CustomerPending, CustomerActive, CustomerBlocked, CustomerDeleted)
	v.id("approved by", c.ApprovedBy, false)
	return v.err()
}

func validPhone(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// CustomerFilter selects customers; zero fields do not filter.
type CustomerFilter struct {
	ID          string
	ExternalRef string
	Username    string
	Status      CustomerStatus
	Page
}

// CustomerUpdate changes the non-nil fields of a customer.
type CustomerUpdate struct {
	Name         *string
	Email        *string
	Phone        *string
	Username     *string
	PasswordHash *string
	Status       *CustomerStatus
	Locale       *string
	ApprovedAt   *time.Time
	ApprovedBy   *string
}

// CustomerData is a free key/value attribute of a customer (e.g. data the
// bank's systems pushed with the bootstrap call). Keys are unique per customer.
type CustomerData struct {
	ID         string
	CustomerID string
	Key        string
	Value      string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Validate checks the attribute before it is stored.
func (d *CustomerData) Validate() error {
	v := newChecker("esign.CustomerData.Validate")
	v.id("customer id", d.CustomerID, true)
	v.text("key", d.Key, true, 128)
	v.text("value", d.Value, false, 1<<16)
	return v.err()
}

// CustomerDataFilter selects customer attributes.
type CustomerDataFilter struct {
	CustomerID string
	Key        string
	Page
}

// Activity is one entry of a customer's activity history (login, offer
// opened, document read, signature attempt, …).
type Activity struct {
	ID         string
	CustomerID string
	OfferID    string // optional
	Kind       string // e.g. "login", "offer.opened"
	Detail     string // JSON or text, no secrets
	IP         string
	UserAgent  string
	Location   string // "City, CC", "CC" or "unknown" (geo.mmdb_path); empty without a client address
	CreatedAt  time.Time
}

// Validate checks the activity before it is stored.
func (a *Activity) Validate() error {
	v := newChecker("esign.Activity.Validate")
	v.id("customer id", a.CustomerID, true)
	v.id("offer id", a.OfferID, false)
	v.text("kind", a.Kind, true, 64)
	v.text("detail", a.Detail, false, 1<<16)
	v.text("ip", a.IP, false, 64)
	v.text("user agent", a.UserAgent, false, 512)
	v.text("location", a.Location, false, 128)
	return v.err()
}

// ActivityFilter selects activities; they are listed newest first.
type ActivityFilter struct {
	CustomerID string
	OfferID    string
	Kind       string
	Page
}

// TokenPurpose says what a verification token proves.
type TokenPurpose string

// The verification token purposes.
const (
	TokenAssociation   TokenPurpose = "association"    // SMS code that associates a device with a customer
	TokenTwoFactor     TokenPurpose = "two_factor"     // SMS code of the signing 2FA
	TokenPasswordReset TokenPurpose = "password_reset" // password reset code
)

// VerificationToken is a one-time code sent to a customer. Only its hash is
// stored; the code itself travels by SMS only.
type VerificationToken struct {
	ID          string
	CustomerID  string
	AppID       string // optional: the device the code was requested from
	SignatureID string // optional: the signature a 2FA code belongs to
	Purpose     TokenPurpose
	TokenHash   string // hex SHA-256 (or keyed hash) of the code
	Attempts    int    // failed attempts so far
	ExpiresAt   time.Time
	UsedAt      time.Time
	CreatedAt   time.Time
}

// Validate checks the token before it is stored.
func (t *VerificationToken) Validate() error {
	v := newChecker("esign.VerificationToken.Validate")
	v.id("customer id", t.CustomerID, true)
	v.id("app id", t.AppID, false)
	v.id("signature id", t.SignatureID, false)
	oneOf(v, "purpose", t.Purpose, TokenAssociation, TokenTwoFactor, TokenPasswordReset)
	v.text("token hash", t.TokenHash, true, 128)
	v.that(!t.ExpiresAt.IsZero(), "expiry is required")
	v.that(t.Attempts >= 0, "attempts must not be negative")
	return v.err()
}

// VerificationTokenFilter selects tokens. With UsableAt set only tokens that
// are unused and not expired at that time are listed.
type VerificationTokenFilter struct {
	CustomerID  string
	SignatureID string
	Purpose     TokenPurpose
	TokenHash   string
	UsableAt    time.Time
	Page
}

// VerificationTokenUpdate changes the non-nil fields of a token.
type VerificationTokenUpdate struct {
	Attempts *int
	UsedAt   *time.Time
}
