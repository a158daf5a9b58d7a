package mobileapi

import (
	"context"
	"net/http"

	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/signing"
)

// MaxSignatureBody bounds the body of /api/signature/m2 (it carries the
// photo, base64-encoded).
const MaxSignatureBody = 8 << 20

// Signer runs the signing protocol (package signing).
type Signer interface {
	M1(ctx context.Context, p *customers.Principal, m *signing.M1) (*signing.M1Result, error)
	M2(ctx context.Context, p *customers.Principal, m *signing.M2, meta customers.Meta) (*signing.M2Result, error)
	Check(ctx context.Context, p *customers.Principal, signatureID string) (*signing.Status, error)
}

var _ Signer = (*signing.Service)(nil)

// Option configures the API.
type Option func(*api)

// WithSigning serves /api/signature/m1 and /api/signature/m2 with s;
// without it they answer 503. With a *signing.OneShot an M1 without ts1
// and an M2 without ts3 are the combined forms (docs/protocol.md, "One
// request instead of two"), and the answer carries the token the server
// obtained.
func WithSigning(s Signer) Option { return func(a *api) { a.sign = s } }

func (a *api) signer(p *customers.Principal) (Signer, error) {
	const op = "mobileapi.signature"
	if a.sign == nil {
		return nil, esign.WithCode(op, esign.Unavailable, "signing_disabled", "signing is not available")
	}
	if !p.Approved() {
		return nil, esign.WithCode(op, esign.Forbidden, "not_approved", "the registration is not approved yet")
	}
	return a.sign, nil
}

func (a *api) m1(w http.ResponseWriter, r *http.Request, c *call) error {
	s, err := a.signer(c.p)
	if err != nil {
		return err
	}
	var req signing.M1
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := required("offerId", req.OfferID, "algorithm", req.Algorithm); err != nil {
		return err
	}
	stamped := len(req.TS1) == 0 // the combined form: the server obtains TS1
	res, err := s.M1(r.Context(), c.p, &req)
	if err != nil {
		return err
	}
	if stamped && len(req.TS1) != 0 {
		// The device needs the token's time and accuracy before it asks
		// for TS2 (TS1 < TS2), and may keep it as its own evidence.
		return ok(w, struct {
			*signing.M1Result
			TS1 []byte `json:"ts1"`
		}{res, req.TS1})
	}
	return ok(w, res)
}

func (a *api) m2(w http.ResponseWriter, r *http.Request, c *call) error {
	s, err := a.signer(c.p)
	if err != nil {
		return err
	}
	var req signing.M2
	if err := jsonContentType(r); err != nil {
		return err
	}
	if err := decodeJSON(http.MaxBytesReader(w, r.Body, MaxSignatureBody), &req); err != nil {
		return err
	}
	if err := required("signatureId", req.SignatureID, "offerId", req.OfferID, "userName", req.UserName,
		"password", req.Password, "smsToken", req.SMSToken); err != nil {
		return err
	}
	stamped := len(req.TS3) == 0 // the combined form: the server obtains TS3
	res, err := s.M2(r.Context(), c.p, &req, c.meta)
	if err != nil {
		return err
	}
	if stamped && len(req.TS3) != 0 {
		return ok(w, struct {
			*signing.M2Result
			TS3 []byte `json:"ts3"`
		}{res, req.TS3})
	}
	return ok(w, res)
}

// signature (GET /api/signature/{id}/status) answers the state of one of the customer's signatures: after
// an M2 that answered "verified", the app polls it (or waits for the
// contract_ready push) until it is "completed" with its contract.
func (a *api) signature(w http.ResponseWriter, r *http.Request, c *call) error {
	s, err := a.signer(c.p)
	if err != nil {
		return err
	}
	st, err := s.Check(r.Context(), c.p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return ok(w, st)
}
