package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"esign/internal/bus"
	"esign/internal/customers"
	"esign/internal/esign"
)

// Server answers the customer-facing queues from a customers.Service.
type Server struct {
	svc          *customers.Service
	systemConfig func(context.Context) (bus.SystemConfig, error)
	maxDocument  int64
	sign         Signer // nil: the signature queues are not served
	webKey       string
}

// ServerOptions tune a Server.
type ServerOptions struct {
	// SystemConfig answers system.config on the app queue; nil leaves the
	// method out (NotFound).
	SystemConfig func(context.Context) (bus.SystemConfig, error)
	// MaxInlineDocument is the largest document document.get returns (0:
	// MaxInlineDocument). It must leave room for base64 and the envelope
	// within the bus's message size.
	MaxInlineDocument int64
	// Signing serves esign:rpc-signature and esign:rpc-signature-check;
	// nil leaves them out.
	Signing Signer
	// WebKeyAlgorithm is the algorithm of the key the customer web UI's
	// browser makes (customer.me; mobile.web_signing_algorithms). Empty:
	// ecdsa-p256-sha256.
	WebKeyAlgorithm string
}

// NewServer returns a server of svc.
func NewServer(svc *customers.Service, o ServerOptions) *Server {
	if o.MaxInlineDocument <= 0 {
		o.MaxInlineDocument = MaxInlineDocument
	}
	if o.WebKeyAlgorithm == "" {
		o.WebKeyAlgorithm = "ecdsa-p256-sha256"
	}
	return &Server{svc: svc, systemConfig: o.SystemConfig, maxDocument: o.MaxInlineDocument, sign: o.Signing, webKey: o.WebKeyAlgorithm}
}

// method is one RPC method: the token it takes and its work.
type method struct {
	auth auth
	h    func(ctx context.Context, c *call, body json.RawMessage) (any, error)
}

type auth int

const (
	authNone    auth = iota
	authDevice       // a device token
	authSession      // a session token
	authAny          // either
)

// call is an authenticated request.
type call struct {
	app  *esign.App
	p    *customers.Principal
	meta customers.Meta
}

// Serve serves every queue of q on b until ctx is done. It returns once
// all are registered.
func (s *Server) Serve(ctx context.Context, b bus.Bus, q Queues) error {
	for queue, methods := range s.queues(q) {
		if err := b.Serve(ctx, queue, s.handler(queue, methods)); err != nil {
			return fmt.Errorf("serve %s: %w", queue, err)
		}
	}
	return nil
}

// Methods lists the methods of each queue (for docs and tests).
func (s *Server) Methods(q Queues) map[string][]string {
	out := map[string][]string{}
	for queue, ms := range s.queues(q) {
		for name := range ms {
			out[queue] = append(out[queue], name)
		}
	}
	return out
}

func (s *Server) queues(q Queues) map[string]map[string]method {
	app := map[string]method{
		MethodRegister:        {authNone, s.register},
		MethodAssociate:       {authDevice, s.associate},
		MethodRemoveAccount:   {authDevice, s.removeAccount},
		MethodUpdatePushToken: {authDevice, s.updatePushToken},
		MethodClientError:     {authAny, s.clientError}, // a web session reports for its web app record
	}
	if s.systemConfig != nil {
		app[MethodSystemConfig] = method{authNone, func(ctx context.Context, _ *call, _ json.RawMessage) (any, error) {
			return s.systemConfig(ctx)
		}}
	}
	out := map[string]map[string]method{
		q.App: app,
		q.Customer: {
			MethodCheckUsername: {authDevice, s.checkUsername},
			MethodCheckPassword: {authDevice, s.checkPassword},
			MethodCreate:        {authDevice, s.create},
			MethodLogin:         {authDevice, s.login},
			MethodLogout:        {authSession, s.logout},
			MethodTwoFactor:     {authSession, s.twoFactor},
		},
		q.Offer: {
			MethodListOffers:  {authSession, s.listOffers},
			MethodGetOffer:    {authSession, s.getOffer},
			MethodRefuseOffer: {authSession, s.refuseOffer},
		},
		q.Contract: {
			MethodListContracts:       {authSession, s.listContracts},
			MethodGetContract:         {authSession, s.getContract},
			MethodAcknowledgeContract: {authSession, s.acknowledge},
		},
		q.Document: {
			MethodGetDocument:  {authSession, s.getDocument},
			MethodMarkDocument: {authSession, s.markDocument},
			MethodReadToEnd:    {authSession, s.readToEnd},
		},
		q.Timestamp: {
			MethodTimestamp: {authAny, s.timestamp},
		},
	}
	s.webMethods(out[q.Customer])
	s.webSessionMethods(out[q.Customer])
	s.accountMethods(out[q.Customer])
	s.signatureQueues(q, out)
	return out
}

