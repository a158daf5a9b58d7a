// Package notify holds what the platform tells people: the message kinds, their
// templates in Hungarian and English, the masking of personal data for logs,
// per-recipient rate limits, and the messages handed to the senders in its
// subpackages (smsapi, smtp, fcm, inbox).
//
// Nothing here sends inside a database transaction: package jobs enqueues a
// notification in the caller's transaction and a worker renders and sends it
// after commit.
package notify

import (
	"errors"
	"fmt"
	"strings"

	"esign/internal/esign"
)

// Kind names what a message is about. The value is stored in job arguments and
// logs, so existing values never change.
type Kind string

// The message kinds.
const (
	OfferAvailable        Kind = "offer_available"         // a new offer waits for the customer
	TwoFactorCode         Kind = "twofa_code"              // the one-time code that authorises a signature
	DeviceAssociationCode Kind = "device_association_code" // the code that links a device to the customer
	AccountCode           Kind = "account_code"            // the code that proves the phone when an account is made in the browser
	RegistrationApproved  Kind = "registration_approved"   // the operator approved the registration
	ContractReady         Kind = "contract_ready"          // the signed contract can be downloaded
	OfferRevoked          Kind = "offer_revoked"           // the operator withdrew the offer
	OfferExpired          Kind = "offer_expired"           // the offer ran past its deadline unsigned
	BankMessage           Kind = "bank_message"            // a message the bank's systems send (webhook /app/notification)
)

// Kinds lists every kind, in a fixed order.
func Kinds() []Kind {
	return []Kind{OfferAvailable, TwoFactorCode, DeviceAssociationCode, AccountCode, RegistrationApproved, ContractReady, OfferRevoked, OfferExpired, BankMessage}
}

// Valid reports whether k is one of the known kinds.
func (k Kind) Valid() bool {
	for _, x := range Kinds() {
		if k == x {
			return true
		}
	}
	return false
}

// HasCode reports whether messages of this kind carry a secret code, which
// must be masked wherever the message is logged.
func (k Kind) HasCode() bool {
	return k == TwoFactorCode || k == DeviceAssociationCode || k == AccountCode
}

// Lang is a message language.
type Lang string

// The shipped languages. Hungarian is the default. A bank adds others with
// template overrides (see Overrides).
const (
	Hungarian Lang = "hu"
	English   Lang = "en"
)

// Langs lists the shipped languages.
func Langs() []Lang { return []Lang{Hungarian, English} }

// ParseLang maps a language tag ("hu", "en-GB", "HU", "de-AT") to its
// primary language subtag ("de"); anything that is not a language tag is
// Hungarian. A language without templates is rendered in Hungarian (see
// Renderer.Render).
func ParseLang(s string) Lang {
	s = strings.ToLower(strings.TrimSpace(s))
	base, _, _ := strings.Cut(strings.ReplaceAll(s, "_", "-"), "-")
	if validLang(base) {
		return Lang(base)
	}
	return Hungarian
}

// Channel is the way a message travels.
type Channel string

// The channels.
const (
	SMS   Channel = "sms"
	Email Channel = "email"
	Push  Channel = "push"
)

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { return c == SMS || c == Email || c == Push }

// SMSMessage is a rendered text message to one phone number.
type SMSMessage struct {
	To   string // E.164 phone number, e.g. +36301234567
	Text string
	// Key identifies this message across retries. Providers that support it
	// (SmsApi.com's idx with check_idx) refuse a second message with the
	// same key, which turns a retry after a crash into a no-op.
	Key string
}

// EmailMessage is a rendered e-mail to one address. The sender's address is
// configured on the sender.
type EmailMessage struct {
	To      string // address
	ToName  string // display name, optional
	Subject string
	Text    string // text/plain body
	HTML    string // text/html body, optional
	Key     string // becomes the Message-ID, so that a retried mail can be recognised
}

// PushMessage is a rendered push notification to one device token.
type PushMessage struct {
	Token string
	Title string
	Body  string
	Data  map[string]string
	Key   string
}

// Receipt is what a provider answered for an accepted message.
type Receipt struct {
	Provider string // "smsapi", "smtp", "fcm", "inbox"
	ID       string // the provider's message id
}

// Permanent reports whether err means that sending the same message again
// cannot succeed (invalid recipient, bad credentials, no credit): the message
// is given up and recorded as failed. Everything else (provider down, rate
// limited, timeout, unclassified) is temporary and retried with backoff.
func Permanent(err error) bool {
	if err == nil {
		return false
	}
	var e *esign.Error
	if !errors.As(err, &e) {
		return false
	}
	switch esign.ErrorKind(err) {
	case esign.Invalid, esign.Unauthorized, esign.Forbidden, esign.NotFound, esign.Conflict:
		return true
	}
	return false
}

// ProviderError builds the error a sender returns for a provider's refusal:
// kind classifies it (see Permanent), code is the provider's own code
// ("smsapi_13", "fcm_UNREGISTERED") and msg a short description.
func ProviderError(op string, kind esign.Kind, code, msg string, cause error) error {
	return &esign.Error{Op: op, Kind: kind, Code: code, Msg: msg, Err: cause}
}

// Unavailable wraps a transport failure (connection refused, reset, bad
// gateway) as a temporary error.
func Unavailable(op, what string, err error) error {
	return &esign.Error{Op: op, Kind: esign.Unavailable, Msg: what, Err: fmt.Errorf("%s: %w", what, err)}
}
