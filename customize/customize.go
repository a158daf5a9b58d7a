// Package customize is the Go API a bank uses to attach its own rules to
// esign when it builds its own binary (docs/customization.md, "Hooks"):
// make a Registry, register functions for the moments it cares about, and
// pass the registry to esigncmd.Main. The same moments can be attached
// without rebuilding, as HTTPS callouts named in the configuration
// (hooks.*); a moment may have both, in-process functions first.
//
// Hooks see only what the payload types below hold: identifiers, names,
// titles and document hashes, never a password, token, SMS code or key.
// The package imports only the standard library.
package customize

import (
	"context"
	"time"
)

// Hook names: the configuration keys (hooks.<name>_url) and the
// X-Esign-Hook header of callouts.
const (
	OfferCreatedHook       = "offer_created"
	CustomerRegisteredHook = "customer_registered"
	SignatureVerifiedHook  = "signature_verified"
	ContractSealedHook     = "contract_sealed"
	OfferEndedHook         = "offer_ended"
)

// Document names one PDF by its name, size and SHA-256 (hex); hooks never
// get the bytes.
type Document struct {
	Name   string `json:"name"`
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256"`
}

// OfferCreated is an offer the bank's systems or an operator uploaded,
// stored but not yet announced to the customer.
type OfferCreated struct {
	OfferID     string     `json:"offer_id"`
	CustomerID  string     `json:"customer_id"`
	CustomerRef string     `json:"customer_ref"`
	ExternalRef string     `json:"external_ref,omitempty"`
	Title       string     `json:"title"`
	Description string     `json:"description,omitempty"`
	ExpiresAt   time.Time  `json:"expires_at"`
	Channel     string     `json:"channel,omitempty"`
	Documents   []Document `json:"documents"`
}

// CustomerRegistered is a customer whose registration is about to be
// approved (by an operator or the webhook API).
type CustomerRegistered struct {
	CustomerID  string `json:"customer_id"`
	CustomerRef string `json:"customer_ref"`
	Name        string `json:"name"`
	Username    string `json:"username,omitempty"`
	Locale      string `json:"locale,omitempty"`
	ApprovedBy  string `json:"approved_by,omitempty"` // operator user id; empty: the webhook API
}

// SignatureVerified is a customer's signature that passed every check,
// before the bank's seal.
type SignatureVerified struct {
	SignatureID           string     `json:"signature_id"`
	OfferID               string     `json:"offer_id"`
	ContractID            string     `json:"contract_id"`
	CustomerID            string     `json:"customer_id"`
	ExternalRef           string     `json:"external_ref,omitempty"`
	Title                 string     `json:"title"`
	Username              string     `json:"username"`
	CustomerSignatureHash string     `json:"customer_signature_hash"`
	OfferData             string     `json:"offer_data,omitempty"` // what the offer_created hook added (JSON object)
	Documents             []Document `json:"documents"`
}

// ContractSealed is a contract sealed and stored (after the fact).
type ContractSealed struct {
	ContractID  string     `json:"contract_id"`
	OfferID     string     `json:"offer_id"`
	CustomerID  string     `json:"customer_id"`
	ExternalRef string     `json:"external_ref,omitempty"`
	Title       string     `json:"title"`
	SealLevel   string     `json:"seal_level"`
	OfferData   string     `json:"offer_data,omitempty"`
	Documents   []Document `json:"documents"`
}

// OfferEnded is an offer the customer refused or that expired (after the
// fact).
type OfferEnded struct {
	OfferID     string `json:"offer_id"`
	CustomerID  string `json:"customer_id"`
	ExternalRef string `json:"external_ref,omitempty"`
	Title       string `json:"title"`
	State       string `json:"state"` // refused or expired
	Reason      string `json:"reason,omitempty"`
}

// Answer is what a hook before a change returns. The zero Answer lets the
// change go on unchanged.
type Answer struct {
	// Veto stops the change; Reason says why, to the operator (at most
	// 1024 characters). offer_created and customer_registered only.
	Veto   bool   `json:"veto,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Data is added to the offer (offer_created only): at most 32 string
	// entries, shown to operators and passed to the later hooks.
	Data map[string]string `json:"data,omitempty"`
	// PDFMetadata is added to every sealed document of the contract, in
	// the seal's own update (signature_verified only): at most 32 entries
	// under names of the bank's own, never one esign writes.
	PDFMetadata map[string]string `json:"pdf_metadata,omitempty"`
}

// The functions of each moment. An error is a failure of the hook: its
// policy (hooks.<name>_policy) decides whether the change goes on.
type (
	OfferCreatedFunc       func(ctx context.Context, p OfferCreated) (Answer, error)
	CustomerRegisteredFunc func(ctx context.Context, p CustomerRegistered) (Answer, error)
	SignatureVerifiedFunc  func(ctx context.Context, p SignatureVerified) (Answer, error)
	ContractSealedFunc     func(ctx context.Context, p ContractSealed) error
	OfferEndedFunc         func(ctx context.Context, p OfferEnded) error
)

// Registry holds a binary's in-process hooks. The zero Registry holds
// none; a nil *Registry is valid and holds none. Register before passing
// it to esigncmd.Main; it is read-only afterwards.
type Registry struct {
	OfferCreated       []OfferCreatedFunc
	CustomerRegistered []CustomerRegisteredFunc
	SignatureVerified  []SignatureVerifiedFunc
	ContractSealed     []ContractSealedFunc
	OfferEnded         []OfferEndedFunc
}

// RegisterOfferCreated adds f, run before an offer's notification; its
// answer may veto the offer or add data.
func (r *Registry) RegisterOfferCreated(f OfferCreatedFunc) {
	r.OfferCreated = append(r.OfferCreated, f)
}

// RegisterCustomerRegistered adds f, run before a registration's
// approval; its answer may veto (the customer stays pending).
func (r *Registry) RegisterCustomerRegistered(f CustomerRegisteredFunc) {
	r.CustomerRegistered = append(r.CustomerRegistered, f)
}

// RegisterSignatureVerified adds f, run before the seal; its answer may
// add PDF metadata.
func (r *Registry) RegisterSignatureVerified(f SignatureVerifiedFunc) {
	r.SignatureVerified = append(r.SignatureVerified, f)
}

// RegisterContractSealed adds f, told of every sealed contract.
func (r *Registry) RegisterContractSealed(f ContractSealedFunc) {
	r.ContractSealed = append(r.ContractSealed, f)
}

// RegisterOfferEnded adds f, told of every refused or expired offer.
func (r *Registry) RegisterOfferEnded(f OfferEndedFunc) {
	r.OfferEnded = append(r.OfferEnded, f)
}
