package customers

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"

	"esign/internal/esign"
	"esign/internal/sqlstore"
)

// Bearer token prefixes: a device token (from /api/app/register) and a
// customer session token (from /api/customer/login).
const (
	DeviceTokenPrefix  = "esd_"
	SessionTokenPrefix = "ess_"
)

// newToken returns a fresh bearer token with 256 random bits and the hash
// under which it is stored.
func newToken(prefix string) (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

// hashToken is the stored form of a bearer token. The token has 256 random
// bits, so an unkeyed hash is enough: the database leaks nothing usable.
func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// CodeDigits is the length of an SMS code.
const CodeDigits = 6

func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// codeHash is the keyed hash a code is stored under, bound to its purpose,
// customer and binding (for a signing code: the signature, the offer and
// its document hashes).
func (s *Service) codeHash(purpose esign.TokenPurpose, customerID, binding, code string) string {
	return s.mac("esign-code-v1", string(purpose), customerID, binding, code)
}

// passwordProof is the keyed hash a session keeps of the password its
// login proved, bound to the session, the customer and the stored password
// hash (a changed password no longer matches). Without the key it reveals
// nothing; with it, guessing the password still needs one HMAC per guess
// for each session, which is why it lives only as long as the session.
func (s *Service) passwordProof(tokenHash string, c *esign.Customer, pw string) string {
	return s.mac("esign-session-password-v1", tokenHash, c.ID, c.PasswordHash, pw)
}

// mac is HMAC-SHA256 under the code key of the NUL-terminated parts, hex.
func (s *Service) mac(parts ...string) string {
	m := hmac.New(sha256.New, s.cfg.CodeKey)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil))
}

