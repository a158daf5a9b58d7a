package esign

import "time"

// Offer is a set of documents the bank offers a customer to sign. Its State
// moves along the table in offerstate.go; every change increments Version,
// and the stores refuse a change made against a stale version (Conflict).
type Offer struct {
	ID             string
	CustomerID     string
	ExternalRef    string // the bank's reference; unique per customer when set
	Title          string
	Description    string
	State          OfferState
	StateReason    string // why it was refused, revoked or expired
	StateChangedAt time.Time
	ExpiresAt      time.Time // required; after it the offer can only expire
	Version        int64     // optimistic concurrency; starts at 1
	CreatedBy      string    // User id of the uploading operator; empty for the webhook API
	// HookData is what the bank's offer_created hook added: a JSON
	// object of strings, empty when none (docs/customization.md).
	HookData string
	// Vetoed says the offer_created hook vetoed the offer: it is stored
	// revoked, never announced and never shown to the customer.
	Vetoed    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks the offer before it is stored.
func (o *Offer) Validate() error {
	v := newChecker("esign.Offer.Validate")
	v.id("customer id", o.CustomerID, true)
	v.text("external reference", o.ExternalRef, false, 128)
	v.text("title", o.Title, true, 256)
	v.text("description", o.Description, false, 4096)
	v.that(o.State == "" || o.State.Valid(), "state has an unknown value")
	v.text("state reason", o.StateReason, false, 1024)
	v.that(len(o.HookData) <= 64<<10, "hook data is longer than 64 KiB")
	v.that(!o.ExpiresAt.IsZero(), "expiry is required")
	v.id("created by", o.CreatedBy, false)
	return v.err()
}

// OfferFilter selects offers; zero fields do not filter. States matches any
// of the listed states. ExpiresBefore selects offers whose expiry is before
// the given time (combine with the non-final States to find expired offers).
type OfferFilter struct {
	ID            string
	CustomerID    string
	ExternalRef   string
	States        []OfferState
	ExpiresBefore time.Time
	CreatedSince  time.Time // inclusive
	CreatedBefore time.Time // exclusive
	HideVetoed    bool      // leave out the offers the bank's hook vetoed (what the customer sees)
	// After continues a list after the row it names (keyset pagination,
	// newest first); Page.Offset should then be 0.
	After Cursor
	Page
}

// Cursor is a position in a list ordered newest first: the creation time
// and id of the last row shown. The zero Cursor is the start of the list.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// IsZero reports whether c is the start of the list.
func (c Cursor) IsZero() bool { return c.ID == "" }

// OfferUpdate changes the non-nil descriptive fields of an offer. State
// changes go through the store's UpdateOfferState, which enforces the
// transition table.
type OfferUpdate struct {
	Title       *string
	Description *string
	ExpiresAt   *time.Time
}

// DocumentKind says what a stored document is.
type DocumentKind string

// The document kinds.
const (
	DocumentOffer    DocumentKind = "offer"    // a PDF offered for signing
	DocumentContract DocumentKind = "contract" // a signed, sealed PDF
	DocumentEvidence DocumentKind = "evidence" // the signature evidence bundle
)

// Document is a stored file (normally a PDF). The bytes live in the document
// store under StorageKey (encrypted when Encrypted); the row keeps the
// metadata needed to serve and verify them.
type Document struct {
	ID          string
	CustomerID  string
	ContractID  string // set when the document belongs to a signed contract
	Kind        DocumentKind
	Name        string // file name shown to the user
	ContentType string
	Size        int64
	SHA256      string // lower-case hex of the plaintext bytes
	StorageKey  string // unique key in the document store
	Encrypted   bool
	ReadAt      time.Time // when the customer marked it as read
	RetainUntil time.Time // zero: keep forever
	DeletedAt   time.Time // bytes deleted by the retention job; the row stays
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Validate checks the document metadata before it is stored.
func (d *Document) Validate() error {
	v := newChecker("esign.Document.Validate")
	v.id("customer id", d.CustomerID, true)
	v.id("contract id", d.ContractID, false)
	oneOf(v, "kind", d.Kind, DocumentOffer, DocumentContract, DocumentEvidence)
	v.text("name", d.Name, true, 256)
	v.text("content type", d.ContentType, true, 128)
	v.that(d.Size >= 0, "size must not be negative")
	v.that(isHexDigest(d.SHA256), "sha256 must be 64 lower-case hex digits")
	v.text("storage key", d.StorageKey, true, 512)
	return v.err()
}

// DocumentFilter selects documents. OfferID selects the documents linked to
// an offer, in their position order. RetainedBefore selects documents whose
// RetainUntil is set and before the time and whose bytes are not deleted yet
// (the retention job's query). Deleted documents are listed only with
// IncludeDeleted.
type DocumentFilter struct {
	ID             string
	CustomerID     string
	ContractID     string
	OfferID        string
	Kind           DocumentKind
	SHA256         string
	RetainedBefore time.Time
	IncludeDeleted bool
	Page
}

// DocumentUpdate changes the non-nil fields of a document.
type DocumentUpdate struct {
	ContractID  *string
	ReadAt      *time.Time
	RetainUntil *time.Time
	DeletedAt   *time.Time
}

// DocumentFile is a new stored version of a document's bytes (archive
// renewal): its storage key, size and SHA-256.
type DocumentFile struct {
	StorageKey string
	Size       int64
	SHA256     string
}

// ContractStatus is the state of a signed contract.
type ContractStatus string

// The contract states.
const (
	ContractActive       ContractStatus = "active"       // signed and sealed, available to the customer
	ContractAcknowledged ContractStatus = "acknowledged" // the app confirmed the download
	ContractRevoked      ContractStatus = "revoked"      // withdrawn by the bank
)

// Contract is the signed outcome of an offer (or a signed contract uploaded
// by the bank's systems). Its documents have ContractID set.
type Contract struct {
	ID             string
	CustomerID     string
	OfferID        string // the offer it came from; unique; empty for uploaded contracts
	ExternalRef    string // unique per customer when set
	Title          string
	Status         ContractStatus
	SignedAt       time.Time
	AcknowledgedAt time.Time
	RetainUntil    time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// SealLevel is the PAdES baseline level of the bank's seal on the
	// contract's documents (B-B, B-T, B-LT, B-LTA: the lowest of them);
	// for an uploaded contract, the level its signature reached; empty
	// when unknown.
	SealLevel string
	// ArchiveRenewedAt is when the archive renewal last appended a
	// document time-stamp to its documents; zero: never.
	ArchiveRenewedAt time.Time
	// ArchiveExpiresAt is when the newest document time-stamp of its
	// documents stops being verifiable (the earliest expiry of its TSA's
	// certificates); zero: not known (not B-LTA, or not read yet).
	ArchiveExpiresAt time.Time
}

// Validate checks the contract before it is stored.
func (c *Contract) Validate() error {
	v := newChecker("esign.Contract.Validate")
	v.id("customer id", c.CustomerID, true)
	v.id("offer id", c.OfferID, false)
	v.text("external reference", c.ExternalRef, false, 128)
	v.text("title", c.Title, true, 256)
	oneOf(v, "status", c.Status, ContractActive, ContractAcknowledged, ContractRevoked)
	if c.SealLevel != "" {
		oneOf(v, "seal level", c.SealLevel, "B-B", "B-T", "B-LT", "B-LTA")
	}
	v.that(!c.SignedAt.IsZero(), "signing time is required")
	return v.err()
}

// ContractFilter selects contracts; they are listed newest first.
type ContractFilter struct {
	ID          string
	CustomerID  string
	OfferID     string
	ExternalRef string
	Status      ContractStatus
	SealLevel   string
	// ArchiveDueBy selects contracts whose ArchiveExpiresAt is before it
	// or not known and that have documents not deleted (archive renewal).
	ArchiveDueBy time.Time
	// After continues a list after the row it names (keyset pagination,
	// newest first); Page.Offset should then be 0.
	After Cursor
	Page
}

// ContractUpdate changes the non-nil fields of a contract.
type ContractUpdate struct {
	Title          *string
	Status         *ContractStatus
	AcknowledgedAt *time.Time
	RetainUntil    *time.Time
	// ArchiveRenewedAt and ArchiveExpiresAt record an archive renewal (or
	// what it found).
	ArchiveRenewedAt *time.Time
	ArchiveExpiresAt *time.Time
}

// Attachment is a supplementary file of an offer or of a contract (exactly
// one of the two), e.g. terms and conditions or the evidence bundle.
type Attachment struct {
	ID          string
	OfferID     string
	ContractID  string
	Name        string
	ContentType string
	Size        int64
	SHA256      string
	StorageKey  string
	CreatedAt   time.Time
}

// Validate checks the attachment before it is stored.
func (a *Attachment) Validate() error {
	v := newChecker("esign.Attachment.Validate")
	v.id("offer id", a.OfferID, false)
	v.id("contract id", a.ContractID, false)
	v.that((a.OfferID == "") != (a.ContractID == ""), "exactly one of offer id and contract id is required")
	v.text("name", a.Name, true, 256)
	v.text("content type", a.ContentType, true, 128)
	v.that(a.Size >= 0, "size must not be negative")
	v.that(isHexDigest(a.SHA256), "sha256 must be 64 lower-case hex digits")
	v.text("storage key", a.StorageKey, true, 512)
	return v.err()
}

// AttachmentFilter selects attachments.
type AttachmentFilter struct {
	OfferID    string
	ContractID string
	Page
}
