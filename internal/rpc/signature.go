package rpc

import (
	"context"
	"encoding/json"

	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/signing"
)

// Methods of esign:rpc-signature and esign:rpc-signature-check.
const (
	MethodSignatureM1    = "signature.m1"
	MethodSignatureM2    = "signature.m2"
	MethodSignatureCheck = "signature.check"
)

// Signer runs the signing protocol (package signing).
type Signer interface {
	M1(ctx context.Context, p *customers.Principal, m *signing.M1) (*signing.M1Result, error)
	M2(ctx context.Context, p *customers.Principal, m *signing.M2, meta customers.Meta) (*signing.M2Result, error)
	Check(ctx context.Context, p *customers.Principal, signatureID string) (*signing.Status, error)
}

var _ Signer = (*signing.Service)(nil)

// M1Request is the body of signature.m1.
type M1Request struct {
	Caller
	signing.M1
}

// M2Request is the body of signature.m2 (the password is the second
// factor, checked with the SMS code).
type M2Request struct {
	Caller
	signing.M2
}

// SignatureCheckRequest is the body of signature.check.
type SignatureCheckRequest struct {
	Caller
	SignatureID string `json:"signatureId"`
}

// signatureQueues adds the signing methods when the server has a signer
// and the queues are named.
func (s *Server) signatureQueues(q Queues, out map[string]map[string]method) {
	if s.sign == nil {
		return
	}
	if q.Signature != "" {
		out[q.Signature] = map[string]method{
			MethodSignatureM1: {authSession, s.signatureM1},
			MethodSignatureM2: {authSession, s.signatureM2},
		}
	}
	if q.SignatureCheck != "" {
		out[q.SignatureCheck] = map[string]method{MethodSignatureCheck: {authSession, s.signatureCheck}}
	}
}

func (s *Server) signatureM1(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r M1Request
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := required("offerId", r.OfferID, "algorithm", r.Algorithm); err != nil {
		return nil, err
	}
	if !c.p.Approved() {
		return nil, esign.WithCode("rpc.signature", esign.Forbidden, "not_approved", "the registration is not approved yet")
	}
	return s.sign.M1(ctx, c.p, &r.M1)
}

func (s *Server) signatureM2(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r M2Request
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := required("signatureId", r.SignatureID, "offerId", r.OfferID, "userName", r.UserName,
		"password", r.Password, "smsToken", r.SMSToken); err != nil {
		return nil, err
	}
	if !c.p.Approved() {
		return nil, esign.WithCode("rpc.signature", esign.Forbidden, "not_approved", "the registration is not approved yet")
	}
	return s.sign.M2(ctx, c.p, &r.M2, c.meta)
}

func (s *Server) signatureCheck(ctx context.Context, c *call, body json.RawMessage) (any, error) {
	var r SignatureCheckRequest
	if err := decode(body, &r); err != nil {
		return nil, err
	}
	if err := required("signatureId", r.SignatureID); err != nil {
		return nil, err
	}
	return s.sign.Check(ctx, c.p, r.SignatureID)
}

// SignatureM1 sends M1 for the caller's offer.
func (c *Client) SignatureM1(ctx context.Context, cl Caller, m signing.M1) (*signing.M1Result, error) {
	return invoke[signing.M1Result](ctx, c, c.q.Signature, MethodSignatureM1, M1Request{Caller: cl, M1: m})
}

// SignatureM2 sends M2 for the caller's signature.
func (c *Client) SignatureM2(ctx context.Context, cl Caller, m signing.M2) (*signing.M2Result, error) {
	return invoke[signing.M2Result](ctx, c, c.q.Signature, MethodSignatureM2, M2Request{Caller: cl, M2: m})
}

// SignatureCheck returns the state of the caller's signature.
func (c *Client) SignatureCheck(ctx context.Context, cl Caller, signatureID string) (*signing.Status, error) {
	return invoke[signing.Status](ctx, c, c.q.SignatureCheck, MethodSignatureCheck, SignatureCheckRequest{Caller: cl, SignatureID: signatureID})
}
