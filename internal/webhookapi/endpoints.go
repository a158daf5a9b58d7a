package webhookapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"esign/internal/esign"
	"esign/internal/offers"
	"esign/internal/pades"
)

// Service is what the endpoints call (offers.Service implements it).
type Service interface {
	UploadOffer(ctx context.Context, u offers.Upload) (*esign.Offer, []*esign.Document, error)
	RevokeOffer(ctx context.Context, customerRef, offerID, reason string) (*esign.Offer, error)
	UploadContract(ctx context.Context, u offers.ContractUpload) (*esign.Contract, *pades.Report, error)
	Verify(ctx context.Context, data []byte) (*pades.Report, error)
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

// ParseUpload decodes an upload body of the content type (application/json
// or multipart/form-data).
func ParseUpload(contentType string, body []byte) (offers.Upload, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return offers.Upload{}, bad("content_type", "Content-Type must be application/json or multipart/form-data")
	}
	switch mt {
	case "application/json":
		var req UploadRequest
		if err := decodeJSON(body, &req); err != nil {
			return offers.Upload{}, err
		}
		u := offers.Upload{CustomerRef: req.CustomerRef, ExternalRef: req.ExternalRef, Title: req.Title,
			Description: req.Description, ExpiresAt: req.ExpiresAt, Channel: offers.Channel(req.Channel)}
		for i, d := range req.Documents {
			data, err := base64.StdEncoding.DecodeString(d.Content)
			if err != nil {
				return offers.Upload{}, bad("invalid_base64", "documents["+strconv.Itoa(i)+"].content_base64 is not standard base64")
			}
			u.Files = append(u.Files, offers.File{Name: d.Name, Data: data})
		}
		return u, nil
	case "multipart/form-data":
		return parseMultipart(body, params["boundary"])
	}
	return offers.Upload{}, bad("content_type", "Content-Type must be application/json or multipart/form-data")
}

// parseMultipart reads the form fields and the "document" file parts.
func parseMultipart(body []byte, boundary string) (offers.Upload, error) {
	if boundary == "" {
		return offers.Upload{}, bad("content_type", "the multipart Content-Type has no boundary")
	}
	var u offers.Upload
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return offers.Upload{}, bad("invalid_multipart", "the multipart body is malformed")
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return offers.Upload{}, bad("invalid_multipart", "the multipart body is malformed")
		}
		if p.FileName() != "" || p.FormName() == "document" {
			if p.FormName() != "document" {
				return offers.Upload{}, bad("invalid_multipart", "files must be sent in parts named document")
			}
			u.Files = append(u.Files, offers.File{Name: p.FileName(), Data: data})
			continue
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

// OfferJSON is an offer in responses.
type OfferJSON struct {
	ID          string         `json:"offer_id"`
	CustomerID  string         `json:"customer_id"`
	ExternalRef string         `json:"external_ref,omitempty"`
	Title       string         `json:"title"`
	State       string         `json:"state"`
	ExpiresAt   time.Time      `json:"expires_at"`
	Documents   []DocumentInfo `json:"documents,omitempty"`
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
		ExpiresAt: o.ExpiresAt}
	for _, d := range docs {
		out.Documents = append(out.Documents, DocumentInfo{ID: d.ID, Name: d.Name, Size: d.Size, SHA256: d.SHA256})
	}
	return out
}

func (h *handler) offerUpload(ctx context.Context, r *http.Request, body []byte) (int, any, error) {
	u, err := ParseUpload(r.Header.Get("Content-Type"), body)
	if err != nil {
		return 0, nil, err
	}
	o, docs, err := h.svc.UploadOffer(ctx, u)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, offerJSON(o, docs), nil
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

func (h *handler) signatureVerify(ctx context.Context, r *http.Request, body []byte) (int, any, error) {
	data := body
	switch mt, _ := mediaType(r); mt {
	case "application/pdf":
	case "application/json":
		var req verifyRequest
		if err := decodeJSON(body, &req); err != nil {
			return 0, nil, err
		}
		var err error
		if data, err = base64.StdEncoding.DecodeString(req.Content); err != nil {
			return 0, nil, bad("invalid_base64", "content_base64 is not standard base64")
		}
	default:
		return 0, nil, bad("content_type", "Content-Type must be application/pdf or application/json")
	}
	rep, err := h.svc.Verify(ctx, data)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, rep, nil
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

// ParseContract decodes a contract upload (application/json or
// multipart/form-data with exactly one "document" part).
func ParseContract(contentType string, body []byte) (offers.ContractUpload, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return offers.ContractUpload{}, bad("content_type", "Content-Type must be application/json or multipart/form-data")
	}
	switch mt {
	case "application/json":
		var req contractRequest
		if err := decodeJSON(body, &req); err != nil {
			return offers.ContractUpload{}, err
		}
		data, err := base64.StdEncoding.DecodeString(req.Document.Content)
		if err != nil {
			return offers.ContractUpload{}, bad("invalid_base64", "document.content_base64 is not standard base64")
		}
		return offers.ContractUpload{CustomerRef: req.CustomerRef, ExternalRef: req.ExternalRef, Title: req.Title,
			File: offers.File{Name: req.Document.Name, Data: data}}, nil
	case "multipart/form-data":
		u, err := parseMultipart(body, params["boundary"])
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
	Report      *pades.Report `json:"report"`
}

func (h *handler) contractUpload(ctx context.Context, r *http.Request, body []byte) (int, any, error) {
	u, err := ParseContract(r.Header.Get("Content-Type"), body)
	if err != nil {
		return 0, nil, err
	}
	c, rep, err := h.svc.UploadContract(ctx, u)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, ContractJSON{ID: c.ID, CustomerID: c.CustomerID, ExternalRef: c.ExternalRef, Title: c.Title,
		Status: string(c.Status), SignedAt: c.SignedAt, Report: rep}, nil
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
