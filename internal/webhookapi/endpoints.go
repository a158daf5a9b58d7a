package webhookapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"esign/internal/docstore"
	"esign/internal/esign"
	"esign/internal/offers"
	"esign/internal/pades"
)

// Service is what the endpoints call (offers.Service implements it).
type Service interface {
	UploadOffer(ctx context.Context, u offers.Upload) (*esign.Offer, []*esign.Document, error)
	RevokeOffer(ctx context.Context, customerRef, offerID, reason string) (*esign.Offer, error)
	UploadContract(ctx context.Context, u offers.ContractUpload) (*esign.Contract, *pades.Report, error)
	Verify(ctx context.Context, f offers.File) (*pades.Report, error)
	// Spool starts a file of an upload received as a stream.
	Spool(ctx context.Context) (*docstore.Pending, error)
	BootstrapCustomer(ctx context.Context, n offers.NewCustomer) (*esign.Customer, error)
	SendAssociationToken(ctx context.Context, customerRef string) error
	ApproveCustomer(ctx context.Context, customerRef string) (*esign.Customer, error)
	NotifyApps(ctx context.Context, m offers.AppMessage) (int, error)
}

func bad(code, msg string) error { return esign.WithCode("webhookapi", esign.Invalid, code, msg) }

// decodeJSON decodes one JSON object, refusing unknown fields and trailing
// data.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bad("invalid_json", "the body is not the expected JSON object: "+err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad("invalid_json", "the body has data after the JSON object")
	}
	return nil
}

func mediaType(r *http.Request) (string, map[string]string) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return "", nil
	}
	return mt, params
}

// UploadRequest is the JSON form of POST /offer/upload.
type UploadRequest struct {
	CustomerRef string         `json:"customer_ref"`
	ExternalRef string         `json:"external_ref,omitempty"`
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	ExpiresAt   time.Time      `json:"expires_at"`
	Channel     string         `json:"channel,omitempty"`
	Documents   []DocumentJSON `json:"documents"`
}

// DocumentJSON is one PDF in a JSON upload.
type DocumentJSON struct {
	Name    string `json:"name"`
	Content string `json:"content_base64"`
}

// ReadUpload decodes an upload body of the content type (application/json
// or multipart/form-data) as it is read: the documents' bytes go to spools
// (base64 decoded), only the other fields are kept in memory.
func ReadUpload(contentType string, body io.Reader, spool spoolFunc) (offers.Upload, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return offers.Upload{}, bad("content_type", "Content-Type must be application/json or multipart/form-data")
	}
	spool = limitedSpools(spool)
	switch mt {
	case "application/json":
		j, err := spoolJSON(body, spool, blobPath{"documents", "[]", "content_base64"})
		if err != nil {
			return offers.Upload{}, err
		}
		var req UploadRequest
		if err := decodeJSON(j.skeleton, &req); err != nil {
			return offers.Upload{}, err
		}
		u := offers.Upload{CustomerRef: req.CustomerRef, ExternalRef: req.ExternalRef, Title: req.Title,
			Description: req.Description, ExpiresAt: req.ExpiresAt, Channel: offers.Channel(req.Channel)}
		for i, d := range req.Documents {
			f, err := j.file(d.Name, d.Content, "documents["+strconv.Itoa(i)+"].content_base64")
			if err != nil {
				return offers.Upload{}, err
			}
			u.Files = append(u.Files, f)
		}
		return u, nil
	case "multipart/form-data":
		return readMultipart(body, params["boundary"], spool)
	}
	return offers.Upload{}, bad("content_type", "Content-Type must be application/json or multipart/form-data")
}

