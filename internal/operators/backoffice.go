package operators

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"time"

	"esign/internal/esign"
	"esign/internal/notify/inbox"
	"esign/internal/sqlstore"
)

// Dashboard is what the operators' start page shows.
type Dashboard struct {
	Offers           map[esign.OfferState]int
	SignedToday      int
	PendingCustomers int // registrations waiting for approval (up to 1000 counted)
	FailedDeliveries int // events to the bank's callback URLs that gave up (up to 1000 counted)
	Certs            []CertStatus
	HasInbox         bool
}

// CertStatus is a certificate of the bank and how soon it expires.
type CertStatus struct {
	ID          string
	Name        string
	Subject     string
	Issuer      string
	Fingerprint string // SHA-256 of the certificate, hex
	KeySource   string // where the key lives: p12, pkcs11 or csc (docs/key-custody.md)
	KeyRef      string // the key's reference there; empty for p12
	Active      bool
	NotBefore   time.Time
	NotAfter    time.Time
	DaysLeft    int
	Warning     bool // expires within CertWarning, or has expired
	Expired     bool
}

// CertWarning is how long before its expiry a certificate is flagged.
const CertWarning = 30 * 24 * time.Hour

// Dashboard counts the offers by state and the signed ones since the start
// of today (UTC), and lists the failures and expiries an operator should
// act on.
func (s *Service) Dashboard(ctx context.Context) (*Dashboard, error) {
	const op = "operators.Dashboard"
	now := s.now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	counts, err := s.d.DB.CountOffers(ctx, today)
	if err != nil {
		return nil, esign.E(op, err)
	}
	d := &Dashboard{Offers: counts.ByState, SignedToday: counts.SignedSince, HasInbox: s.d.Inbox != nil}
	pending, err := s.d.DB.ListCustomers(ctx, esign.CustomerFilter{Status: esign.CustomerPending, Page: esign.Page{Limit: 1000}})
	if err != nil {
		return nil, esign.E(op, err)
	}
	d.PendingCustomers = len(pending)
	failed, err := s.d.DB.ListEventDeliveries(ctx, sqlstore.EventDeliveryFilter{Status: "failed", Page: esign.Page{Limit: 1000}})
	if err != nil {
		return nil, esign.E(op, err)
	}
	d.FailedDeliveries = len(failed)
	certs, err := s.d.DB.ListCerts(ctx, esign.CertFilter{})
	if err != nil {
		return nil, esign.E(op, err)
	}
	for _, c := range certs {
		d.Certs = append(d.Certs, certStatus(c, now))
	}
	return d, nil
}

// OfferQuery selects the offers of the list page. Zero fields do not
// filter; CustomerRef and Reference match exactly (both indexed), so the
// list stays fast however many offers there are.
type OfferQuery struct {
	CustomerRef string // the customer's external reference
	Reference   string // the offer's external reference
	State       esign.OfferState
	From, To    time.Time // creation date range, To exclusive
	After       esign.Cursor
	Limit       int // default 25, at most 100
}

// OfferRow is one line of the offer list.
type OfferRow struct {
	Offer    *esign.Offer
	Customer *esign.Customer // nil when not found
}

// OfferPage is one page of the offer list and where the next begins.
type OfferPage struct {
	Rows []OfferRow
	Next esign.Cursor // zero on the last page
}

