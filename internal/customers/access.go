package customers

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"esign/customize"
	"esign/internal/esign"
	"esign/internal/sqlstore"
)

// visibleOfferStates are the offer states a customer sees: an offer in
// state created has not been announced yet.
var visibleOfferStates = []esign.OfferState{esign.OfferNotified, esign.OfferOpened, esign.OfferSigning,
	esign.OfferSigned, esign.OfferRefused, esign.OfferRevoked, esign.OfferExpired}

func offerVisible(o *esign.Offer) bool {
	if o.Vetoed {
		return false // the bank's hook vetoed it: it was never announced
	}
	for _, s := range visibleOfferStates {
		if o.State == s {
			return true
		}
	}
	return false
}

func notFound(op, noun string) error { return esign.E(op, esign.NotFound, noun+" not found") }

// ListOffers lists the customer's offers, newest first. A customer who is
// not approved yet has none.
func (s *Service) ListOffers(ctx context.Context, p *Principal, page esign.Page) ([]*esign.Offer, error) {
	const op = "customers.ListOffers"
	if !p.Approved() {
		return nil, nil
	}
	os, err := s.db.ListOffers(ctx, esign.OfferFilter{CustomerID: p.Customer.ID, States: visibleOfferStates, HideVetoed: true,
		Page: page})
	if err != nil {
		return nil, esign.E(op, err)
	}
	return os, nil
}

// OfferView is an offer with its documents.
type OfferView struct {
	Offer     *esign.Offer
	Documents []*esign.Document
	// ReadToEnd is when the customer read each document to the end in
	// the customer UI's viewer, by document id (ActivityReadToEnd).
	ReadToEnd map[string]time.Time
}

// ownOffer returns the customer's visible offer; any other id is NotFound.
func (s *Service) ownOffer(ctx context.Context, op string, p *Principal, id string) (*esign.Offer, error) {
	if !p.Approved() {
		return nil, notFound(op, "offer")
	}
	o, err := s.db.GetOffer(ctx, id)
	if esign.IsKind(err, esign.NotFound) || (err == nil && (o.CustomerID != p.Customer.ID || !offerVisible(o))) {
		return nil, notFound(op, "offer")
	}
	if err != nil {
		return nil, esign.E(op, err)
	}
	return o, nil
}

// GetOffer returns the customer's offer with its documents. Opening a
// notified offer moves it to opened. Errors: NotFound.
func (s *Service) GetOffer(ctx context.Context, p *Principal, id string, m Meta) (*OfferView, error) {
	return s.getOffer(ctx, "customers.GetOffer", p, id, m, true)
}

// OpenOffer is GetOffer without OfferView.ReadToEnd (the customer UI's
// viewer records it; the app has no use for it): the offer and its
// documents are one read.
func (s *Service) OpenOffer(ctx context.Context, p *Principal, id string, m Meta) (*OfferView, error) {
	return s.getOffer(ctx, "customers.OpenOffer", p, id, m, false)
}

func (s *Service) getOffer(ctx context.Context, op string, p *Principal, id string, m Meta, readToEnd bool) (*OfferView, error) {
	if !p.Approved() {
		return nil, notFound(op, "offer")
	}
	o, docs, err := s.db.GetOfferWithDocuments(ctx, id)
	if esign.IsKind(err, esign.NotFound) || (err == nil && (o.CustomerID != p.Customer.ID || !offerVisible(o))) {
		return nil, notFound(op, "offer")
	}
	if err != nil {
		return nil, esign.E(op, err)
	}
	if o.State == esign.OfferNotified {
		err := s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
			u, err := tx.UpdateOfferState(ctx, o.ID, o.Version, esign.OfferOpened, "")
			if err != nil {
				return err
			}
			o = u
			return tx.CreateActivity(ctx, activity(p.Customer.ID, o.ID, "offer.opened", "", m))
		})
		if err != nil && !esign.IsKind(err, esign.Conflict) { // a concurrent open already did it
			return nil, esign.E(op, err)
		}
	}
	v := &OfferView{Offer: o, Documents: docs}
	if readToEnd {
		if v.ReadToEnd, err = ReadToEnd(ctx, s.db, p.Customer.ID, o.ID); err != nil {
			return nil, esign.E(op, err)
		}
	}
	return v, nil
}