func (s *Server) handler(queue string, methods map[string]method) bus.Handler {
	op := "rpc." + strings.TrimPrefix(queue, "esign:")
	return func(ctx context.Context, req *bus.Request) (any, error) {
		m, ok := methods[req.Method]
		if !ok {
			return nil, esign.WithCode(op, esign.NotFound, "no_such_method", fmt.Sprintf("no method %q on %s", req.Method, queue))
		}
		var caller Caller
		if m.auth != authNone || req.Method == MethodRegister {
			// Only the caller fields; the method decodes the whole body.
			if err := json.Unmarshal(nonNull(req.Body), &caller); err != nil {
				return nil, esign.WithCode(op, esign.Invalid, "malformed_json", "the request must be a JSON object")
			}
		}
		c := &call{meta: s.meta(caller)}
		var err error
		switch {
		case m.auth == authNone:
		case caller.Token == "" || len(caller.Token) > 256:
			return nil, esign.WithCode(op, esign.Unauthorized, "missing_token", "a token is required")
		case m.auth == authSession || (m.auth == authAny && strings.HasPrefix(caller.Token, customers.SessionTokenPrefix)):
			if c.p, err = s.svc.AuthenticateSession(ctx, caller.Token); err == nil {
				c.app = c.p.App
			}
		default:
			c.app, err = s.svc.AuthenticateDevice(ctx, caller.Token)
		}
		if err != nil {
			return nil, err
		}
		return m.h(ctx, c, req.Body)
	}
}

// meta is what the caller (css, the app's transport) saw of the client,
// with the place of its address.
func (s *Server) meta(c Caller) customers.Meta { return s.svc.Meta(c.IP, c.UserAgent) }

func nonNull(b json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(b)) == 0 || string(bytes.TrimSpace(b)) == "null" {
		return json.RawMessage("{}")
	}
	return b
}

// decode reads body strictly into v: one JSON object, no unknown fields.
// Errors: Invalid with code malformed_json, wrong_type or unknown_field.
func decode(body json.RawMessage, v any) error {
	const op = "rpc.decode"
	dec := json.NewDecoder(bytes.NewReader(nonNull(body)))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); err != io.EOF {
			return esign.WithCode(op, esign.Invalid, "malformed_json", "the request must be one JSON object")
		}
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		return esign.WithCode(op, esign.Invalid, "wrong_type", fmt.Sprintf("field %q has the wrong type", typeErr.Field))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return esign.WithCode(op, esign.Invalid, "unknown_field", "unknown field "+strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return esign.WithCode(op, esign.Invalid, "malformed_json", "the request is not valid JSON")
}

// required fails with missing_field when any named value is empty.
func required(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i+1] == "" {
			return esign.WithCode("rpc", esign.Invalid, "missing_field", fmt.Sprintf("field %q is required", fields[i]))
		}
	}
	return nil
}

func page(limit, offset int) (esign.Page, error) {
	if limit < 0 || limit > 1000 || offset < 0 || offset > 1<<30 {
		return esign.Page{}, esign.WithCode("rpc", esign.Invalid, "invalid_page", "limit must be 0 to 1000 and offset 0 to 2^30")
	}
	return esign.Page{Limit: limit, Offset: offset}, nil
}

// --- app

func (s *Server) register(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r RegisterRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := required("deviceId", r.DeviceID, "os", r.OS); err != nil {
		return nil, err
	}
	reg, err := s.svc.RegisterApp(ctx, customers.Registration{DeviceID: r.DeviceID, OS: r.OS, OSVersion: r.OSVersion, Model: r.Model,
		Manufacturer: r.Manufacturer, AppVersion: r.AppVersion, FCMToken: r.FCMToken}, c.meta)
	if err != nil {
		return nil, err
	}
	return Registered{AppID: reg.AppID, DeviceToken: reg.DeviceToken}, nil
}

func (s *Server) associate(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r AssociateRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := required("phone", r.Phone, "code", r.Code); err != nil {
		return nil, err
	}
	cust, err := s.svc.Associate(ctx, c.app, r.Phone, r.Code, c.meta)
	if err != nil {
		return nil, err
	}
	return Associated{HasCredentials: cust.Username != "", CustomerStatus: string(cust.Status)}, nil
}

func (s *Server) removeAccount(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r Caller
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := s.svc.RemoveAccount(ctx, c.app, c.meta); err != nil {
		return nil, err
	}
	return OK{true}, nil
}

