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

// TwoFactorAuth checks the second factor of a signature: the customer's
// username and password (under the lockout policy) and the SMS code sent
// for this signature and these documents, which it consumes. The signing
// workflow verifies M2 afterwards; the consumed code's hash stays as
// evidence. Errors: NotFound (not the customer's signature), Invalid
// (signature_state, invalid_code), Unauthorized (invalid_credentials).
func (s *Service) TwoFactorAuth(ctx context.Context, p *Principal, signatureID, username, pw, code string, m Meta) error {
	const op = "customers.TwoFactorAuth"
	g, err := s.db.GetSignature(ctx, signatureID)
	if esign.IsKind(err, esign.NotFound) || (err == nil && g.CustomerID != p.Customer.ID) {
		return esign.E(op, esign.NotFound, "signature not found")
	}
	if err != nil {
		return esign.E(op, err)
	}
	// m2_received: the signing workflow claimed the signature to verify
	// M2 with this second factor.
	if g.Status != esign.SignatureM1Received && g.Status != esign.SignatureM2Received {
		return esign.WithCode(op, esign.Invalid, "signature_state", "the signature does not wait for its second factor")
	}
	if err := s.allow(ctx, op, "login:app:"+p.App.ID, s.cfg.LoginPerApp); err != nil {
		return err
	}
	c, err := s.db.GetCustomer(ctx, p.Customer.ID)
	if err != nil {
		return esign.E(op, err)
	}
	if err := s.verifyPassword(ctx, op, c, pw, &p.Session); err != nil {
		return err
	}
	if username != c.Username || username != g.Username {
		return errCredentials(op)
	}
	binding, err := signatureBinding(ctx, s.db, g)
	if err != nil {
		return esign.E(op, err)
	}
	if err := s.checkCode(ctx, c.ID, esign.TokenTwoFactor, g.ID, binding, code); err != nil {
		return err
	}
	if err := s.db.CreateActivity(ctx, activity(c.ID, g.OfferID, "signature.second_factor", `{"signature_id":"`+g.ID+`"}`, m)); err != nil {
		return esign.E(op, err)
	}
	return nil
}
