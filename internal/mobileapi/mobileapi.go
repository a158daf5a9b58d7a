// Package mobileapi serves the mobile-app REST API of oss (listener
// "mobile", :10185): JSON over HTTP with bearer tokens, described by the
// OpenAPI 3.1 document it also serves at /api/openapi.json. The logic is in
// package customers; this package decodes, authenticates and encodes.
package mobileapi

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/httpkit"
	"esign/internal/live"
)

// MaxJSONBody bounds every JSON request body.
const MaxJSONBody = 64 << 10

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the embedded OpenAPI 3.1 document.
func OpenAPI() []byte { return openAPI }

// auth says which bearer token an endpoint takes.
type auth int

const (
	authNone    auth = iota
	authDevice       // the device token from /api/app/register
	authSession      // a customer session token from /api/customer/login
	authAny          // either
	// authSessionCached and authAnyCached are authSession and authAny for
	// requests that only need to know whose they are: an approved
	// customer's session authenticated by this process within
	// mobile.session_cache_ttl is not read again
	// (customers.AuthenticateSessionCached). Requests that sign, check a
	// password or code, or end the session read it every time.
	authSessionCached
	authAnyCached
)

// Route is one endpoint: its method, ServeMux path pattern and auth.
type Route struct {
	Method, Path string
	auth         auth
	h            func(w http.ResponseWriter, r *http.Request, c *call) error
}

// call is what a handler gets besides the request.
type call struct {
	app  *esign.App           // authDevice, authAny
	p    *customers.Principal // authSession, authAny
	meta customers.Meta
}

type api struct {
	svc  *customers.Service
	log  *slog.Logger
	sign Signer    // nil: signing is not served
	ends *live.Hub // nil: the status endpoint does not wait
}

// Routes lists every endpoint (the OpenAPI test compares them with the
// document).
func Routes() []Route { return (&api{}).routes() }

func (a *api) routes() []Route {
	return []Route{
		{"POST", "/api/app/register", authNone, a.register},
		{"POST", "/api/app/associate", authDevice, a.associate},
		{"POST", "/api/app/remove-account", authDevice, a.removeAccount},
		{"POST", "/api/app/update-refresh-token", authDevice, a.updateRefreshToken},
		{"POST", "/api/customer/check-username", authDevice, a.checkUsername},
		{"POST", "/api/customer/check-password", authDevice, a.checkPassword},
		{"POST", "/api/customer/create", authDevice, a.create},
		{"POST", "/api/customer/login", authDevice, a.login},
		{"POST", "/api/customer/logout", authSession, a.logout},
		{"POST", "/api/customer/2f-auth", authSession, a.twoFactor},
		{"GET", "/api/offers", authSessionCached, a.listOffers},
		{"GET", "/api/offer/{id}", authSessionCached, a.getOffer},
		{"POST", "/api/offer/{id}/refuse", authSession, a.refuseOffer},
		{"GET", "/api/contracts", authSessionCached, a.listContracts},
		{"GET", "/api/contract/{id}", authSessionCached, a.getContract},
		{"GET", "/api/contract/{id}/acknowledge", authSessionCached, a.acknowledge},
		{"POST", "/api/contract/{id}/acknowledge", authSessionCached, a.acknowledge},
		{"GET", "/api/document/{id}", authSessionCached, a.document},
		{"POST", "/api/document/{id}/mark-as-read", authSessionCached, a.markAsRead},
		{"POST", "/api/signature/m1", authSession, a.m1},
		{"POST", "/api/signature/m2", authSession, a.m2},
		{"GET", "/api/signature/{id}/status", authSessionCached, a.signature},
		{"POST", "/api/timestamp", authAnyCached, a.timestamp},
		{"POST", "/api/client-error", authDevice, a.clientError},
		{"GET", "/api/openapi.json", authNone, a.openAPI},
	}
}

