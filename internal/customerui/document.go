package customerui

import (
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"

	"esign/internal/esign"
	"esign/internal/rpc"
)

// offerDocument sends a document of the offer (document.get over RPC) and
// records that the customer opened it (document.mark-as-read).
func (u *UI) offerDocument(w http.ResponseWriter, r *http.Request, c rpc.Caller) error {
	o, err := u.api.GetOffer(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	d, err := u.document(r, c, o.Documents)
	if err != nil {
		return err
	}
	if _, err := u.api.MarkDocumentRead(r.Context(), c, d.ID); err != nil {
		return err
	}
	return sendDocument(w, r, d)
}

// contractDocument sends a document of the customer's contract.
func (u *UI) contractDocument(w http.ResponseWriter, r *http.Request, c rpc.Caller) error {
	k, err := u.api.GetContract(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	d, err := u.document(r, c, k.Documents)
	if err != nil {
		return err
	}
	return sendDocument(w, r, d)
}

// document fetches the {doc} of the request when it is one of docs (the
// offer's or contract's): NotFound otherwise.
func (u *UI) document(r *http.Request, c rpc.Caller, docs []rpc.Document) (*rpc.DocumentContent, error) {
	id := r.PathValue("doc")
	if !slices.ContainsFunc(docs, func(d rpc.Document) bool { return d.ID == id }) {
		return nil, esign.E("customerui.document", esign.NotFound, "document not found")
	}
	return u.api.GetDocument(r.Context(), c, id)
}

// sendDocument writes the PDF as a download (?inline=1: shown in the
// browser, as the signing script fetches it to hash it).
func sendDocument(w http.ResponseWriter, r *http.Request, d *rpc.DocumentContent) error {
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Length", strconv.Itoa(len(d.Content)))
	h.Set("Cache-Control", "private, no-store")
	disp := "attachment"
	if r.URL.Query().Get("inline") == "1" {
		disp = "inline"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": d.Name}))
	if d.SHA256 != "" {
		h.Set("X-Document-SHA256", d.SHA256)
	}
	if _, err := w.Write(d.Content); err != nil {
		return fmt.Errorf("send document: %w", err)
	}
	return nil
}

// readToEnd records that the viewer showed the document's last page (the
// evidence of review, with the server's time).
func (u *UI) readToEnd(r *http.Request, c rpc.Caller) (any, error) {
	if err := u.api.ReadToEnd(r.Context(), c, r.PathValue("id"), r.PathValue("doc")); err != nil {
		return nil, err
	}
	return rpc.OK{OK: true}, nil
}
