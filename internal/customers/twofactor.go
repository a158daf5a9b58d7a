package customers

import (
	"context"
	"strconv"
	"strings"

	"esign/internal/esign"
	"esign/internal/jobs"
	"esign/internal/notify"
	"esign/internal/sqlstore"
)

// signatureBinding is what a signing code is bound to: the signature, its
// offer and the hashes of the offer's documents in order. A code sent for
// one set of documents does not authorise another.
func signatureBinding(ctx context.Context, tx interface {
	ListDocuments(context.Context, esign.DocumentFilter) ([]*esign.Document, error)
}, g *esign.Signature) (string, error) {
	docs, err := tx.ListDocuments(ctx, esign.DocumentFilter{OfferID: g.OfferID})
	if err != nil {
		return "", err
	}
	parts := []string{g.ID, g.OfferID}
	for _, d := range docs {
		parts = append(parts, d.SHA256)
	}
	return strings.Join(parts, ":"), nil
}

// TwoFactorKeyPrefix starts the notification key of every signing code
// sent for the signature.
func TwoFactorKeyPrefix(signatureID string) string { return "two-factor-" + signatureID + "-" }

// SendTwoFactorCode sends the signing 2FA code of a signature (the M1 step
// calls it) by SMS, in one transaction with the code. Errors: NotFound,
// Invalid (signature_state, no_phone), TooMany (sms_limit).
func (s *Service) SendTwoFactorCode(ctx context.Context, signatureID string) error {
	const op = "customers.SendTwoFactorCode"
	err := s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		g, err := tx.GetSignature(ctx, signatureID)
		if err != nil {
			return err
		}
		if g.Status != esign.SignatureM1Received {
			return esign.WithCode(op, esign.Invalid, "signature_state", "the signature does not wait for its second factor")
		}
		c, err := tx.GetCustomer(ctx, g.CustomerID)
		if err != nil {
			return err
		}
		binding, err := signatureBinding(ctx, tx, g)
		if err != nil {
			return err
		}
		code, exp, err := s.issueCode(ctx, tx, c, esign.TokenTwoFactor, g.AppID, g.ID, binding)
		if err != nil {
			return err
		}
		// The key names the signature (and the code's issue, so that a
		// resent code is a new message).
		_, err = s.queue.Enqueue(ctx, tx.SQLTx(), jobs.Notification{Kind: notify.TwoFactorCode, Channel: notify.SMS,
			Lang: notify.ParseLang(c.Locale), To: c.Phone, Params: notify.Params{Code: code, ExpiresAt: exp},
			Key: TwoFactorKeyPrefix(g.ID) + strconv.FormatInt(exp.UnixNano(), 36)})
		return err
	})
	if err != nil {
		return esign.E(op, err)
	}
	return nil
}

// SecondFactor is the second factor of a signature that CheckTwoFactor
// confirmed: the signing code it matched, still unspent.
type SecondFactor struct {
	SignatureID string
	token       *esign.VerificationToken
}

// TwoFactorAuth checks the second factor of a signature (the 2f-auth
// endpoint): the customer's username and password and the SMS code, as
// CheckTwoFactor does. It does not spend the code: the M2 of the same
// signature carries the same code and spends it with its verdict.
func (s *Service) TwoFactorAuth(ctx context.Context, p *Principal, signatureID, username, pw, code string, m Meta) error {
	_, err := s.checkTwoFactor(ctx, p, signatureID, username, pw, code, m, "signature.second_factor")
	return err
}

// CheckTwoFactor checks the second factor of a signature: the customer's
// username and password (under the lockout policy) and the SMS code sent
// for this signature and these documents, without spending the code. A
// wrong code counts one of the code's CodeMaxAttempts; its error carries
// the attempts left (esign.ErrorAttemptsLeft), 0 when the code is dead:
// entered wrongly too often, expired, used or replaced by a newer one.
// Errors: NotFound (not the customer's signature), Invalid
// (signature_state, invalid_code), Unauthorized (invalid_credentials),
// TooMany (rate_limited).
func (s *Service) CheckTwoFactor(ctx context.Context, p *Principal, signatureID, username, pw, code string, m Meta) (*SecondFactor, error) {
	return s.checkTwoFactor(ctx, p, signatureID, username, pw, code, m, "signature.m2")
}

// checkTwoFactor is CheckTwoFactor recording the activity kind of the
// step: signature.second_factor for 2f-auth, signature.m2 for the M2
// verification, so that the offer's timeline tells the two apart.
func (s *Service) checkTwoFactor(ctx context.Context, p *Principal, signatureID, username, pw, code string, m Meta, kind string) (*SecondFactor, error) {
	const op = "customers.CheckTwoFactor"
	g, err := s.db.GetSignature(ctx, signatureID)
	if esign.IsKind(err, esign.NotFound) || (err == nil && g.CustomerID != p.Customer.ID) {
		return nil, esign.E(op, esign.NotFound, "signature not found")
	}
	if err != nil {
		return nil, esign.E(op, err)
	}
	// m2_received: the signing workflow claimed the signature to verify
	// M2 with this second factor.
	if g.Status != esign.SignatureM1Received && g.Status != esign.SignatureM2Received {
		return nil, esign.WithCode(op, esign.Invalid, "signature_state", "the signature does not wait for its second factor")
	}
	if err := s.allow(ctx, op, "login:app:"+p.App.ID, s.cfg.LoginPerApp); err != nil {
		return nil, err
	}
	c, err := s.db.GetCustomer(ctx, p.Customer.ID)
	if err != nil {
		return nil, esign.E(op, err)
	}
	if err := s.verifyPassword(ctx, op, c, pw, &p.Session, m); err != nil {
		return nil, err
	}
	if username != c.Username || username != g.Username {
		return nil, errCredentials(op)
	}
	binding, err := signatureBinding(ctx, s.db, g)
	if err != nil {
		return nil, esign.E(op, err)
	}
	r, err := s.matchCode(ctx, c.ID, esign.TokenTwoFactor, g.ID, binding, code)
	if err != nil {
		return nil, esign.E(op, err)
	}
	if r.token == nil {
		return nil, r.errCode(op)
	}
	if err := s.db.CreateActivity(ctx, activity(c.ID, g.OfferID, kind, `{"signature_id":"`+g.ID+`"}`, m)); err != nil {
		return nil, esign.E(op, err)
	}
	return &SecondFactor{SignatureID: g.ID, token: r.token}, nil
}

// SpendTwoFactor spends the code of a confirmed second factor inside tx,
// the transaction that records the signature's verdict: a verdict that
// does not commit leaves the code unspent, and a code spent meanwhile (or
// expired, or replaced) fails the verdict. The spent code's keyed hash
// stays as evidence. Errors: Invalid (invalid_code, no attempts left).
func (s *Service) SpendTwoFactor(ctx context.Context, tx *sqlstore.Tx, f *SecondFactor) error {
	const op = "customers.SpendTwoFactor"
	ok, err := s.consumeCode(ctx, tx, f.token)
	if err != nil {
		return esign.E(op, err)
	}
	if !ok {
		return codeMatch{none: true}.errCode(op)
	}
	return nil
}
