package signing

import (
	"context"
	"encoding/json"

	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/tsa"
)

// Stamper obtains a time-stamp token over a SHA-256 digest on behalf of
// the principal's app (*customers.Service: the TSA client of
// /api/timestamp, under its per-app limit).
type Stamper interface {
	StampFor(ctx context.Context, p *customers.Principal, digest []byte) (*tsa.Token, error)
}

var _ Stamper = (*customers.Service)(nil)

// OneShot is the Service with the combined messages of docs/protocol.md
// ("One request instead of two"): an M1 without TS1 and an M2 without TS3
// are completed by the server, which obtains the missing token from its
// TSA over exactly the bytes the device would have time-stamped, and then
// handled by Service.M1 and Service.M2 as if the device had sent them
// complete. TS2 stays the device's: the customer signature it signs
// covers it. A message that carries its token is passed on untouched.
type OneShot struct {
	*Service
	tsa Stamper
}

// NewOneShot returns s with the combined messages, time-stamped through
// st.
func NewOneShot(s *Service, st Stamper) *OneShot { return &OneShot{Service: s, tsa: st} }

// stamp obtains the token over data for the principal.
func (o *OneShot) stamp(ctx context.Context, p *customers.Principal, data []byte) ([]byte, error) {
	tok, err := o.tsa.StampFor(ctx, p, sha(data))
	if err != nil {
		return nil, err
	}
	return tok.DER, nil
}

// M1 is Service.M1; an M1 without TS1 gets the token over its TS1 data
// (["esign/ts1", signedData, rawData] with the customer's user name, as
// the server rebuilds it) first. m.TS1 holds the token afterwards, for
// the answer: the device waits out its accuracy before it asks for TS2.
// Errors: those of Service.M1, and TooMany or Unavailable from the TSA.
func (o *OneShot) M1(ctx context.Context, p *customers.Principal, m *M1) (*M1Result, error) {
	const op = "signing.M1"
	if len(m.TS1) == 0 && p.Customer.Username != "" {
		raw, err := M1Raw(m.PublicKey, p.Customer.Username, m.Algorithm, m.OfferID)
		if err != nil {
			return nil, esign.E(op, err)
		}
		data, err := TS1Data(m.SignedData, raw)
		if err != nil {
			return nil, esign.E(op, err)
		}
		if m.TS1, err = o.stamp(ctx, p, data); err != nil {
			return nil, esign.E(op, err)
		}
	}
	return o.Service.M1(ctx, p, m)
}

// M2 is Service.M2; an M2 without TS3 gets the token over its TS3 data
// (["esign/ts3", customerSignatureHash, customerSignature, signedTs3]
// from the message's fields) first, and m.TS3 holds it afterwards. The
// stored message carries that token, so a retry of the same combined M2
// (its answer lost) takes the first one's TS3 again and gets the first
// answer, as an identical separate-form M2 does. Errors: those of
// Service.M2, and TooMany or Unavailable from the TSA.
func (o *OneShot) M2(ctx context.Context, p *customers.Principal, m *M2, meta customers.Meta) (*M2Result, error) {
	const op = "signing.M2"
	if len(m.TS3) != 0 {
		return o.Service.M2(ctx, p, m, meta)
	}
	if len(m.Photo) > MaxPhoto || len(m.DeviceInfo) > MaxDeviceInfo || len(m.Offers) > 1000 {
		return o.Service.M2(ctx, p, m, meta) // refused before anything is time-stamped
	}
	data, err := TS3Data(m.fields(), m.TS2, m.CustomerSignatureHash, m.SignedTS3)
	if err != nil {
		return nil, esign.E(op, err)
	}
	if m.TS3, err = o.stamp(ctx, p, data); err != nil {
		return nil, esign.E(op, err)
	}
	r, err := o.Service.M2(ctx, p, m, meta)
	if esign.ErrorCode(err) != "signature_state" {
		return r, err
	}
	// Already handled (or being handled): a retry of this message?
	// Only the first TS3 can make it the same message.
	first, ferr := o.firstTS3(ctx, m.SignatureID)
	if ferr != nil || first == nil {
		return nil, err
	}
	m.TS3 = first
	return o.Service.M2(ctx, p, m, meta)
}

// firstTS3 returns the TS3 of the M2 stored for the signature (the first
// one handled), or nil when none is stored.
func (o *OneShot) firstTS3(ctx context.Context, sigID string) ([]byte, error) {
	ev, err := o.evidence(ctx, sigID)
	if err != nil || ev[dataM2Request] == nil {
		return nil, err
	}
	var first M2
	if err := json.Unmarshal(ev[dataM2Request], &first); err != nil {
		return nil, err
	}
	return first.TS3, nil
}
