package customers

import (
	"context"
	"crypto"

	"esign/internal/esign"
	"esign/internal/tsa"
)

// StampFor obtains an RFC 3161 token over a SHA-256 digest on behalf of
// the principal's app: the combined M1 and M2 of the signing protocol
// (docs/protocol.md, "One request instead of two"), where the server
// time-stamps the very bytes the app would otherwise have sent to
// /api/timestamp. It counts towards the app's /api/timestamp limit
// (mobile.timestamp_per_app), so the combined form buys no more tokens
// than the separate one. Unlike Timestamp it records nothing: the caller
// stores the token with the signature. Errors: Invalid (digest_length),
// TooMany, Unavailable, Timeout.
func (s *Service) StampFor(ctx context.Context, p *Principal, digest []byte) (*tsa.Token, error) {
	const op = "customers.StampFor"
	if len(digest) != crypto.SHA256.Size() {
		return nil, esign.WithCode(op, esign.Invalid, "digest_length", "the digest is not SHA-256")
	}
	if s.tsa == nil {
		return nil, esign.E(op, esign.Unavailable, "the time-stamping authority is not configured")
	}
	key := "timestamp:customer:" + p.Customer.ID
	if p.App != nil {
		key = "timestamp:app:" + p.App.ID // the key of /api/timestamp
	}
	if err := s.allow(ctx, op, key, s.cfg.TimestampPerApp); err != nil {
		return nil, err
	}
	tok, err := s.tsa.Timestamp(ctx, digest, crypto.SHA256)
	if err != nil {
		return nil, esign.E(op, err)
	}
	return tok, nil
}
