package operators

import (
	"context"
	"io"

	"esign/internal/esign"
	"esign/internal/offers"
	"esign/internal/pades"
)

// OfferActions are the operations on offers the operators share with the
// bank's webhook API (*offers.Service): one implementation of an upload,
// a revocation and a verification.
type OfferActions interface {
	UploadOffer(ctx context.Context, u offers.Upload) (*esign.Offer, []*esign.Document, error)
	RevokeOffer(ctx context.Context, customerRef, offerID, reason string) (*esign.Offer, error)
	ResendOffer(ctx context.Context, offerID string) (int, error)
	Verify(ctx context.Context, f offers.File) (*pades.Report, error)
	BootstrapCustomer(ctx context.Context, n offers.NewCustomer) (*esign.Customer, error)
}

func (s *Service) offerActions(op string) (OfferActions, error) {
	if s.d.Offers == nil {
		return nil, esign.E(op, esign.Unavailable, "offer service unavailable")
	}
	return s.d.Offers, nil
}

// CreateOffer uploads an offer for the customer (u.CustomerRef) as the
// webhook upload does: the PDFs checked and stored encrypted, the customer
// notified. Errors: those of offers.Service.UploadOffer.
func (s *Service) CreateOffer(ctx context.Context, u offers.Upload) (*esign.Offer, error) {
	const op = "operators.CreateOffer"
	a, err := s.offerActions(op)
	if err != nil {
		return nil, err
	}
	o, _, err := a.UploadOffer(ctx, u)
	if err != nil {
		return nil, esign.E(op, err)
	}
	return o, nil
}

// RevokeOffer withdraws an offer that is not final; the customer is
// notified. Errors: NotFound, Invalid (offer_state: final; reason too
// long), Conflict (changed concurrently).
func (s *Service) RevokeOffer(ctx context.Context, offerID, reason string) (*esign.Offer, error) {
	const op = "operators.RevokeOffer"
	a, err := s.offerActions(op)
	if err != nil {
		return nil, err
	}
	if !esign.ValidID(offerID) {
		return nil, esign.WithCode(op, esign.NotFound, "offer_not_found", "offer not found")
	}
	o, err := s.d.DB.GetOffer(ctx, offerID)
	if err != nil {
		return nil, esign.E(op, err)
	}
	if o.State.Final() {
		return nil, esign.WithCode(op, esign.Invalid, "offer_state", "an offer in state "+string(o.State)+" cannot be revoked")
	}
	c, err := s.d.DB.GetCustomer(ctx, o.CustomerID)
	if err != nil {
		return nil, esign.E(op, err)
	}
	out, err := a.RevokeOffer(ctx, c.ExternalRef, offerID, reason)
	if err != nil {
		return nil, esign.E(op, err)
	}
	return out, nil
}

// ResendOffer sends the "offer available" notification again. Errors:
// those of offers.Service.ResendOffer.
func (s *Service) ResendOffer(ctx context.Context, offerID string) (int, error) {
	const op = "operators.ResendOffer"
	a, err := s.offerActions(op)
	if err != nil {
		return 0, err
	}
	n, err := a.ResendOffer(ctx, offerID)
	if err != nil {
		return 0, esign.E(op, err)
	}
	return n, nil
}

// VerifyPDF verifies the PAdES signatures of a PDF: the report of
// `esign pdf verify`. Errors: Invalid (not a PDF, encrypted).
func (s *Service) VerifyPDF(ctx context.Context, data []byte) (*pades.Report, error) {
	const op = "operators.VerifyPDF"
	a, err := s.offerActions(op)
	if err != nil {
		return nil, err
	}
	rep, err := a.Verify(ctx, offers.File{Name: "upload.pdf", Data: data})
	if err != nil {
		return nil, esign.E(op, err)
	}
	return rep, nil
}

// ContractQuery selects the contracts of the list page. CustomerRef and
// Reference match exactly (both indexed).
type ContractQuery struct {
	CustomerRef string
	Reference   string
	Status      esign.ContractStatus
	After       esign.Cursor
	Limit       int // default 25, at most 100
}

// ContractRow is one line of the contract list.
type ContractRow struct {
	Contract *esign.Contract
	Customer *esign.Customer // nil when not found
}

// ContractPage is one page of the contract list.
type ContractPage struct {
	Rows []ContractRow
	Next esign.Cursor // zero on the last page
}