// RefuseOffer refuses the customer's offer. Errors: NotFound, Invalid
// (offer_state: the offer cannot be refused in its state), Conflict.
func (s *Service) RefuseOffer(ctx context.Context, p *Principal, id, reason string, m Meta) (*esign.Offer, error) {
	const op = "customers.RefuseOffer"
	if len(reason) > 1024 {
		return nil, esign.WithCode(op, esign.Invalid, "too_long", "the reason must have at most 1024 characters")
	}
	o, err := s.ownOffer(ctx, op, p, id)
	if err != nil {
		return nil, err
	}
	if err := o.State.CheckTransition(op, esign.OfferRefused); err != nil {
		return nil, err
	}
	if !s.now().Before(o.ExpiresAt) {
		return nil, esign.WithCode(op, esign.Invalid, "offer_state", "the offer has expired")
	}
	var out *esign.Offer
	err = s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		var err error
		if out, err = tx.UpdateOfferState(ctx, o.ID, o.Version, esign.OfferRefused, reason); err != nil {
			return err
		}
		if err := s.events.OfferChanged(ctx, tx, out); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]string{"reason": reason})
		return tx.CreateActivity(ctx, activity(p.Customer.ID, o.ID, "offer.refused", string(detail), m))
	})
	if err != nil {
		return nil, esign.E(op, err)
	}
	if s.hooks != nil {
		s.hooks.OfferEnded(ctx, customize.OfferEnded{OfferID: out.ID, CustomerID: out.CustomerID, ExternalRef: out.ExternalRef,
			Title: out.Title, State: string(out.State), Reason: out.StateReason})
	}
	return out, nil
}

// ListContracts lists the customer's contracts, newest first; none before
// approval.
func (s *Service) ListContracts(ctx context.Context, p *Principal, page esign.Page) ([]*esign.Contract, error) {
	const op = "customers.ListContracts"
	if !p.Approved() {
		return nil, nil
	}
	cs, err := s.db.ListContracts(ctx, esign.ContractFilter{CustomerID: p.Customer.ID, Page: page})
	if err != nil {
		return nil, esign.E(op, err)
	}
	out := cs[:0]
	for _, c := range cs {
		if c.Status != esign.ContractRevoked {
			out = append(out, c)
		}
	}
	return out, nil
}

// ContractView is a contract with its documents.
type ContractView struct {
	Contract  *esign.Contract
	Documents []*esign.Document
}

// ownContract reports whether the customer may see the contract.
func ownContract(p *Principal, c *esign.Contract) bool {
	return c.CustomerID == p.Customer.ID && c.Status != esign.ContractRevoked
}

func (s *Service) ownContract(ctx context.Context, op string, p *Principal, id string) (*esign.Contract, error) {
	if !p.Approved() {
		return nil, notFound(op, "contract")
	}
	c, err := s.db.GetContract(ctx, id)
	if esign.IsKind(err, esign.NotFound) || (err == nil && !ownContract(p, c)) {
		return nil, notFound(op, "contract")
	}
	if err != nil {
		return nil, esign.E(op, err)
	}
	return c, nil
}

// GetContract returns the customer's contract with its documents. Errors:
// NotFound.
func (s *Service) GetContract(ctx context.Context, p *Principal, id string) (*ContractView, error) {
	const op = "customers.GetContract"
	if !p.Approved() {
		return nil, notFound(op, "contract")
	}
	c, docs, err := s.db.GetContractWithDocuments(ctx, id)
	if esign.IsKind(err, esign.NotFound) || (err == nil && !ownContract(p, c)) {
		return nil, notFound(op, "contract")
	}
	if err != nil {
		return nil, esign.E(op, err)
	}
	return &ContractView{Contract: c, Documents: docs}, nil
}

