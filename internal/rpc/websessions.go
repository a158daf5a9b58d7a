package rpc

import (
	"context"
	"encoding/json"
	"time"
)

// Methods of esign:rpc-customer for the customer's list of signed-in
// browsers (docs/customer-ui.md, "Duplicate logins") and for a fresh link
// in place of an expired one.
const (
	MethodWebSessions   = "customer.web-sessions"
	MethodEndWebSession = "customer.end-web-session"
	MethodRenewLink     = "link.renew"
)

// WebSession is one of the customer's live web sessions (customer.web-
// sessions): ID names it for customer.end-web-session.
type WebSession struct {
	ID         string    `json:"id"`
	UserAgent  string    `json:"userAgent"`
	CreatedAt  time.Time `json:"createdAt"`
	LastSeenAt time.Time `json:"lastSeenAt"`
	Current    bool      `json:"current"`
}

func (s *Server) webSessionMethods(m map[string]method) {
	m[MethodWebSessions] = method{authSession, s.webSessions}
	m[MethodEndWebSession] = method{authSession, s.endWebSession}
	m[MethodRenewLink] = method{authNone, s.renewLink}
}

func (s *Server) renewLink(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r LinkRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := required("code", r.Code); err != nil {
		return nil, err
	}
	c.meta.IP, c.meta.UserAgent = r.IP, r.UserAgent
	if err := s.svc.RenewLink(ctx, r.Code, c.meta); err != nil {
		return nil, err
	}
	return OK{true}, nil
}

// RenewLink asks for a fresh link of the offer an expired short link led
// to, sent by SMS to the customer's registered phone (link.renew).
func (c *Client) RenewLink(ctx context.Context, cl Caller, code string) error {
	return c.ok(ctx, c.q.Customer, MethodRenewLink, LinkRequest{Caller: cl, Code: code})
}

func (s *Server) webSessions(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r Caller
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	ws, err := s.svc.WebSessions(ctx, c.p)
	if err != nil {
		return nil, err
	}
	out := make([]WebSession, 0, len(ws))
	for _, w := range ws {
		out = append(out, WebSession{ID: w.ID, UserAgent: w.UserAgent, CreatedAt: w.CreatedAt, LastSeenAt: w.LastSeenAt, Current: w.Current})
	}
	return out, nil
}

func (s *Server) endWebSession(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	r, err := decodeID(body)
	if err != nil {
		return nil, err
	}
	if err := s.svc.EndWebSession(ctx, c.p, r.ID, c.meta); err != nil {
		return nil, err
	}
	return OK{true}, nil
}

// WebSessions lists the customer's live web sessions, the caller's first
// (customer.web-sessions).
func (c *Client) WebSessions(ctx context.Context, cl Caller) ([]WebSession, error) {
	out, err := invoke[[]WebSession](ctx, c, c.q.Customer, MethodWebSessions, cl)
	if err != nil {
		return nil, err
	}
	return *out, nil
}

// EndWebSession ends another web session of the customer
// (customer.end-web-session).
func (c *Client) EndWebSession(ctx context.Context, cl Caller, id string) error {
	return c.ok(ctx, c.q.Customer, MethodEndWebSession, IDRequest{Caller: cl, ID: id})
}