// readMultipart reads the form fields and the "document" file parts,
// streaming the files into spools.
func readMultipart(body io.Reader, boundary string, spool spoolFunc) (offers.Upload, error) {
	if boundary == "" {
		return offers.Upload{}, bad("content_type", "the multipart Content-Type has no boundary")
	}
	malformed := bad("invalid_multipart", "the multipart body is malformed")
	var u offers.Upload
	fields := 0
	mr := multipart.NewReader(body, boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return offers.Upload{}, malformed
		}
		if p.FileName() != "" || p.FormName() == "document" {
			sp, err := spoolAll(spool, p)
			var re readError
			if errors.As(err, &re) {
				return offers.Upload{}, malformed
			}
			if err != nil {
				return offers.Upload{}, err
			}
			if p.FormName() != "document" {
				return offers.Upload{}, bad("invalid_multipart", "files must be sent in parts named document")
			}
			u.Files = append(u.Files, offers.File{Name: p.FileName(), Content: sp})
			continue
		}
		data, err := io.ReadAll(io.LimitReader(p, int64(maxFields-fields)+1))
		if err != nil {
			return offers.Upload{}, malformed
		}
		if fields += len(data); fields > maxFields {
			return offers.Upload{}, bad("invalid_multipart", "the form fields are larger than "+strconv.Itoa(maxFields)+" bytes")
		}
		v := string(data)
		switch p.FormName() {
		case "customer_ref":
			u.CustomerRef = v
		case "external_ref":
			u.ExternalRef = v
		case "title":
			u.Title = v
		case "description":
			u.Description = v
		case "channel":
			u.Channel = offers.Channel(v)
		case "expires_at":
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return offers.Upload{}, bad("expires_at", "expires_at must be an RFC 3339 time")
			}
			u.ExpiresAt = t
		default:
			return offers.Upload{}, bad("invalid_multipart", "unknown form field "+p.FormName())
		}
	}
	return u, nil
}

// readError is a failure to read what spoolAll was to store.
type readError struct{ err error }

func (e readError) Error() string { return e.err.Error() }
func (e readError) Unwrap() error { return e.err }

// spoolAll writes everything r holds into a new spool and closes it.
// Errors: readError (reading r failed), the spool's errors.
func spoolAll(spool spoolFunc, r io.Reader) (Spool, error) {
	sp, err := spool()
	if err != nil {
		return nil, err
	}
	w := writeErr{w: sp}
	if _, err := io.Copy(&w, r); err != nil {
		if w.err != nil {
			return nil, esign.E("webhookapi.spoolAll", fmt.Errorf("store a file: %w", w.err))
		}
		return nil, readError{err}
	}
	if err := sp.Close(); err != nil {
		return nil, esign.E("webhookapi.spoolAll", fmt.Errorf("store a file: %w", err))
	}
	return sp, nil
}

// writeErr remembers the error of its writer (a spool's, unlike the
// body's read errors).
type writeErr struct {
	w   io.Writer
	err error
}

func (w *writeErr) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// OfferJSON is an offer in responses.
type OfferJSON struct {
	ID          string `json:"offer_id"`
	CustomerID  string `json:"customer_id"`
	ExternalRef string `json:"external_ref,omitempty"`
	Title       string `json:"title"`
	State       string `json:"state"`
	// StateReason says why the offer was refused, revoked (a veto of the
	// bank's offer_created hook included) or expired.
	StateReason string            `json:"state_reason,omitempty"`
	Data        map[string]string `json:"data,omitempty"` // what the offer_created hook added
	ExpiresAt   time.Time         `json:"expires_at"`
	Documents   []DocumentInfo    `json:"documents,omitempty"`
}

// DocumentInfo describes a stored document.
type DocumentInfo struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

func offerJSON(o *esign.Offer, docs []*esign.Document) OfferJSON {
	out := OfferJSON{ID: o.ID, CustomerID: o.CustomerID, ExternalRef: o.ExternalRef, Title: o.Title, State: string(o.State),
		StateReason: o.StateReason, ExpiresAt: o.ExpiresAt}
	if o.HookData != "" {
		_ = json.Unmarshal([]byte(o.HookData), &out.Data) // written by offers.UploadOffer from a map
	}
	for _, d := range docs {
		out.Documents = append(out.Documents, DocumentInfo{ID: d.ID, Name: d.Name, Size: d.Size, SHA256: d.SHA256})
	}
	return out
}