// AcknowledgeContract records that the app downloaded the contract; it is
// idempotent. Errors: NotFound.
func (s *Service) AcknowledgeContract(ctx context.Context, p *Principal, id string, m Meta) (*esign.Contract, error) {
	const op = "customers.AcknowledgeContract"
	if !p.Approved() {
		return nil, notFound(op, "contract")
	}
	// One conditional UPDATE is both the access check and the change; only
	// when it changes nothing is the contract read, to tell an earlier
	// acknowledgement (idempotent) from someone else's or a revoked one.
	var c *esign.Contract
	err := s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		var err error
		if c, err = tx.AcknowledgeContract(ctx, id, p.Customer.ID, s.now()); err != nil {
			return err
		}
		if err := s.events.ContractChanged(ctx, tx, c); err != nil {
			return err
		}
		return tx.CreateActivity(ctx, activity(p.Customer.ID, c.OfferID, "contract.acknowledged", `{"contract_id":"`+c.ID+`"}`, m))
	})
	if esign.IsKind(err, esign.NotFound) {
		c, err := s.ownContract(ctx, op, p, id)
		if err != nil {
			return nil, err
		}
		if c.Status == esign.ContractAcknowledged {
			return c, nil
		}
		return nil, esign.E(op, esign.Conflict, "the contract changed while it was acknowledged")
	}
	if err != nil {
		return nil, esign.E(op, err)
	}
	return c, nil
}

// ownDocument returns the customer's document if it belongs to a visible
// offer or contract of theirs and its bytes still exist: one read that
// carries the check.
func (s *Service) ownDocument(ctx context.Context, op string, p *Principal, id string) (*esign.Document, error) {
	if !p.Approved() {
		return nil, notFound(op, "document")
	}
	d, err := s.db.GetCustomerDocument(ctx, id, p.Customer.ID, visibleOfferStates)
	if esign.IsKind(err, esign.NotFound) {
		return nil, notFound(op, "document")
	}
	if err != nil {
		return nil, esign.E(op, err)
	}
	return d, nil
}

// OpenDocument returns the customer's document and a reader of its bytes,
// and records that they downloaded it; the caller closes the reader.
// Errors: NotFound.
func (s *Service) OpenDocument(ctx context.Context, p *Principal, id string, m Meta) (*esign.Document, io.ReadCloser, error) {
	const op = "customers.OpenDocument"
	d, err := s.authorizeDocument(ctx, op, p, id, &m)
	if err != nil {
		return nil, nil, err
	}
	r, err := s.docs.Open(ctx, d.StorageKey)
	if err != nil {
		return nil, nil, esign.E(op, err)
	}
	return d, r, nil
}

// OpenDocumentRange is OpenDocument for the n bytes at off (fewer at the
// end, none past it), with the same authorisation. A nil m records
// nothing: a later range of a download already recorded. Errors: NotFound,
// Internal (the stored document's size differs from its record).
func (s *Service) OpenDocumentRange(ctx context.Context, p *Principal, id string, off, n int64, m *Meta) (*esign.Document, io.ReadCloser, error) {
	const op = "customers.OpenDocumentRange"
	if off < 0 || n < 0 {
		return nil, nil, esign.E(op, esign.Invalid, "negative offset or length")
	}
	d, err := s.authorizeDocument(ctx, op, p, id, m)
	if err != nil {
		return nil, nil, err
	}
	off = min(off, d.Size)
	n = min(n, d.Size-off)
	r, size, err := s.docs.OpenSection(ctx, d.StorageKey, off, n)
	if err != nil {
		return nil, nil, esign.E(op, err)
	}
	if size != d.Size {
		r.Close()
		return nil, nil, esign.E(op, esign.Internal, fmt.Sprintf("the stored document has %d bytes, its record says %d", size, d.Size))
	}
	return d, r, nil
}

