package adminui

import (
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"esign/internal/esign"
	"esign/internal/operators"
	"esign/internal/pades"
)

type contractListData struct {
	Q         contractForm
	Statuses  []esign.ContractStatus
	Page      *operators.ContractPage
	FirstHref string
	NextHref  string
	Filtered  bool
}

type contractForm struct{ Customer, Reference, Status string }

var contractStatuses = []esign.ContractStatus{esign.ContractActive, esign.ContractAcknowledged, esign.ContractRevoked}

// contractList lists the contracts newest first, filtered by customer
// reference, contract reference and status, paged by keyset.
func (u *UI) contractList(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	qv := r.URL.Query()
	f := contractForm{Customer: strings.TrimSpace(qv.Get("customer")), Reference: strings.TrimSpace(qv.Get("ref")), Status: qv.Get("status")}
	q := operators.ContractQuery{CustomerRef: f.Customer, Reference: f.Reference, Status: esign.ContractStatus(f.Status)}
	var err error
	if q.After, err = parseCursor(qv.Get("after")); err != nil {
		return err
	}
	page, err := u.svc.ListContracts(r.Context(), q)
	if err != nil {
		return err
	}
	d := contractListData{Q: f, Statuses: contractStatuses, Page: page, Filtered: f != contractForm{}}
	d.FirstHref, d.NextHref = pageLinks("/contracts", page.Next, map[string]string{"customer": f.Customer, "ref": f.Reference, "status": f.Status})
	return u.page(w, r, p, "contract_list.html", "contracts.title", "contracts", d)
}

type contractData struct {
	*operators.ContractDetail
	Seals sealTable // the documents with their PAdES level
}

// contractDetail shows a contract with its documents: viewable in the
// page, downloadable, verifiable.
func (u *UI) contractDetail(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	d, err := u.svc.Contract(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	base := "/contracts/" + d.Contract.ID
	data := contractData{ContractDetail: d, Seals: sealTable{ID: "contract-docs", Caption: "offer.documents", HideCaption: true,
		Seals: u.seals(r, p, base, base, d.Documents, func(docID string) (*esign.Document, *pades.Report, error) {
			return u.svc.VerifyContractDocument(r.Context(), d.Contract.ID, docID)
		})}}
	return u.ui.Render(w, r, http.StatusOK, "contract.html", pageOf(p, "contract.title", "contracts", data, d.Contract.Title))
}

// contractDownload sends a document of the contract.
func (u *UI) contractDownload(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	doc, rc, err := u.svc.OpenContractDocument(r.Context(), r.PathValue("id"), r.PathValue("doc"))
	if err != nil {
		return err
	}
	defer rc.Close()
	u.send(w, r, doc, rc)
	return nil
}

// send writes a document: an attachment, or inline with ?inline=1 (the
// in-page viewer fetches it so).
func (u *UI) send(w http.ResponseWriter, r *http.Request, doc *esign.Document, rc io.Reader) {
	h := w.Header()
	ct := doc.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	disposition := "attachment"
	if r.URL.Query().Get("inline") == "1" {
		disposition = "inline"
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": doc.Name}))
	h.Set("Content-Length", strconv.FormatInt(doc.Size, 10))
	h.Set("Cache-Control", "no-store")
	if _, err := io.Copy(w, rc); err != nil {
		u.log.Warn("document download interrupted", "document", doc.ID, "err", err)
	}
}

// contractVerify verifies a stored contract document: the report page of
// an uploaded PDF.
func (u *UI) contractVerify(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	doc, rep, err := u.svc.VerifyContractDocument(r.Context(), r.PathValue("id"), r.PathValue("doc"))
	if err != nil {
		return err
	}
	return u.report(w, r, p, doc.Name, rep, "/contracts/"+r.PathValue("id"))
}