func (h *handler) offerUpload(_ context.Context, r *http.Request, body io.Reader, spool spoolFunc) (runFunc, error) {
	u, err := ReadUpload(r.Header.Get("Content-Type"), body, spool)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (int, any, error) {
		o, docs, err := h.svc.UploadOffer(ctx, u)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, offerJSON(o, docs), nil
	}, nil
}

type revokeRequest struct {
	CustomerRef string `json:"customer_ref"`
	OfferID     string `json:"offer_id"`
	Reason      string `json:"reason,omitempty"`
}

func (h *handler) offerRevoke(ctx context.Context, r *http.Request, body []byte) (int, any, error) {
	var req revokeRequest
	if err := decodeJSON(body, &req); err != nil {
		return 0, nil, err
	}
	o, err := h.svc.RevokeOffer(ctx, req.CustomerRef, req.OfferID, req.Reason)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, offerJSON(o, nil), nil
}

type verifyRequest struct {
	Content string `json:"content_base64"`
}

func (h *handler) signatureVerify(_ context.Context, r *http.Request, body io.Reader, spool spoolFunc) (runFunc, error) {
	f, err := readVerify(r.Header.Get("Content-Type"), body, spool)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (int, any, error) {
		rep, err := h.svc.Verify(ctx, f)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, rep, nil
	}, nil
}

// readVerify reads the PDF of POST /signature/verify (application/pdf,
// or JSON with content_base64) into a spool.
func readVerify(contentType string, body io.Reader, spool spoolFunc) (offers.File, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/pdf":
		sp, err := spoolAll(spool, body)
		if err != nil {
			return offers.File{}, err
		}
		return offers.File{Content: sp}, nil
	case "application/json":
		j, err := spoolJSON(body, spool, blobPath{"content_base64"})
		if err != nil {
			return offers.File{}, err
		}
		var req verifyRequest
		if err := decodeJSON(j.skeleton, &req); err != nil {
			return offers.File{}, err
		}
		return j.file("", req.Content, "content_base64")
	}
	return offers.File{}, bad("content_type", "Content-Type must be application/pdf or application/json")
}

type bootstrapRequest struct {
	CustomerRef string `json:"customer_ref"`
	Name        string `json:"name"`
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"`
	Locale      string `json:"locale,omitempty"`
}

// CustomerJSON is a customer in responses.
type CustomerJSON struct {
	ID          string `json:"customer_id"`
	CustomerRef string `json:"customer_ref"`
	Status      string `json:"status"`
}

func customerJSON(c *esign.Customer) CustomerJSON {
	return CustomerJSON{ID: c.ID, CustomerRef: c.ExternalRef, Status: string(c.Status)}
}

func (h *handler) customerBootstrap(ctx context.Context, r *http.Request, body []byte) (int, any, error) {
	var req bootstrapRequest
	if err := decodeJSON(body, &req); err != nil {
		return 0, nil, err
	}
	c, err := h.svc.BootstrapCustomer(ctx, offers.NewCustomer{ExternalRef: req.CustomerRef, Name: req.Name, Email: req.Email,
		Phone: req.Phone, Locale: req.Locale})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, customerJSON(c), nil
}

type customerRequest struct {
	CustomerRef string `json:"customer_ref"`
}

func (h *handler) customerAssociation(ctx context.Context, r *http.Request, body []byte) (int, any, error) {
	var req customerRequest
	if err := decodeJSON(body, &req); err != nil {
		return 0, nil, err
	}
	if err := h.svc.SendAssociationToken(ctx, req.CustomerRef); err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, map[string]string{"status": "sent"}, nil
}

func (h *handler) customerApprove(ctx context.Context, r *http.Request, body []byte) (int, any, error) {
	var req customerRequest
	if err := decodeJSON(body, &req); err != nil {
		return 0, nil, err
	}
	c, err := h.svc.ApproveCustomer(ctx, req.CustomerRef)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, customerJSON(c), nil
}