// New returns the API's handler. Unknown paths answer a JSON 404, a known
// path with another method a JSON 405.
func New(svc *customers.Service, log *slog.Logger, opts ...Option) http.Handler {
	a := &api{svc: svc, log: log}
	for _, o := range opts {
		o(a)
	}
	mux := http.NewServeMux()
	methods := map[string][]string{}
	for _, rt := range a.routes() {
		mux.Handle(rt.Method+" "+rt.Path, a.handle(rt))
		methods[rt.Path] = append(methods[rt.Path], rt.Method)
	}
	mux.Handle("POST /api/timestamp/{$}", a.handle(Route{"POST", "/api/timestamp/", authAnyCached, a.timestamp}))
	for path, ms := range methods {
		allow := strings.Join(ms, ", ")
		mux.Handle(path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			httpkit.WriteJSON(w, http.StatusMethodNotAllowed, httpkit.ErrorBody{Error: httpkit.ErrorDetail{
				Kind: esign.Invalid.String(), Code: "method_not_allowed", Message: "method not allowed", ID: httpkit.RequestID(r.Context())}})
		}))
	}
	mux.Handle("/", httpkit.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		return esign.WithCode("mobileapi", esign.NotFound, "no_such_endpoint", "no such endpoint")
	}))
	return mux
}

