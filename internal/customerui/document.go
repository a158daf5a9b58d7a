package customerui

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"mime"
	"net/http"
	"slices"
	"strconv"

	"esign/internal/esign"
	"esign/internal/rpc"
)

// offerDocument sends a document of the offer (document.get over RPC, in
// ranges) and, when the request opens it (no Range header), records that
// the customer opened it (document.mark-as-read, which counts the first
// time only). A Range request is a later part of an opening (PDF.js asks
// for the whole document first and then for ranges); a HEAD opens nothing.
func (u *UI) offerDocument(w http.ResponseWriter, r *http.Request, c rpc.Caller) error {
	o, err := u.api.GetOffer(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	id, err := documentID(r, o.Documents)
	if err != nil {
		return err
	}
	if opens(r) {
		if _, err := u.api.MarkDocumentRead(r.Context(), c, id); err != nil {
			return err
		}
	}
	return u.sendDocument(w, r, c, id)
}

// contractDocument sends a document of the customer's contract.
func (u *UI) contractDocument(w http.ResponseWriter, r *http.Request, c rpc.Caller) error {
	k, err := u.api.GetContract(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	id, err := documentID(r, k.Documents)
	if err != nil {
		return err
	}
	return u.sendDocument(w, r, c, id)
}

// documentID returns the {doc} of the request when it is one of docs (the
// offer's or contract's): NotFound otherwise.
func documentID(r *http.Request, docs []rpc.Document) (string, error) {
	id := r.PathValue("doc")
	if !slices.ContainsFunc(docs, func(d rpc.Document) bool { return d.ID == id }) {
		return "", esign.E("customerui.document", esign.NotFound, "document not found")
	}
	return id, nil
}

// sendDocument streams the PDF as a download (?inline=1: shown in the
// browser, as the viewer and the signing script fetch it), fetching it
// from oss in ranges of at most rpc.MaxInlineDocument so that no more than
// one range is held at a time. A single byte range of the Range header is
// answered with 206 (several ranges: the whole document). Only a GET
// of the whole document records the download at oss (document.get without
// continued); its later ranges, every Range request and HEAD do not. A whole
// document is checked against the SHA-256 oss stores before its last range
// is written: on a mismatch (or any error once the headers are out) the
// connection is cut, so the browser never sees a complete, wrong document.
func (u *UI) sendDocument(w http.ResponseWriter, r *http.Request, c rpc.Caller, id string) error {
	ctx := r.Context()
	br, ranged := parseRange(r.Header.Get("Range"))
	first, want := int64(0), int64(rpc.MaxInlineDocument)
	if ranged && br.suffix == 0 {
		first = br.first
		if br.last >= 0 {
			want = min(want, br.last-br.first+1)
		}
	}
	if r.Method == http.MethodHead {
		want = 1 // the answer tells the size; no bytes are sent
	}
	d, err := u.api.GetDocumentRange(ctx, c, id, first, want, !opens(r))
	if err != nil {
		return err
	}
	size, sum := d.Size, d.SHA256
	hd := w.Header()
	hd.Set("Accept-Ranges", "bytes")
	hd.Set("Content-Type", "application/pdf")
	hd.Set("Cache-Control", "private, no-store")
	disp := "attachment"
	if r.URL.Query().Get("inline") == "1" {
		disp = "inline"
	}
	hd.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": d.Name}))
	if sum != "" {
		hd.Set("X-Document-SHA256", sum)
	}
	offset, length, status := int64(0), size, http.StatusOK
	if ranged {
		var ok bool
		if offset, length, ok = br.resolve(size); !ok {
			hd.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
			hd.Del("Content-Disposition")
			http.Error(w, "range not satisfiable", http.StatusRequestedRangeNotSatisfiable)
			return nil
		}
		status = http.StatusPartialContent
		hd.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", offset, offset+length-1, size))
	}
	hd.Set("Content-Length", strconv.FormatInt(length, 10))
	if r.Method == http.MethodHead || length == 0 {
		w.WriteHeader(status)
		return nil
	}
	if d.Offset != offset { // a suffix range: the first answer only told the size
		if d, err = u.api.GetDocumentRange(ctx, c, id, offset, min(length, rpc.MaxInlineDocument), true); err != nil {
			return err
		}
	}
	w.WriteHeader(status)
	var h hash.Hash
	if !ranged && sum != "" {
		h = sha256.New()
	}
	for pos, end := offset, offset+length; ; {
		if d.Offset != pos || d.Size != size || d.SHA256 != sum || len(d.Content) == 0 {
			u.abort(r, id, fmt.Sprintf("oss answered %d bytes at %d of %d (%s), want bytes from %d of %d (%s)",
				len(d.Content), d.Offset, d.Size, d.SHA256, pos, size, sum))
		}
		part := d.Content[:min(int64(len(d.Content)), end-pos)]
		pos += int64(len(part))
		if h != nil {
			h.Write(part)
			if pos == end && hex.EncodeToString(h.Sum(nil)) != sum {
				u.abort(r, id, "the document's SHA-256 differs from the one oss stores")
			}
		}
		if _, err := w.Write(part); err != nil {
			return nil // the browser went away
		}
		if pos == end {
			return nil
		}
		if d, err = u.api.GetDocumentRange(ctx, c, id, pos, min(end-pos, rpc.MaxInlineDocument), true); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			u.abort(r, id, err.Error())
		}
	}
}

// opens tells whether the request opens a document (records it): a GET
// of the whole document (no Range, or one not answered as a range). A
// range is a later part of an opening, a HEAD sends no bytes.
func opens(r *http.Request) bool {
	_, ranged := parseRange(r.Header.Get("Range"))
	return r.Method == http.MethodGet && !ranged
}

// abort logs why a document could not be sent after its headers went out
// and cuts the connection (the browser sees a failed download).
func (u *UI) abort(r *http.Request, id, why string) {
	u.log.ErrorContext(r.Context(), "document download cut", "document", id, "reason", why)
	panic(http.ErrAbortHandler)
}

// readToEnd records that the viewer showed the document's last page (the
// evidence of review, with the server's time).
func (u *UI) readToEnd(r *http.Request, c rpc.Caller) (any, error) {
	if err := u.api.ReadToEnd(r.Context(), c, r.PathValue("id"), r.PathValue("doc")); err != nil {
		return nil, err
	}
	return rpc.OK{OK: true}, nil
}
