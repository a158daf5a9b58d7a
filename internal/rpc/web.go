package rpc

import (
	"context"
	"encoding/json"
)

// Methods of esign:rpc-customer for the customer web UI (css): a browser
// has no device token, so it signs in with the username and password alone
// and follows the short links of the notifications.
const (
	MethodWebLogin    = "customer.web-login"
	MethodMe          = "customer.me"
	MethodResolveLink = "link.resolve"
	MethodReadToEnd   = "document.read-to-end"
)

// ReadToEndRequest is the body of document.read-to-end (session token).
type ReadToEndRequest struct {
	Caller
	OfferID    string `json:"offerId"`
	DocumentID string `json:"documentId"`
}

// WebLoginRequest is the body of customer.web-login (no token).
type WebLoginRequest struct {
	Caller
	Username string `json:"username"`
	Password string `json:"password"`
}

// Me is the answer to customer.me: the signed-in customer.
type Me struct {
	Customer
	Username string `json:"username"`
	// KeyAlgorithm is the algorithm the browser makes its signing key
	// with (mobile.web_signing_algorithms: ecdsa-p256-sha256 or
	// rsa-pss-sha256).
	KeyAlgorithm string `json:"keyAlgorithm"`
}

// LinkRequest is the body of link.resolve (no token).
type LinkRequest struct {
	Caller
	Code string `json:"code"`
}

// Link is the answer to link.resolve: the customer UI path the link leads
// to (/o/{offerId}).
type Link struct {
	Target string `json:"target"`
}

func (s *Server) webMethods(m map[string]method) {
	m[MethodWebLogin] = method{authNone, s.webLogin}
	m[MethodMe] = method{authSession, s.me}
	m[MethodResolveLink] = method{authNone, s.resolveLink}
}

func (s *Server) readToEnd(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r ReadToEndRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := required("offerId", r.OfferID, "documentId", r.DocumentID); err != nil {
		return nil, err
	}
	if err := s.svc.RecordReadToEnd(ctx, c.p, r.OfferID, r.DocumentID, c.meta); err != nil {
		return nil, err
	}
	return OK{true}, nil
}

func (s *Server) webLogin(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r WebLoginRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := required("username", r.Username, "password", r.Password); err != nil {
		return nil, err
	}
	c.meta = s.meta(r.Caller)
	in, err := s.svc.WebLogin(ctx, r.Username, r.Password, c.meta)
	if err != nil {
		return nil, err
	}
	return loggedIn(in), nil
}

func (s *Server) me(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r Caller
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	return Me{Customer: customer(c.p.Customer), Username: c.p.Customer.Username, KeyAlgorithm: s.webKey}, nil
}

func (s *Server) resolveLink(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r LinkRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	c.meta = s.meta(r.Caller)
	target, err := s.svc.ResolveLink(ctx, r.Code, c.meta)
	if err != nil {
		return nil, err
	}
	return Link{Target: target}, nil
}

// WebLogin signs a customer in from the web UI (customer.web-login): no
// token, the caller's address and user agent only.
func (c *Client) WebLogin(ctx context.Context, cl Caller, username, password string) (*LoggedIn, error) {
	return invoke[LoggedIn](ctx, c, c.q.Customer, MethodWebLogin, WebLoginRequest{Caller: cl, Username: username, Password: password})
}

// Me returns the signed-in customer (customer.me).
func (c *Client) Me(ctx context.Context, cl Caller) (*Me, error) {
	return invoke[Me](ctx, c, c.q.Customer, MethodMe, cl)
}

// ResolveLink returns where a short link leads (link.resolve): NotFound
// for an unknown or expired code.
func (c *Client) ResolveLink(ctx context.Context, cl Caller, code string) (*Link, error) {
	return invoke[Link](ctx, c, c.q.Customer, MethodResolveLink, LinkRequest{Caller: cl, Code: code})
}

// ReadToEnd records that the customer reached the last page of the
// offer's document (document.read-to-end).
func (c *Client) ReadToEnd(ctx context.Context, cl Caller, offerID, documentID string) error {
	return c.ok(ctx, c.q.Document, MethodReadToEnd, ReadToEndRequest{Caller: cl, OfferID: offerID, DocumentID: documentID})
}
