package adminui

import (
	"io"
	"mime"
	"net/http"
	"strconv"

	"esign/internal/operators"
)

func (u *UI) offerDetail(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	d, err := u.svc.Offer(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	data := offerDetailData{OfferDetail: d}
	if data.Live, err = u.liveFor(r, d.Offer.ID, 0); err != nil {
		return err
	}
	return u.ui.Render(w, r, http.StatusOK, "offer_detail.html", pageOf(p, "offer.title", "offers", data, d.Offer.Title))
}

// offerDetailData is the offer page: the offer and its live changes.
type offerDetailData struct {
	*operators.OfferDetail
	Live liveView
}

// documentDownload sends a document of the offer (or of its sealed
// contract) as an attachment.
func (u *UI) documentDownload(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	doc, rc, err := u.svc.OpenDocument(r.Context(), r.PathValue("id"), r.PathValue("doc"))
	if err != nil {
		return err
	}
	defer rc.Close()
	h := w.Header()
	ct := doc.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": doc.Name}))
	h.Set("Content-Length", strconv.FormatInt(doc.Size, 10))
	h.Set("Cache-Control", "no-store")
	_, err = io.Copy(w, rc)
	if err != nil {
		u.log.Warn("document download interrupted", "document", doc.ID, "err", err)
	}
	return nil
}