func (a *api) handle(rt Route) http.Handler {
	return httpkit.Handle(a.log, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "no-store")
		c := &call{meta: a.svc.Meta(clientIP(r), r.UserAgent())}
		if rt.auth != authNone {
			tok, ok := bearer(r)
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="esign"`)
				return esign.WithCode("mobileapi", esign.Unauthorized, "missing_token", "a bearer token is required")
			}
			var err error
			session := strings.HasPrefix(tok, customers.SessionTokenPrefix)
			switch {
			case rt.auth == authSession || (rt.auth == authAny && session):
				c.p, err = a.svc.AuthenticateSession(r.Context(), tok)
			case rt.auth == authSessionCached || (rt.auth == authAnyCached && session):
				c.p, err = a.svc.AuthenticateSessionCached(r.Context(), tok)
			default:
				c.app, err = a.svc.AuthenticateDevice(r.Context(), tok)
			}
			if err == nil && c.p != nil {
				c.app = c.p.App
			}
			if err != nil {
				if esign.IsKind(err, esign.Unauthorized) {
					w.Header().Set("WWW-Authenticate", `Bearer realm="esign", error="invalid_token"`)
				}
				return err
			}
		}
		return rt.h(w, r, c)
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != "" && len(tok) <= 256
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// decode reads a JSON body strictly into v: one object, no unknown fields,
// at most MaxJSONBody bytes. Errors: Invalid with code malformed_json,
// wrong_type, unknown_field, body_too_large or empty_body.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if err := jsonContentType(r); err != nil {
		return err
	}
	body := http.MaxBytesReader(w, r.Body, MaxJSONBody)
	return decodeJSON(body, v)
}

// jsonContentType refuses a body that does not say it is JSON: the
// Content-Type must be present and be application/json (parameters such
// as charset allowed). Errors: Invalid unsupported_media_type.
func jsonContentType(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return esign.WithCode("mobileapi.decode", esign.Invalid, "unsupported_media_type", "the body must be application/json (Content-Type)")
	}
	return nil
}

// decodeOptional is decode for endpoints whose body may be absent: an
// empty body leaves v as it is.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	body := http.MaxBytesReader(w, r.Body, MaxJSONBody)
	data, err := io.ReadAll(body)
	if err != nil {
		return decodeError("mobileapi.decode", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := jsonContentType(r); err != nil {
		return err
	}
	return decodeJSON(bytes.NewReader(data), v)
}

func decodeJSON(body io.Reader, v any) error {
	const op = "mobileapi.decode"
	data, err := io.ReadAll(body)
	if err != nil {
		return decodeError(op, err)
	}
	if k, dup := duplicateKey(data); dup {
		return esign.WithCode(op, esign.Invalid, "duplicate_field", fmt.Sprintf("field %q appears more than once", k))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(op, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return decodeError(op, err)
		}
		return esign.WithCode(op, esign.Invalid, "malformed_json", "the body must be one JSON object")
	}
	return nil
}

// duplicateKey reports the first name that appears twice in one JSON object
// of data (at any depth): encoding/json would silently keep the last, and
// two readers of one message must never see different values. Malformed
// JSON reports none; the decoder refuses it.
func duplicateKey(data []byte) (string, bool) {
	type frame struct {
		keys map[string]bool // nil: an array
		key  bool            // an object's next token is a key
	}
	var stack []*frame
	valueEnded := func() { // in an object, a key comes next
		if n := len(stack); n > 0 && stack[n-1].keys != nil {
			stack[n-1].key = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		t, err := dec.Token()
		if err != nil {
			return "", false
		}
		if n := len(stack); n > 0 && stack[n-1].key {
			if t == json.Delim('}') {
				stack = stack[:n-1]
				valueEnded()
				continue
			}
			k, _ := t.(string)
			if stack[n-1].keys[k] {
				return k, true
			}
			stack[n-1].keys[k], stack[n-1].key = true, false
			continue
		}
		switch t {
		case json.Delim('{'):
			stack = append(stack, &frame{keys: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		valueEnded()
	}
}

func decodeError(op string, err error) error {
	var maxErr *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	var synErr *json.SyntaxError
	switch {
	case errors.As(err, &maxErr):
		return esign.WithCode(op, esign.Invalid, "body_too_large", fmt.Sprintf("the body must not exceed %d bytes", maxErr.Limit))
	case errors.Is(err, io.EOF):
		return esign.WithCode(op, esign.Invalid, "empty_body", "a JSON body is required")
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return esign.WithCode(op, esign.Invalid, "wrong_type", "the body must be a JSON object")
		}
		return esign.WithCode(op, esign.Invalid, "wrong_type", fmt.Sprintf("field %q has the wrong type", typeErr.Field))
	case errors.As(err, &synErr), errors.Is(err, io.ErrUnexpectedEOF):
		return esign.WithCode(op, esign.Invalid, "malformed_json", "the body is not valid JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return esign.WithCode(op, esign.Invalid, "unknown_field", "unknown field "+strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return esign.WithCode(op, esign.Invalid, "malformed_json", "the body is not valid JSON")
}

// required fails with missing_field when any named value is empty.
func required(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i+1] == "" {
			return esign.WithCode("mobileapi", esign.Invalid, "missing_field", fmt.Sprintf("field %q is required", fields[i]))
		}
	}
	return nil
}

func page(r *http.Request) (esign.Page, error) {
	var p esign.Page
	for _, k := range []struct {
		name string
		dst  *int
		max  int
	}{{"limit", &p.Limit, 1000}, {"offset", &p.Offset, 1 << 30}} {
		if s := r.URL.Query().Get(k.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || n > k.max {
				return p, esign.WithCode("mobileapi", esign.Invalid, "invalid_query", fmt.Sprintf("%s must be a number from 0 to %d", k.name, k.max))
			}
			*k.dst = n
		}
	}
	return p, nil
}

func ok(w http.ResponseWriter, v any) error {
	httpkit.WriteJSON(w, http.StatusOK, v)
	return nil
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// --- app lifecycle

type registerReq struct {
	DeviceID     string `json:"deviceId"`
	OS           string `json:"os"`
	OSVersion    string `json:"osVersion"`
	Model        string `json:"model"`
	Manufacturer string `json:"manufacturer"`
	AppVersion   string `json:"appVersion"`
	FCMToken     string `json:"fcmToken"`
}

func (a *api) register(w http.ResponseWriter, r *http.Request, c *call) error {
	var req registerReq
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := required("deviceId", req.DeviceID, "os", req.OS); err != nil {
		return err
	}
	reg, err := a.svc.RegisterApp(r.Context(), customers.Registration{DeviceID: req.DeviceID, OS: req.OS, OSVersion: req.OSVersion,
		Model: req.Model, Manufacturer: req.Manufacturer, AppVersion: req.AppVersion, FCMToken: req.FCMToken}, c.meta)
	if err != nil {
		return err
	}
	httpkit.WriteJSON(w, http.StatusCreated, map[string]string{"appId": reg.AppID, "deviceToken": reg.DeviceToken})
	return nil
}

func (a *api) associate(w http.ResponseWriter, r *http.Request, c *call) error {
	var req struct {
		Phone string `json:"phone"`
		Token string `json:"token"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := required("phone", req.Phone, "token", req.Token); err != nil {
		return err
	}
	cust, err := a.svc.Associate(r.Context(), c.app, req.Phone, req.Token, c.meta)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"associated": true, "hasCredentials": cust.Username != "", "customerStatus": string(cust.Status)})
}