// ListOffers lists offers newest first with keyset pagination. Errors:
// Invalid (unknown state).
func (s *Service) ListOffers(ctx context.Context, q OfferQuery) (*OfferPage, error) {
	const op = "operators.ListOffers"
	limit := pageLimit(q.Limit)
	f := esign.OfferFilter{ExternalRef: q.Reference, CreatedSince: q.From, CreatedBefore: q.To, After: q.After,
		Page: esign.Page{Limit: limit + 1}}
	if q.State != "" {
		if !q.State.Valid() {
			return nil, esign.WithCode(op, esign.Invalid, "state", "unknown offer state")
		}
		f.States = []esign.OfferState{q.State}
	}
	if q.CustomerRef != "" {
		id, err := s.customerIDByRef(ctx, q.CustomerRef)
		if err != nil {
			return nil, esign.E(op, err)
		}
		if id == "" {
			return &OfferPage{}, nil
		}
		f.CustomerID = id
	}
	offers, err := s.d.DB.ListOffers(ctx, f)
	if err != nil {
		return nil, esign.E(op, err)
	}
	page := &OfferPage{}
	if len(offers) > limit {
		offers = offers[:limit]
		last := offers[limit-1]
		page.Next = esign.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	customers := customerCache{s: s}
	for _, o := range offers {
		c, err := customers.get(ctx, o.CustomerID)
		if err != nil {
			return nil, esign.E(op, err)
		}
		page.Rows = append(page.Rows, OfferRow{Offer: o, Customer: c})
	}
	return page, nil
}

// pageLimit is a list page's size: default 25, at most 100.
func pageLimit(limit int) int {
	if limit <= 0 {
		return 25
	}
	return min(limit, 100)
}

// customerIDByRef is the id of the customer with the external reference,
// "" when there is none.
func (s *Service) customerIDByRef(ctx context.Context, ref string) (string, error) {
	cs, err := s.d.DB.ListCustomers(ctx, esign.CustomerFilter{ExternalRef: ref, Page: esign.Page{Limit: 1}})
	if err != nil || len(cs) == 0 {
		return "", err
	}
	return cs[0].ID, nil
}

// OfferDetail is everything the offer page shows.
type OfferDetail struct {
	Offer      *esign.Offer
	Customer   *esign.Customer
	Documents  []*esign.Document
	Activities []*esign.Activity // oldest first: the timeline
	Signatures []SignatureDetail
	Contract   *esign.Contract // nil until sealed
	// ContractDocuments are the sealed contract's documents.
	ContractDocuments []*esign.Document
}

// SignatureDetail is a signature attempt with its verdict and timestamps.
type SignatureDetail struct {
	Signature  *esign.Signature
	Validation *esign.SignatureValidation // nil before verification
	Checks     []Check                    // the verification's checks, in the order they ran
	Timestamps []*esign.TimestampToken
}

// Check is one check of an M2 verification (the validation's report).
type Check struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
}

// Offer returns the offer with its customer, documents, timeline,
// signature evidence and contract. Errors: NotFound.
func (s *Service) Offer(ctx context.Context, id string) (*OfferDetail, error) {
	const op = "operators.Offer"
	if !esign.ValidID(id) {
		return nil, esign.E(op, esign.NotFound, "offer not found")
	}
	o, err := s.d.DB.GetOffer(ctx, id)
	if err != nil {
		return nil, esign.E(op, err)
	}
	d := &OfferDetail{Offer: o}
	if d.Customer, err = s.d.DB.GetCustomer(ctx, o.CustomerID); err != nil {
		return nil, esign.E(op, err)
	}
	if d.Documents, err = s.d.DB.ListDocuments(ctx, esign.DocumentFilter{OfferID: o.ID, IncludeDeleted: true}); err != nil {
		return nil, esign.E(op, err)
	}
	acts, err := s.d.DB.ListActivities(ctx, esign.ActivityFilter{OfferID: o.ID, Page: esign.Page{Limit: 500}})
	if err != nil {
		return nil, esign.E(op, err)
	}
	for i := len(acts) - 1; i >= 0; i-- {
		d.Activities = append(d.Activities, acts[i])
	}
	sigs, err := s.d.DB.ListSignatures(ctx, esign.SignatureFilter{OfferID: o.ID})
	if err != nil {
		return nil, esign.E(op, err)
	}
	for _, g := range sigs {
		sd := SignatureDetail{Signature: g}
		v, err := s.d.DB.GetSignatureValidation(ctx, g.ID)
		switch {
		case err == nil:
			sd.Validation = v
			if v.Report != "" {
				// A report this version cannot read shows no checks;
				// the verdict and reason above still stand.
				_ = json.Unmarshal([]byte(v.Report), &sd.Checks)
			}
		case !esign.IsKind(err, esign.NotFound):
			return nil, esign.E(op, err)
		}
		if sd.Timestamps, err = s.d.DB.ListTimestampTokens(ctx, esign.TimestampTokenFilter{SignatureID: g.ID}); err != nil {
			return nil, esign.E(op, err)
		}
		d.Signatures = append(d.Signatures, sd)
	}
	cs, err := s.d.DB.ListContracts(ctx, esign.ContractFilter{OfferID: o.ID, Page: esign.Page{Limit: 1}})
	if err != nil {
		return nil, esign.E(op, err)
	}
	if len(cs) == 1 {
		d.Contract = cs[0]
		if d.ContractDocuments, err = s.d.DB.ListDocuments(ctx, esign.DocumentFilter{ContractID: d.Contract.ID}); err != nil {
			return nil, esign.E(op, err)
		}
	}
	return d, nil
}