// authorizeDocument returns the customer's document (ownDocument) when the
// store is configured; a non-nil m records the download.
func (s *Service) authorizeDocument(ctx context.Context, op string, p *Principal, id string, m *Meta) (*esign.Document, error) {
	if s.docs == nil {
		return nil, esign.E(op, esign.Unavailable, "the document store is not configured")
	}
	d, err := s.ownDocument(ctx, op, p, id)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return d, nil
	}
	if err := s.db.CreateActivity(ctx, activity(p.Customer.ID, "", "document.downloaded", `{"document_id":"`+d.ID+`"}`, *m)); err != nil {
		return nil, esign.E(op, err)
	}
	return d, nil
}

// MarkDocumentRead records that the customer read the document (the first
// time counts). Errors: NotFound.
func (s *Service) MarkDocumentRead(ctx context.Context, p *Principal, id string, m Meta) (*esign.Document, error) {
	const op = "customers.MarkDocumentRead"
	d, err := s.ownDocument(ctx, op, p, id)
	if err != nil {
		return nil, err
	}
	if !d.ReadAt.IsZero() {
		return d, nil
	}
	err = s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		now := s.now()
		if d, err = tx.UpdateDocument(ctx, d.ID, esign.DocumentUpdate{ReadAt: &now}); err != nil {
			return err
		}
		return tx.CreateActivity(ctx, activity(p.Customer.ID, "", "document.read", `{"document_id":"`+d.ID+`"}`, m))
	})
	if err != nil {
		return nil, esign.E(op, err)
	}
	return d, nil
}

// hashAlgorithms are the digests /api/timestamp accepts.
var hashAlgorithms = map[string]crypto.Hash{"SHA-256": crypto.SHA256, "SHA-384": crypto.SHA384, "SHA-512": crypto.SHA512}

// Stamp is a time-stamp token.
type Stamp struct {
	Token   []byte // DER TimeStampToken
	GenTime time.Time
	Serial  string
}

// MaxTimestampDataSize bounds the declared size of time-stamped data.
const MaxTimestampDataSize = 1 << 40

// Timestamp obtains an RFC 3161 token over a digest the app computed and
// records it. Errors: Invalid (unknown_algorithm, digest_length,
// data_size), Unavailable, Timeout.
func (s *Service) Timestamp(ctx context.Context, app *esign.App, digest []byte, alg string, dataSize int64) (*Stamp, error) {
	const op = "customers.Timestamp"
	h, ok := hashAlgorithms[alg]
	if !ok {
		return nil, esign.WithCode(op, esign.Invalid, "unknown_algorithm", "hashAlgorithm must be SHA-256, SHA-384 or SHA-512")
	}
	if len(digest) != h.Size() {
		return nil, esign.WithCode(op, esign.Invalid, "digest_length", "the digest length does not match the algorithm")
	}
	if dataSize < 0 || dataSize > MaxTimestampDataSize {
		return nil, esign.WithCode(op, esign.Invalid, "data_size", "dataSize is out of range")
	}
	if s.tsa == nil {
		return nil, esign.E(op, esign.Unavailable, "the time-stamping authority is not configured")
	}
	if err := s.allow(ctx, op, "timestamp:app:"+app.ID, s.cfg.TimestampPerApp); err != nil {
		return nil, err
	}
	tok, err := s.tsa.Timestamp(ctx, digest, h)
	if err != nil {
		return nil, esign.E(op, err)
	}
	serial := ""
	if tok.Info.SerialNumber != nil {
		serial = tok.Info.SerialNumber.String()
	}
	rec := &esign.TimestampToken{Purpose: esign.TimestampAPI, HashAlgorithm: h.String(), MessageImprint: digest, Token: tok.DER,
		GenTime: tok.Info.GenTime, SerialNumber: serial}
	if err := s.db.CreateTimestampToken(ctx, rec); err != nil {
		return nil, esign.E(op, err)
	}
	return &Stamp{Token: tok.DER, GenTime: tok.Info.GenTime, Serial: serial}, nil
}