func (a *api) removeAccount(w http.ResponseWriter, r *http.Request, c *call) error {
	var req struct{}
	if err := decodeOptional(w, r, &req); err != nil {
		return err
	}
	if err := a.svc.RemoveAccount(r.Context(), c.app, c.meta); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) updateRefreshToken(w http.ResponseWriter, r *http.Request, c *call) error {
	var req struct {
		FCMToken string `json:"fcmToken"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := required("fcmToken", req.FCMToken); err != nil {
		return err
	}
	if err := a.svc.UpdatePushToken(r.Context(), c.app, req.FCMToken); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- customer

func (a *api) checkUsername(w http.ResponseWriter, r *http.Request, c *call) error {
	var req struct {
		Username string `json:"username"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := a.svc.CheckUsername(r.Context(), req.Username); err != nil {
		return err
	}
	return ok(w, map[string]bool{"available": true})
}

func (a *api) checkPassword(w http.ResponseWriter, r *http.Request, c *call) error {
	var req struct {
		Password string `json:"password"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := customers.CheckPassword(req.Password); err != nil {
		return err
	}
	return ok(w, map[string]bool{"valid": true})
}

type credentialsReq struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (a *api) create(w http.ResponseWriter, r *http.Request, c *call) error {
	var req credentialsReq
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := a.svc.CreateCredentials(r.Context(), c.app, req.Username, req.Password, c.meta); err != nil {
		return err
	}
	httpkit.WriteJSON(w, http.StatusCreated, map[string]bool{"created": true})
	return nil
}

func (a *api) login(w http.ResponseWriter, r *http.Request, c *call) error {
	var req credentialsReq
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := required("username", req.Username, "password", req.Password); err != nil {
		return err
	}
	in, err := a.svc.Login(r.Context(), c.app, req.Username, req.Password, c.meta)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{
		"sessionToken":       in.SessionToken,
		"expiresAt":          rfc3339(in.ExpiresAt),
		"idleTimeoutSeconds": int64(in.IdleTimeout / time.Second),
		"customer": map[string]any{"id": in.Customer.ID, "name": in.Customer.Name, "status": string(in.Customer.Status),
			"approved": in.Customer.Status == esign.CustomerActive},
	})
}

func (a *api) logout(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := a.svc.Logout(r.Context(), c.p, c.meta); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) twoFactor(w http.ResponseWriter, r *http.Request, c *call) error {
	var req struct {
		SignatureID string `json:"signatureId"`
		Username    string `json:"username"`
		Password    string `json:"password"`
		SMSToken    string `json:"smsToken"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := required("signatureId", req.SignatureID, "username", req.Username, "password", req.Password, "smsToken", req.SMSToken); err != nil {
		return err
	}
	if err := a.svc.TwoFactorAuth(r.Context(), c.p, req.SignatureID, req.Username, req.Password, req.SMSToken, c.meta); err != nil {
		return err
	}
	return ok(w, map[string]bool{"verified": true})
}

// --- offers, contracts, documents

type documentJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	ReadAt      string `json:"readAt,omitempty"`
}

func documentsJSON(ds []*esign.Document) []documentJSON {
	out := make([]documentJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, documentJSON{ID: d.ID, Name: d.Name, ContentType: d.ContentType, Size: d.Size, SHA256: d.SHA256, ReadAt: rfc3339(d.ReadAt)})
	}
	return out
}

type offerJSON struct {
	ID          string         `json:"id"`
	Title       string         `json:"title"`
	Description string         `json:"description"`
	State       string         `json:"state"`
	StateReason string         `json:"stateReason,omitempty"`
	ExpiresAt   string         `json:"expiresAt"`
	CreatedAt   string         `json:"createdAt"`
	Documents   []documentJSON `json:"documents,omitempty"`
}

func offerToJSON(o *esign.Offer) offerJSON {
	return offerJSON{ID: o.ID, Title: o.Title, Description: o.Description, State: string(o.State), StateReason: o.StateReason,
		ExpiresAt: rfc3339(o.ExpiresAt), CreatedAt: rfc3339(o.CreatedAt)}
}

func (a *api) listOffers(w http.ResponseWriter, r *http.Request, c *call) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	os, err := a.svc.ListOffers(r.Context(), c.p, pg)
	if err != nil {
		return err
	}
	out := make([]offerJSON, 0, len(os))
	for _, o := range os {
		out = append(out, offerToJSON(o))
	}
	return ok(w, map[string]any{"offers": out})
}

func (a *api) getOffer(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := a.svc.OpenOffer(r.Context(), c.p, r.PathValue("id"), c.meta)
	if err != nil {
		return err
	}
	o := offerToJSON(v.Offer)
	o.Documents = documentsJSON(v.Documents)
	return ok(w, o)
}