func validCodeFormat(code string) bool {
	if len(code) != CodeDigits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// issueCode creates a code for the customer and purpose inside tx,
// invalidating the previous ones, after the per-challenge, per-number and
// global send caps. The caller enqueues the SMS in the same transaction.
// Errors: TooMany (code sms_limit), Invalid (no phone number).
func (s *Service) issueCode(ctx context.Context, tx *sqlstore.Tx, c *esign.Customer, purpose esign.TokenPurpose, appID, signatureID, binding string) (string, time.Time, error) {
	const op = "customers.issueCode"
	if c.Phone == "" {
		return "", time.Time{}, esign.WithCode(op, esign.Invalid, "no_phone", "the customer has no phone number")
	}
	now := s.now()
	// Signing codes are capped per signature: a customer may sign many
	// offers in an hour, and the phone number's cap still applies.
	n, err := tx.CountVerificationTokens(ctx, c.ID, purpose, signatureID, now.Add(-time.Hour+s.cfg.CodeTTL))
	if err != nil {
		return "", time.Time{}, esign.E(op, err)
	}
	if n >= s.cfg.CodeSendsPerHour {
		return "", time.Time{}, esign.WithCode(op, esign.TooMany, "sms_limit", "too many codes requested, try again later")
	}
	if err := s.allow(ctx, op, "code-sms:"+c.Phone, s.cfg.SMSPerNumber); err != nil {
		return "", time.Time{}, esign.WithCode(op, esign.TooMany, "sms_limit", "too many codes requested, try again later")
	}
	if err := s.allow(ctx, op, "code-sms:global", s.cfg.SMSGlobal); err != nil {
		return "", time.Time{}, esign.WithCode(op, esign.TooMany, "sms_limit", "too many codes requested, try again later")
	}
	if _, err := tx.InvalidateVerificationTokens(ctx, c.ID, purpose, signatureID, now); err != nil {
		return "", time.Time{}, esign.E(op, err)
	}
	code := newCode()
	exp := now.Add(s.cfg.CodeTTL)
	t := &esign.VerificationToken{CustomerID: c.ID, AppID: appID, SignatureID: signatureID, Purpose: purpose,
		TokenHash: s.codeHash(purpose, c.ID, binding, code), ExpiresAt: exp}
	if err := tx.CreateVerificationToken(ctx, t); err != nil {
		return "", time.Time{}, esign.E(op, err)
	}
	return code, exp, nil
}

// errBadCode is the one answer for a wrong, expired, used or dead
// association code: an app that is not yet associated learns nothing about
// the codes sent to a phone number.
func errBadCode(op string) error {
	return esign.WithCode(op, esign.Invalid, "invalid_code", "the code is wrong or expired")
}

// codeMatch is how a submitted code compared with the newest usable one.
type codeMatch struct {
	token *esign.VerificationToken // the matching code, not consumed; nil: no match
	left  int                      // attempts left on the newest code after this one
	none  bool                     // there is no usable code: expired, used or replaced
}

// errCode is the answer of a signing-code check that did not match: the
// customer owns the challenge, so it says how many attempts are left.
// Errors: Invalid (invalid_code, with AttemptsLeft).
func (r codeMatch) errCode(op string) error {
	msg := fmt.Sprintf("the SMS code is wrong (attempts left: %d)", r.left)
	switch {
	case r.none:
		msg = "the SMS code expired or was already used"
	case r.left == 0:
		msg = "the SMS code was entered wrongly too many times"
	}
	left := r.left
	return &esign.Error{Op: op, Kind: esign.Invalid, Code: "invalid_code", Msg: msg, AttemptsLeft: &left}
}

// matchCode compares code with the newest usable code of the customer and
// purpose (and signature) without consuming it. A wrong code counts an
// attempt, and the challenge dies at CodeMaxAttempts.
func (s *Service) matchCode(ctx context.Context, customerID string, purpose esign.TokenPurpose, signatureID, binding, code string) (codeMatch, error) {
	now := s.now()
	ts, err := s.db.ListVerificationTokens(ctx, esign.VerificationTokenFilter{CustomerID: customerID, Purpose: purpose,
		SignatureID: signatureID, UsableAt: now, Page: esign.Page{Limit: 1}})
	if err != nil {
		return codeMatch{}, err
	}
	if len(ts) == 0 || (signatureID == "" && ts[0].SignatureID != "") {
		return codeMatch{none: true}, nil
	}
	t := ts[0]
	if t.Attempts >= s.cfg.CodeMaxAttempts {
		return codeMatch{}, nil
	}
	want := s.codeHash(purpose, customerID, binding, strings.TrimSpace(code))
	if validCodeFormat(code) && subtle.ConstantTimeCompare([]byte(want), []byte(t.TokenHash)) == 1 {
		return codeMatch{token: t, left: s.cfg.CodeMaxAttempts - t.Attempts}, nil
	}
	n, err := s.db.FailVerificationToken(ctx, t.ID, s.cfg.CodeMaxAttempts)
	if err != nil {
		return codeMatch{}, err
	}
	return codeMatch{left: max(s.cfg.CodeMaxAttempts-n, 0)}, nil
}

// consumeCode marks a matched code used: one conditional UPDATE, so of
// concurrent submissions exactly one succeeds. st is the database or the
// caller's transaction.
func (s *Service) consumeCode(ctx context.Context, st codeStore, t *esign.VerificationToken) (bool, error) {
	return st.ConsumeVerificationToken(ctx, t.ID, t.TokenHash, s.now(), s.cfg.CodeMaxAttempts)
}

// codeStore is what consumeCode needs (*sqlstore.DB or *sqlstore.Tx).
type codeStore interface {
	ConsumeVerificationToken(ctx context.Context, id, tokenHash string, now time.Time, maxAttempts int) (bool, error)
}

// checkCode consumes the newest usable association code of the customer
// if it is code. Errors: Invalid (invalid_code).
func (s *Service) checkCode(ctx context.Context, customerID string, purpose esign.TokenPurpose, code string) error {
	const op = "customers.checkCode"
	r, err := s.matchCode(ctx, customerID, purpose, "", "", code)
	if err != nil {
		return esign.E(op, err)
	}
	if r.token == nil {
		return errBadCode(op)
	}
	ok, err := s.consumeCode(ctx, s.db, r.token)
	if err != nil {
		return esign.E(op, err)
	}
	if !ok {
		return errBadCode(op)
	}
	return nil
}