// contractRequest is the JSON form of POST /contract/upload.
type contractRequest struct {
	CustomerRef string       `json:"customer_ref"`
	ExternalRef string       `json:"external_ref,omitempty"`
	Title       string       `json:"title"`
	Document    DocumentJSON `json:"document"`
}

// ReadContract decodes a contract upload (application/json or
// multipart/form-data with exactly one "document" part) as it is read,
// the document into a spool.
func ReadContract(contentType string, body io.Reader, spool spoolFunc) (offers.ContractUpload, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return offers.ContractUpload{}, bad("content_type", "Content-Type must be application/json or multipart/form-data")
	}
	spool = limitedSpools(spool)
	switch mt {
	case "application/json":
		j, err := spoolJSON(body, spool, blobPath{"document", "content_base64"})
		if err != nil {
			return offers.ContractUpload{}, err
		}
		var req contractRequest
		if err := decodeJSON(j.skeleton, &req); err != nil {
			return offers.ContractUpload{}, err
		}
		f, err := j.file(req.Document.Name, req.Document.Content, "document.content_base64")
		if err != nil {
			return offers.ContractUpload{}, err
		}
		return offers.ContractUpload{CustomerRef: req.CustomerRef, ExternalRef: req.ExternalRef, Title: req.Title, File: f}, nil
	case "multipart/form-data":
		u, err := readMultipart(body, params["boundary"], spool)
		if err != nil {
			return offers.ContractUpload{}, err
		}
		if !u.ExpiresAt.IsZero() || u.Channel != "" || u.Description != "" {
			return offers.ContractUpload{}, bad("invalid_multipart", "a contract upload has customer_ref, external_ref, title and one document")
		}
		if len(u.Files) != 1 {
			return offers.ContractUpload{}, bad("invalid_multipart", "a contract upload has exactly one document part")
		}
		return offers.ContractUpload{CustomerRef: u.CustomerRef, ExternalRef: u.ExternalRef, Title: u.Title, File: u.Files[0]}, nil
	}
	return offers.ContractUpload{}, bad("content_type", "Content-Type must be application/json or multipart/form-data")
}

// ContractJSON is an uploaded contract with its verification report.
type ContractJSON struct {
	ID          string        `json:"contract_id"`
	CustomerID  string        `json:"customer_id"`
	ExternalRef string        `json:"external_ref,omitempty"`
	Title       string        `json:"title"`
	Status      string        `json:"status"`
	SignedAt    time.Time     `json:"signed_at"`
	SealLevel   string        `json:"seal_level,omitempty"` // the PAdES level its signature reached
	Report      *pades.Report `json:"report"`
}

func (h *handler) contractUpload(_ context.Context, r *http.Request, body io.Reader, spool spoolFunc) (runFunc, error) {
	u, err := ReadContract(r.Header.Get("Content-Type"), body, spool)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (int, any, error) {
		c, rep, err := h.svc.UploadContract(ctx, u)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, ContractJSON{ID: c.ID, CustomerID: c.CustomerID, ExternalRef: c.ExternalRef, Title: c.Title,
			Status: string(c.Status), SignedAt: c.SignedAt, SealLevel: c.SealLevel, Report: rep}, nil
	}, nil
}

// notificationRequest is the JSON form of POST /app/notification.
type notificationRequest struct {
	CustomerRef string            `json:"customer_ref"`
	Title       string            `json:"title"`
	Message     string            `json:"message"`
	Data        map[string]string `json:"data,omitempty"`
}

func (h *handler) appNotification(ctx context.Context, r *http.Request, body []byte) (int, any, error) {
	var req notificationRequest
	if err := decodeJSON(body, &req); err != nil {
		return 0, nil, err
	}
	n, err := h.svc.NotifyApps(ctx, offers.AppMessage{CustomerRef: req.CustomerRef, Title: req.Title, Message: req.Message, Data: req.Data})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, map[string]int{"devices": n}, nil
}
