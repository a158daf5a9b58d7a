package adminui

import (
	"net/http"

	"esign/internal/esign"
	"esign/internal/operators"
	"esign/internal/pades"
)

type offerData struct {
	*operators.OfferDetail
	CanWrite  bool // revoke, resend
	CanVerify bool // verify the sealed contract
	Waiting   bool // the offer waits for the customer: its notification may be sent again
	// Seals are the sealed contract's PDFs with their PAdES level.
	Seals []seal
}

// seal is a sealed contract document and what its verification found.
type seal struct {
	Doc   *esign.Document
	Level string // "" when no signature reaches a baseline level
	Valid bool
	Error string // the verification failed (e.g. the bytes were deleted)
}

func (u *UI) offerDetail(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	d, err := u.svc.Offer(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	data := offerData{OfferDetail: d, CanWrite: p.Can(esign.PermOfferWrite), CanVerify: p.Can(esign.PermSignatureVerify)}
	switch d.Offer.State {
	case esign.OfferCreated, esign.OfferNotified, esign.OfferOpened:
		data.Waiting = true
	}
	data.Seals = u.seals(r, d.ContractDocuments, func(docID string) (*esign.Document, *pades.Report, error) {
		return u.svc.VerifyOfferDocument(r.Context(), d.Offer.ID, docID)
	})
	return u.ui.Render(w, r, http.StatusOK, "offer_detail.html", pageOf(p, "offer.title", "offers", data, d.Offer.Title))
}

// documentDownload sends a document of the offer (or of its sealed
// contract): an attachment, or inline for the in-page viewer.
func (u *UI) documentDownload(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	doc, rc, err := u.svc.OpenDocument(r.Context(), r.PathValue("id"), r.PathValue("doc"))
	if err != nil {
		return err
	}
	defer rc.Close()
	u.send(w, r, doc, rc)
	return nil
}

// seals verifies each signed document with verify and tells its PAdES
// level and verdict.
func (u *UI) seals(r *http.Request, docs []*esign.Document, verify func(docID string) (*esign.Document, *pades.Report, error)) []seal {
	var out []seal
	for _, doc := range docs {
		sl := seal{Doc: doc}
		_, rep, err := verify(doc.ID)
		if err != nil {
			sl.Error = u.errorText(r, err)
		} else {
			sl.Valid = rep.Valid()
			for _, sig := range rep.Signatures {
				if sig.Type == "signature" {
					sl.Level = sig.Level // the bank's seal; a later document time-stamp does not change it
				}
			}
		}
		out = append(out, sl)
	}
	return out
}
