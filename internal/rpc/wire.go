// Package rpc exposes the customer and app operations of oss to css over
// the bus: the queues esign:rpc-app, esign:rpc-customer, esign:rpc-offer,
// esign:rpc-contract, esign:rpc-document and esign:rpc-timestamp. Server
// maps each queue's methods onto customers.Service; Client is the typed
// caller css uses. Methods and types are documented in docs/rpc.md.
//
// Every request that needs a caller carries the token the customer's
// client holds (a device token from app.register or a session token from
// customer.login) and is authenticated per call, exactly as the mobile REST
// API does; a customer id sent by css is never trusted.
package rpc

import (
	"time"

	"esign/internal/bus"
)

// Queues names the queues the server serves and the client calls.
// DefaultQueues are the spec's names; tests use unique ones.
type Queues struct {
	App, Customer, Offer, Contract, Document, Timestamp string
	// Signature and SignatureCheck are served when the server has a
	// signer (ServerOptions.Signing) and they are named.
	Signature, SignatureCheck string
}

// DefaultQueues returns the queue names of internal/bus.
func DefaultQueues() Queues {
	return Queues{App: bus.QueueApp, Customer: bus.QueueCustomer, Offer: bus.QueueOffer, Contract: bus.QueueContract,
		Document: bus.QueueDocument, Timestamp: bus.QueueTimestamp, Signature: bus.QueueSignature,
		SignatureCheck: bus.QueueSignatureCheck}
}

// Method names, by queue.
const (
	// esign:rpc-app
	MethodSystemConfig    = "system.config" // oss → css configuration pull
	MethodRegister        = "app.register"
	MethodAssociate       = "app.associate"
	MethodRemoveAccount   = "app.remove-account"
	MethodUpdatePushToken = "app.update-push-token"
	MethodClientError     = "app.client-error"
	// esign:rpc-customer
	MethodCheckUsername = "customer.check-username"
	MethodCheckPassword = "customer.check-password"
	MethodCreate        = "customer.create"
	MethodLogin         = "customer.login"
	MethodLogout        = "customer.logout"
	MethodTwoFactor     = "customer.2f-auth"
	// esign:rpc-offer
	MethodListOffers  = "offer.list"
	MethodGetOffer    = "offer.get"
	MethodRefuseOffer = "offer.refuse"
	// esign:rpc-contract
	MethodListContracts       = "contract.list"
	MethodGetContract         = "contract.get"
	MethodAcknowledgeContract = "contract.acknowledge"
	// esign:rpc-document
	MethodGetDocument  = "document.get"
	MethodMarkDocument = "document.mark-as-read"
	// esign:rpc-timestamp
	MethodTimestamp = "timestamp.create"
)

// MaxInlineDocument is the default size above which document.get refuses
// a whole document (document_too_large), and the most bytes one range of
// document.get returns: its bytes travel base64-encoded inside one bus
// message (4/3 larger), and the bus caps messages at 4 MiB
// (bus.DefaultMaxMessageSize).
const MaxInlineDocument = 2 << 20

// Caller is what every request carries about the end user: the token of
// their app or session, and the address and user agent css saw (recorded
// with activities; not used for authorisation).
type Caller struct {
	Token     string `json:"token,omitempty"`
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
}

