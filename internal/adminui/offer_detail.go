package adminui

import (
	"net/http"

	"esign/internal/esign"
	"esign/internal/operators"
	"esign/internal/pades"
)

type offerData struct {
	*operators.OfferDetail
	CanWrite bool // revoke, resend
	Waiting  bool // the offer waits for the customer: its notification may be sent again
	// Seals are the sealed contract's PDFs with their PAdES level.
	Seals sealTable
	Live  liveView // the offer's changes since the page was rendered
}

// seal is a sealed contract document, where to view, download and verify
// it, and what its verification found.
type seal struct {
	Doc                  *esign.Document
	ViewURL, DownloadURL string
	VerifyURL            string // "" when the operator may not verify
	Level                string // "" when no signature reaches a baseline level
	Valid                bool
	Error                string // the verification failed (e.g. the bytes were deleted)
}

// sealTable is what the template "seals" shows: the sealed documents
// with their captions' key.
type sealTable struct {
	ID, Caption string
	HideCaption bool // a heading above says it
	Seals       []seal
}

func (u *UI) offerDetail(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	d, err := u.svc.Offer(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	data := offerData{OfferDetail: d, CanWrite: p.Can(esign.PermOfferWrite)}
	switch d.Offer.State {
	case esign.OfferCreated, esign.OfferNotified, esign.OfferOpened:
		data.Waiting = true
	}
	var contractID string
	if d.Contract != nil {
		contractID = d.Contract.ID
	}
	data.Seals = sealTable{ID: "seals", Caption: "offer.contract.documents",
		Seals: u.seals(r, p, "/offers/"+d.Offer.ID, "/contracts/"+contractID, d.ContractDocuments, func(docID string) (*esign.Document, *pades.Report, error) {
			return u.svc.VerifyOfferDocument(r.Context(), d.Offer.ID, docID)
		})}
	if data.Live, err = u.liveFor(r, d.Offer.ID, 0); err != nil {
		return err
	}
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
// level and verdict; the documents are served under base + "/documents/"
// and verified under verifyBase (contract.read and signature.verify).
func (u *UI) seals(r *http.Request, p *operators.Principal, base, verifyBase string, docs []*esign.Document,
	verify func(docID string) (*esign.Document, *pades.Report, error)) []seal {
	var out []seal
	for _, doc := range docs {
		url := base + "/documents/" + doc.ID
		sl := seal{Doc: doc, ViewURL: url + "?inline=1", DownloadURL: url}
		if p.Can(esign.PermSignatureVerify) {
			sl.VerifyURL = verifyBase + "/documents/" + doc.ID + "/verify"
		}
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