// ListContracts lists contracts newest first with keyset pagination.
// Errors: Invalid (unknown status).
func (s *Service) ListContracts(ctx context.Context, q ContractQuery) (*ContractPage, error) {
	const op = "operators.ListContracts"
	limit := pageLimit(q.Limit)
	switch q.Status {
	case "", esign.ContractActive, esign.ContractAcknowledged, esign.ContractRevoked:
	default:
		return nil, esign.WithCode(op, esign.Invalid, "status", "unknown contract status")
	}
	f := esign.ContractFilter{ExternalRef: q.Reference, Status: q.Status, After: q.After, Page: esign.Page{Limit: limit + 1}}
	if q.CustomerRef != "" {
		id, err := s.customerIDByRef(ctx, q.CustomerRef)
		if err != nil {
			return nil, esign.E(op, err)
		}
		if id == "" {
			return &ContractPage{}, nil
		}
		f.CustomerID = id
	}
	cs, err := s.d.DB.ListContracts(ctx, f)
	if err != nil {
		return nil, esign.E(op, err)
	}
	page := &ContractPage{}
	if len(cs) > limit {
		cs = cs[:limit]
		page.Next = esign.Cursor{CreatedAt: cs[limit-1].CreatedAt, ID: cs[limit-1].ID}
	}
	customers := customerCache{s: s}
	for _, c := range cs {
		cust, err := customers.get(ctx, c.CustomerID)
		if err != nil {
			return nil, esign.E(op, err)
		}
		page.Rows = append(page.Rows, ContractRow{Contract: c, Customer: cust})
	}
	return page, nil
}

// customerCache reads each customer of a list page once.
type customerCache struct {
	s    *Service
	seen map[string]*esign.Customer
}

// get returns the customer, nil when it does not exist.
func (c *customerCache) get(ctx context.Context, id string) (*esign.Customer, error) {
	if cust, ok := c.seen[id]; ok {
		return cust, nil
	}
	cust, err := c.s.d.DB.GetCustomer(ctx, id)
	if err != nil && !esign.IsKind(err, esign.NotFound) {
		return nil, err
	}
	if c.seen == nil {
		c.seen = map[string]*esign.Customer{}
	}
	c.seen[id] = cust
	return cust, nil
}

// ContractDetail is a contract with its customer and documents.
type ContractDetail struct {
	Contract  *esign.Contract
	Customer  *esign.Customer
	Documents []*esign.Document
}

// Contract returns the contract with its customer and documents. Errors:
// NotFound.
func (s *Service) Contract(ctx context.Context, id string) (*ContractDetail, error) {
	const op = "operators.Contract"
	if !esign.ValidID(id) {
		return nil, esign.E(op, esign.NotFound, "contract not found")
	}
	c, err := s.d.DB.GetContract(ctx, id)
	if err != nil {
		return nil, esign.E(op, err)
	}
	d := &ContractDetail{Contract: c}
	if d.Customer, err = s.d.DB.GetCustomer(ctx, c.CustomerID); err != nil {
		return nil, esign.E(op, err)
	}
	if d.Documents, err = s.d.DB.ListDocuments(ctx, esign.DocumentFilter{ContractID: c.ID}); err != nil {
		return nil, esign.E(op, err)
	}
	return d, nil
}

// OpenContractDocument opens a document of the contract. Errors: NotFound
// (no such document of this contract, or deleted by retention).
func (s *Service) OpenContractDocument(ctx context.Context, contractID, documentID string) (*esign.Document, io.ReadCloser, error) {
	const op = "operators.OpenContractDocument"
	d, err := s.Contract(ctx, contractID)
	if err != nil {
		return nil, nil, err
	}
	return s.open(ctx, op, d.Documents, documentID)
}

// open opens the document with the id among docs.
func (s *Service) open(ctx context.Context, op string, docs []*esign.Document, documentID string) (*esign.Document, io.ReadCloser, error) {
	var doc *esign.Document
	for _, x := range docs {
		if x.ID == documentID {
			doc = x
		}
	}
	if doc == nil || !doc.DeletedAt.IsZero() || s.d.Docs == nil {
		return nil, nil, esign.E(op, esign.NotFound, "document not found")
	}
	rc, err := s.d.Docs.Open(ctx, doc.StorageKey)
	if err != nil {
		return nil, nil, esign.E(op, err)
	}
	return doc, rc, nil
}

// VerifyOfferDocument verifies the signatures of a document of the offer
// or of its sealed contract (the sealed contract's PAdES level). Errors:
// NotFound, Invalid.
func (s *Service) VerifyOfferDocument(ctx context.Context, offerID, documentID string) (*esign.Document, *pades.Report, error) {
	doc, rc, err := s.OpenDocument(ctx, offerID, documentID)
	if err != nil {
		return nil, nil, err
	}
	return s.verifyOpened(ctx, "operators.VerifyOfferDocument", doc, rc)
}

// VerifyContractDocument verifies the signatures of a stored contract
// document as VerifyPDF does an uploaded one. Errors: NotFound, Invalid.
func (s *Service) VerifyContractDocument(ctx context.Context, contractID, documentID string) (*esign.Document, *pades.Report, error) {
	const op = "operators.VerifyContractDocument"
	doc, rc, err := s.OpenContractDocument(ctx, contractID, documentID)
	if err != nil {
		return nil, nil, err
	}
	return s.verifyOpened(ctx, op, doc, rc)
}

func (s *Service) verifyOpened(ctx context.Context, op string, doc *esign.Document, rc io.ReadCloser) (*esign.Document, *pades.Report, error) {
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, nil, esign.E(op, err)
	}
	rep, err := s.VerifyPDF(ctx, data)
	if err != nil {
		return nil, nil, err
	}
	return doc, rep, nil
}