func (s *Server) updatePushToken(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r PushTokenRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := required("fcmToken", r.FCMToken); err != nil {
		return nil, err
	}
	if err := s.svc.UpdatePushToken(ctx, c.app, r.FCMToken); err != nil {
		return nil, err
	}
	return OK{true}, nil
}

func (s *Server) clientError(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r ClientErrorRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := required("message", r.Message); err != nil {
		return nil, err
	}
	if err := s.svc.ReportClientError(ctx, c.app, customers.ClientError{Message: r.Message, Stack: r.Stack, URL: r.URL}, c.meta); err != nil {
		return nil, err
	}
	return OK{true}, nil
}

// --- customer

func (s *Server) checkUsername(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r CheckRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := s.svc.CheckUsername(ctx, r.Value); err != nil {
		return nil, err
	}
	return OK{true}, nil
}

func (s *Server) checkPassword(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r CheckRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := customers.CheckPassword(r.Value); err != nil {
		return nil, err
	}
	return OK{true}, nil
}

func (s *Server) create(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r CredentialsRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := s.svc.CreateCredentials(ctx, c.app, r.Username, r.Password, c.meta); err != nil {
		return nil, err
	}
	return OK{true}, nil
}

func (s *Server) login(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r CredentialsRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := required("username", r.Username, "password", r.Password); err != nil {
		return nil, err
	}
	in, err := s.svc.Login(ctx, c.app, r.Username, r.Password, c.meta)
	if err != nil {
		return nil, err
	}
	return loggedIn(in), nil
}

func loggedIn(in *customers.LoggedIn) LoggedIn {
	return LoggedIn{SessionToken: in.SessionToken, ExpiresAt: in.ExpiresAt, IdleTimeoutSeconds: int64(in.IdleTimeout.Seconds()),
		Customer: customer(in.Customer)}
}

func customer(c *esign.Customer) Customer {
	return Customer{ID: c.ID, Name: c.Name, Status: string(c.Status), Approved: c.Status == esign.CustomerActive}
}

func (s *Server) logout(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r Caller
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := s.svc.Logout(ctx, c.p, c.meta); err != nil {
		return nil, err
	}
	return OK{true}, nil
}

func (s *Server) twoFactor(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r TwoFactorRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := required("signatureId", r.SignatureID, "username", r.Username, "password", r.Password, "smsToken", r.SMSToken); err != nil {
		return nil, err
	}
	if err := s.svc.TwoFactorAuth(ctx, c.p, r.SignatureID, r.Username, r.Password, r.SMSToken, c.meta); err != nil {
		return nil, err
	}
	return OK{true}, nil
}

// --- offers, contracts, documents

func documents(ds []*esign.Document) []Document {
	out := make([]Document, 0, len(ds))
	for _, d := range ds {
		out = append(out, document(d))
	}
	return out
}

func document(d *esign.Document) Document {
	return Document{ID: d.ID, Name: d.Name, ContentType: d.ContentType, Size: d.Size, SHA256: d.SHA256, ReadAt: d.ReadAt}
}

func offer(o *esign.Offer) Offer {
	return Offer{ID: o.ID, Title: o.Title, Description: o.Description, State: string(o.State), StateReason: o.StateReason,
		ExpiresAt: o.ExpiresAt, CreatedAt: o.CreatedAt}
}

func contract(c *esign.Contract) Contract {
	return Contract{ID: c.ID, OfferID: c.OfferID, Title: c.Title, Status: string(c.Status), SignedAt: c.SignedAt, AcknowledgedAt: c.AcknowledgedAt}
}

// decodePage decodes a ListRequest into a page.
func decodePage(body json.RawMessage) (esign.Page, error) {
	var r ListRequest
	if err := decode(body, &r); err != nil {
		return esign.Page{}, err
	}
	return page(r.Limit, r.Offset)
}

