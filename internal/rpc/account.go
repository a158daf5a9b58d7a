package rpc

import (
	"context"
	"encoding/json"
	"time"
)

// Methods of esign:rpc-customer that let a customer without an account
// (who never installed the app) create one from the short link of an
// offer (docs/rpc.md). No token: the link's code says whose offer it is,
// and the SMS code to the phone the bank registered proves the person.
const (
	MethodAccountStart    = "account.start"
	MethodAccountSendCode = "account.send-code"
	MethodAccountCreate   = "account.create"
)

// AccountRequest is the body of account.start and account.send-code (no
// token): the short link's code.
type AccountRequest struct {
	Caller
	Link string `json:"link"`
}

// Account is the answer to account.start and account.send-code: where the
// code goes (the registered number, masked) and, after a send, until when
// it is valid.
type Account struct {
	PhoneHint string     `json:"phoneHint"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// AccountCreateRequest is the body of account.create (no token).
type AccountCreateRequest struct {
	Caller
	Link     string `json:"link"`
	Code     string `json:"code"`
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) accountMethods(m map[string]method) {
	m[MethodAccountStart] = method{authNone, s.accountStart}
	m[MethodAccountSendCode] = method{authNone, s.accountSendCode}
	m[MethodAccountCreate] = method{authNone, s.accountCreate}
}

func (s *Server) accountStart(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r AccountRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := required("link", r.Link); err != nil {
		return nil, err
	}
	a, err := s.svc.WebAccountStart(ctx, r.Link, s.meta(r.Caller))
	if err != nil {
		return nil, err
	}
	return Account{PhoneHint: a.PhoneHint}, nil
}

func (s *Server) accountSendCode(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r AccountRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := required("link", r.Link); err != nil {
		return nil, err
	}
	a, err := s.svc.SendWebAccountCode(ctx, r.Link, s.meta(r.Caller))
	if err != nil {
		return nil, err
	}
	return Account{PhoneHint: a.PhoneHint, ExpiresAt: &a.ExpiresAt}, nil
}

func (s *Server) accountCreate(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r AccountCreateRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := required("link", r.Link, "code", r.Code, "username", r.Username, "password", r.Password); err != nil {
		return nil, err
	}
	in, err := s.svc.CreateWebAccount(ctx, r.Link, r.Code, r.Username, r.Password, s.meta(r.Caller))
	if err != nil {
		return nil, err
	}
	return loggedIn(in), nil
}

// AccountStart checks that the link's customer may create an account
// (account.start).
func (c *Client) AccountStart(ctx context.Context, cl Caller, link string) (*Account, error) {
	return invoke[Account](ctx, c, c.q.Customer, MethodAccountStart, AccountRequest{Caller: cl, Link: link})
}

// AccountSendCode sends the SMS code to the link's customer's registered
// phone (account.send-code).
func (c *Client) AccountSendCode(ctx context.Context, cl Caller, link string) (*Account, error) {
	return invoke[Account](ctx, c, c.q.Customer, MethodAccountSendCode, AccountRequest{Caller: cl, Link: link})
}

// AccountCreate creates the link's customer's username and password with
// the SMS code and opens a web session (account.create).
func (c *Client) AccountCreate(ctx context.Context, cl Caller, r AccountCreateRequest) (*LoggedIn, error) {
	r.Caller = cl
	return invoke[LoggedIn](ctx, c, c.q.Customer, MethodAccountCreate, r)
}