// OpenDocument opens a document of the offer (or of its contract) for
// download. Errors: NotFound (no such document on this offer, or its bytes
// were deleted by retention).
func (s *Service) OpenDocument(ctx context.Context, offerID, documentID string) (*esign.Document, io.ReadCloser, error) {
	const op = "operators.OpenDocument"
	d, err := s.Offer(ctx, offerID)
	if err != nil {
		return nil, nil, err
	}
	return s.open(ctx, op, append(slices.Clip(d.Documents), d.ContractDocuments...), documentID)
}

// CustomerQuery selects customers for the list page.
type CustomerQuery struct {
	Status esign.CustomerStatus
	Ref    string // exact external reference
	Page   esign.Page
}

// ListCustomers lists customers, newest first. Errors: Invalid (unknown
// status).
func (s *Service) ListCustomers(ctx context.Context, q CustomerQuery) ([]*esign.Customer, error) {
	const op = "operators.ListCustomers"
	switch q.Status {
	case "", esign.CustomerPending, esign.CustomerActive, esign.CustomerBlocked, esign.CustomerDeleted:
	default:
		return nil, esign.WithCode(op, esign.Invalid, "status", "unknown customer status")
	}
	cs, err := s.d.DB.ListCustomers(ctx, esign.CustomerFilter{Status: q.Status, ExternalRef: q.Ref, Page: q.Page})
	if err != nil {
		return nil, esign.E(op, err)
	}
	return cs, nil
}

// ApproveCustomer approves a pending registration (the customer gets the
// push the onboarding promises) and records who did it. Errors: NotFound,
// Conflict (not_pending), Unavailable (no customer service).
func (s *Service) ApproveCustomer(ctx context.Context, p *Principal, customerID string) (*esign.Customer, error) {
	const op = "operators.ApproveCustomer"
	cs, err := s.customerActions(op)
	if err != nil {
		return nil, err
	}
	if !esign.ValidID(customerID) {
		return nil, esign.E(op, esign.NotFound, "customer not found")
	}
	c, err := cs.Approve(ctx, customerID, p.User.ID)
	if err != nil {
		return nil, esign.E(op, err)
	}
	return c, nil
}

// HasInbox reports whether the deployment keeps a development inbox.
func (s *Service) HasInbox() bool { return s.d.Inbox != nil }

// Inbox lists the development inbox's messages, newest first. Errors:
// NotFound (the deployment sends real messages).
func (s *Service) Inbox(ctx context.Context, f inbox.Filter) ([]inbox.Message, error) {
	if s.d.Inbox == nil {
		return nil, esign.E("operators.Inbox", esign.NotFound, "this deployment has no development inbox")
	}
	return s.d.Inbox.ListInboxMessages(ctx, f)
}

// DocumentName is the name of the offer's document an activity's detail
// names ({"document_id": …}), "" when it names none of them: the timeline
// shows which document was read.
func (d *OfferDetail) DocumentName(activityDetail string) string {
	var v struct {
		DocumentID string `json:"document_id"`
	}
	if json.Unmarshal([]byte(activityDetail), &v) != nil || v.DocumentID == "" {
		return ""
	}
	for _, doc := range d.Documents {
		if doc.ID == v.DocumentID {
			return doc.Name
		}
	}
	return ""
}