func (a *api) refuseOffer(w http.ResponseWriter, r *http.Request, c *call) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeOptional(w, r, &req); err != nil {
		return err
	}
	o, err := a.svc.RefuseOffer(r.Context(), c.p, r.PathValue("id"), req.Reason, c.meta)
	if err != nil {
		return err
	}
	return ok(w, offerToJSON(o))
}

type contractJSON struct {
	ID             string         `json:"id"`
	OfferID        string         `json:"offerId,omitempty"`
	Title          string         `json:"title"`
	Status         string         `json:"status"`
	SignedAt       string         `json:"signedAt"`
	AcknowledgedAt string         `json:"acknowledgedAt,omitempty"`
	Documents      []documentJSON `json:"documents,omitempty"`
}

func contractToJSON(c *esign.Contract) contractJSON {
	return contractJSON{ID: c.ID, OfferID: c.OfferID, Title: c.Title, Status: string(c.Status), SignedAt: rfc3339(c.SignedAt),
		AcknowledgedAt: rfc3339(c.AcknowledgedAt)}
}

func (a *api) listContracts(w http.ResponseWriter, r *http.Request, c *call) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	cs, err := a.svc.ListContracts(r.Context(), c.p, pg)
	if err != nil {
		return err
	}
	out := make([]contractJSON, 0, len(cs))
	for _, x := range cs {
		out = append(out, contractToJSON(x))
	}
	return ok(w, map[string]any{"contracts": out})
}

func (a *api) getContract(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := a.svc.GetContract(r.Context(), c.p, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := contractToJSON(v.Contract)
	out.Documents = documentsJSON(v.Documents)
	return ok(w, out)
}

func (a *api) acknowledge(w http.ResponseWriter, r *http.Request, c *call) error {
	x, err := a.svc.AcknowledgeContract(r.Context(), c.p, r.PathValue("id"), c.meta)
	if err != nil {
		return err
	}
	return ok(w, contractToJSON(x))
}

func (a *api) document(w http.ResponseWriter, r *http.Request, c *call) error {
	d, rc, err := a.svc.OpenDocument(r.Context(), c.p, r.PathValue("id"), c.meta)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(d.Size, 10))
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+urlEscape(d.Name))
	h.Set("X-Content-Type-Options", "nosniff")
	if sum, err := hex.DecodeString(d.SHA256); err == nil {
		h.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum)+":") // RFC 9530
	}
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rc); err != nil {
		// The status is out; the client sees a short body. Log it only.
		a.log.WarnContext(r.Context(), "document download interrupted", "document_id", d.ID, "err", err)
	}
	return nil
}

func urlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func (a *api) markAsRead(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := a.svc.MarkDocumentRead(r.Context(), c.p, r.PathValue("id"), c.meta)
	if err != nil {
		return err
	}
	return ok(w, documentsJSON([]*esign.Document{d})[0])
}

// --- timestamp, client errors, the document

type timestampReq struct {
	Digest        string `json:"digest"`
	HashAlgorithm string `json:"hashAlgorithm"`
	DataSize      *int64 `json:"dataSize"`
}

func (a *api) timestamp(w http.ResponseWriter, r *http.Request, c *call) error {
	var req timestampReq
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := required("digest", req.Digest, "hashAlgorithm", req.HashAlgorithm); err != nil {
		return err
	}
	if req.DataSize == nil {
		return required("dataSize", "")
	}
	digest, err := base64.StdEncoding.DecodeString(req.Digest)
	if err != nil {
		return esign.WithCode("mobileapi", esign.Invalid, "invalid_digest", "digest must be standard base64")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	st, err := a.svc.Timestamp(ctx, c.app, digest, req.HashAlgorithm, *req.DataSize)
	if err != nil {
		return err
	}
	return ok(w, map[string]string{"token": base64.StdEncoding.EncodeToString(st.Token), "genTime": rfc3339(st.GenTime), "serialNumber": st.Serial})
}

func (a *api) clientError(w http.ResponseWriter, r *http.Request, c *call) error {
	var req struct {
		Message string `json:"message"`
		Stack   string `json:"stack"`
		URL     string `json:"url"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := required("message", req.Message); err != nil {
		return err
	}
	if err := a.svc.ReportClientError(r.Context(), c.app, customers.ClientError{Message: req.Message, Stack: req.Stack, URL: req.URL}, c.meta); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) openAPI(w http.ResponseWriter, r *http.Request, c *call) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPI)
	return err
}