// convert maps every element with f; never nil, so JSON shows [].
func convert[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

func decodeID(body json.RawMessage) (IDRequest, error) {
	var r IDRequest
	if err := decode(body, &r); err != nil {
		return r, err
	}
	return r, required("id", r.ID)
}

func (s *Server) listOffers(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	pg, err := decodePage(body)
	if err != nil {
		return nil, err
	}
	os, err := s.svc.ListOffers(ctx, c.p, pg)
	if err != nil {
		return nil, err
	}
	return Offers{Offers: convert(os, offer)}, nil
}

func (s *Server) getOffer(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	r, err := decodeID(body)
	if err != nil {
		return nil, err
	}
	v, err := s.svc.GetOffer(ctx, c.p, r.ID, c.meta)
	if err != nil {
		return nil, err
	}
	o := offer(v.Offer)
	o.Documents = documents(v.Documents)
	for i := range o.Documents {
		o.Documents[i].ReadToEndAt = v.ReadToEnd[o.Documents[i].ID]
	}
	return o, nil
}

func (s *Server) refuseOffer(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r RefuseRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := required("id", r.ID); err != nil {
		return nil, err
	}
	o, err := s.svc.RefuseOffer(ctx, c.p, r.ID, r.Reason, c.meta)
	if err != nil {
		return nil, err
	}
	return offer(o), nil
}

func (s *Server) listContracts(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	pg, err := decodePage(body)
	if err != nil {
		return nil, err
	}
	cs, err := s.svc.ListContracts(ctx, c.p, pg)
	if err != nil {
		return nil, err
	}
	return Contracts{Contracts: convert(cs, contract)}, nil
}

func (s *Server) getContract(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	r, err := decodeID(body)
	if err != nil {
		return nil, err
	}
	v, err := s.svc.GetContract(ctx, c.p, r.ID)
	if err != nil {
		return nil, err
	}
	out := contract(v.Contract)
	out.Documents = documents(v.Documents)
	return out, nil
}

func (s *Server) acknowledge(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	r, err := decodeID(body)
	if err != nil {
		return nil, err
	}
	x, err := s.svc.AcknowledgeContract(ctx, c.p, r.ID, c.meta)
	if err != nil {
		return nil, err
	}
	return contract(x), nil
}

// getDocument returns the document's bytes inline when they fit the cap (a
// larger document is refused with Invalid, document_too_large), or one
// range of at most the cap, so that no message exceeds the bus's limit.
// The store decrypts only the chunks a range touches.
func (s *Server) getDocument(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	const op = "rpc.document.get"
	var r DocumentRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := required("id", r.ID); err != nil {
		return nil, err
	}
	if r.Offset < 0 || r.Length < 0 {
		return nil, esign.WithCode(op, esign.Invalid, "invalid_range", "offset and length must not be negative")
	}
	if r.Length == 0 {
		if r.Offset != 0 || r.Continued {
			return nil, esign.WithCode(op, esign.Invalid, "invalid_range", "offset and continued need a length")
		}
		return s.wholeDocument(ctx, c, r.ID)
	}
	var m *customers.Meta
	if !r.Continued {
		m = &c.meta
	}
	d, rc, err := s.svc.OpenDocumentRange(ctx, c.p, r.ID, r.Offset, min(r.Length, s.maxDocument), m)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data := make([]byte, min(r.Length, s.maxDocument, max(d.Size-r.Offset, 0)))
	if n, err := io.ReadFull(rc, data); err != nil {
		return nil, esign.E(op, esign.Internal, fmt.Sprintf("read %d of %d bytes at %d of the stored document (its record says %d in all)", n, len(data), r.Offset, d.Size), err)
	}
	return DocumentContent{Document: document(d), Offset: r.Offset, Content: data}, nil
}

// wholeDocument is document.get without a range.
func (s *Server) wholeDocument(ctx context.Context, c *call, id string) (any, error) {
	const op = "rpc.document.get"
	d, rc, err := s.svc.OpenDocument(ctx, c.p, id, c.meta)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if d.Size > s.maxDocument {
		return nil, esign.WithCode(op, esign.Invalid, "document_too_large",
			fmt.Sprintf("the document has %d bytes; whole over RPC at most %d (ask for ranges)", d.Size, s.maxDocument))
	}
	data, err := io.ReadAll(io.LimitReader(rc, s.maxDocument+1))
	if err != nil {
		return nil, esign.E(op, esign.Internal, "read the document", err)
	}
	if int64(len(data)) != d.Size {
		return nil, esign.E(op, esign.Internal, fmt.Sprintf("the stored document has %d bytes, its record says %d", len(data), d.Size))
	}
	return DocumentContent{Document: document(d), Content: data}, nil
}

func (s *Server) markDocument(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	r, err := decodeID(body)
	if err != nil {
		return nil, err
	}
	d, err := s.svc.MarkDocumentRead(ctx, c.p, r.ID, c.meta)
	if err != nil {
		return nil, err
	}
	return document(d), nil
}

// --- timestamp

func (s *Server) timestamp(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r TimestampRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := required("hashAlgorithm", r.HashAlgorithm); err != nil {
		return nil, err
	}
	if len(r.Digest) == 0 {
		return nil, required("digest", "")
	}
	st, err := s.svc.Timestamp(ctx, c.app, r.Digest, r.HashAlgorithm, r.DataSize)
	if err != nil {
		return nil, err
	}
	return Stamp{Token: st.Token, GenTime: st.GenTime, SerialNumber: st.Serial}, nil
}