// RegisterRequest is the body of app.register (no token).
type RegisterRequest struct {
	Caller
	DeviceID     string `json:"deviceId"`
	OS           string `json:"os"`
	OSVersion    string `json:"osVersion,omitempty"`
	Model        string `json:"model,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	AppVersion   string `json:"appVersion,omitempty"`
	FCMToken     string `json:"fcmToken,omitempty"`
}

// Registered is the answer to app.register.
type Registered struct {
	AppID       string `json:"appId"`
	DeviceToken string `json:"deviceToken"`
}

// AssociateRequest is the body of app.associate (device token).
type AssociateRequest struct {
	Caller
	Phone string `json:"phone"`
	Code  string `json:"code"`
}

// Associated is the answer to app.associate.
type Associated struct {
	HasCredentials bool   `json:"hasCredentials"`
	CustomerStatus string `json:"customerStatus"`
}

// PushTokenRequest is the body of app.update-push-token (device token).
type PushTokenRequest struct {
	Caller
	FCMToken string `json:"fcmToken"`
}

// ClientErrorRequest is the body of app.client-error (device token).
type ClientErrorRequest struct {
	Caller
	Message string `json:"message"`
	Stack   string `json:"stack,omitempty"`
	URL     string `json:"url,omitempty"`
}

// CheckRequest is the body of customer.check-username (Value is the
// username) and customer.check-password (Value is the password); both take
// a device token.
type CheckRequest struct {
	Caller
	Value string `json:"value"`
}

// CredentialsRequest is the body of customer.create and customer.login
// (device token).
type CredentialsRequest struct {
	Caller
	Username string `json:"username"`
	Password string `json:"password"`
}

// Customer is the customer as the login answer shows it.
type Customer struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Status   string `json:"status"`
	Approved bool   `json:"approved"`
}

// LoggedIn is the answer to customer.login.
type LoggedIn struct {
	SessionToken       string    `json:"sessionToken"`
	ExpiresAt          time.Time `json:"expiresAt"`
	IdleTimeoutSeconds int64     `json:"idleTimeoutSeconds"`
	Customer           Customer  `json:"customer"`
}

// TwoFactorRequest is the body of customer.2f-auth (session token).
type TwoFactorRequest struct {
	Caller
	SignatureID string `json:"signatureId"`
	Username    string `json:"username"`
	Password    string `json:"password"`
	SMSToken    string `json:"smsToken"`
}

// ListRequest is the body of offer.list and contract.list (session token).
type ListRequest struct {
	Caller
	Limit  int `json:"limit,omitempty"`
	Offset int `json:"offset,omitempty"`
}

// IDRequest is the body of the methods on one object (session token).
type IDRequest struct {
	Caller
	ID string `json:"id"`
}

// RefuseRequest is the body of offer.refuse (session token).
type RefuseRequest struct {
	Caller
	ID     string `json:"id"`
	Reason string `json:"reason,omitempty"`
}

// Document is a document's metadata.
type Document struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	ContentType string    `json:"contentType"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	ReadAt      time.Time `json:"readAt,omitzero"`
	// ReadToEndAt is when the customer read the offer's document to the
	// end in the customer UI's viewer (document.read-to-end; offer.get
	// only).
	ReadToEndAt time.Time `json:"readToEndAt,omitzero"`
}

// DocumentRequest is the body of document.get (session token). Without
// length the whole document is returned (refused over the server's inline
// cap); with length, at most length bytes (and at most the cap) from
// offset: a range at or past the end is empty. Continued marks a later range
// of a download already recorded: the document.downloaded activity is
// written only for requests without it.
type DocumentRequest struct {
	Caller
	ID        string `json:"id"`
	Offset    int64  `json:"offset,omitempty"`
	Length    int64  `json:"length,omitempty"`
	Continued bool   `json:"continued,omitempty"`
}

// DocumentContent is the answer to document.get: the metadata (Size and
// SHA256 of the whole document) and the bytes (base64 in JSON) from Offset.
type DocumentContent struct {
	Document
	Offset  int64  `json:"offset,omitempty"`
	Content []byte `json:"content"`
}

// Offer is an offer, with its documents when fetched alone.
type Offer struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	State       string     `json:"state"`
	StateReason string     `json:"stateReason,omitempty"`
	ExpiresAt   time.Time  `json:"expiresAt"`
	CreatedAt   time.Time  `json:"createdAt"`
	Documents   []Document `json:"documents,omitempty"`
}

// Offers is the answer to offer.list.
type Offers struct {
	Offers []Offer `json:"offers"`
}

// Contract is a contract, with its documents when fetched alone.
type Contract struct {
	ID             string     `json:"id"`
	OfferID        string     `json:"offerId,omitempty"`
	Title          string     `json:"title"`
	Status         string     `json:"status"`
	SignedAt       time.Time  `json:"signedAt"`
	AcknowledgedAt time.Time  `json:"acknowledgedAt,omitzero"`
	Documents      []Document `json:"documents,omitempty"`
}

// Contracts is the answer to contract.list.
type Contracts struct {
	Contracts []Contract `json:"contracts"`
}

// TimestampRequest is the body of timestamp.create (device or session
// token).
type TimestampRequest struct {
	Caller
	Digest        []byte `json:"digest"` // base64 in JSON
	HashAlgorithm string `json:"hashAlgorithm"`
	DataSize      int64  `json:"dataSize"`
}

// Stamp is the answer to timestamp.create.
type Stamp struct {
	Token        []byte    `json:"token"` // DER TimeStampToken, base64 in JSON
	GenTime      time.Time `json:"genTime"`
	SerialNumber string    `json:"serialNumber"`
}

// OK is the answer of the methods that return nothing else.
type OK struct {
	OK bool `json:"ok"`
}
