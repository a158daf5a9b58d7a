package customers

import (
	"context"
	"strconv"
	"strings"
	"time"

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
	hs := make([]string, len(docs))
	for i, d := range docs {
		hs[i] = d.SHA256
	}
	return bindingOf(g, hs), nil
}

// bindingMaxDocuments is how many documents signatureBinding's list
// returns (the store's default page): a binding made from hashes read
// otherwise stops at the same one.
const bindingMaxDocuments = 100

// bindingOf is the binding of g with the hashes (hex) of its offer's
// documents in order.
func bindingOf(g *esign.Signature, docHashes []string) string {
	parts := []string{g.ID, g.OfferID}
	parts = append(parts, docHashes[:min(len(docHashes), bindingMaxDocuments)]...)
	return strings.Join(parts, ":")
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
		return s.enqueueCode(ctx, tx, g, c, code, exp)
	})
	if err != nil {
		return esign.E(op, err)
	}
	return nil
}

// FirstCode is the first signing code of a signature that M1 is
// creating: the token to store with the signature, in M1's transaction,
// and its SMS to enqueue in the same transaction (Enqueue).
type FirstCode struct {
	Token *esign.VerificationToken
	s     *Service
	g     *esign.Signature
	c     *esign.Customer
	code  string
}

// FirstTwoFactorCode makes the first signing code of g, the signature M1
// is creating (g.ID chosen already: the code is bound to it) with the
// customer c, whose offer's documents have the hashes docHashes (hex, in
// order): SendTwoFactorCode inside M1's transaction, without reading again
// what M1 has. A new signature has no code yet, so neither the
// per-signature cap nor the invalidation of older codes has anything to
// do. The caller stores Token with the signature and calls Enqueue in the
// same transaction. The error is a refusal, before anything is written
// (no_phone, sms_limit of the number or the service, the limiter
// unavailable): M1 stores the signature still and answers it, as when the
// code was sent on its own.
func (s *Service) FirstTwoFactorCode(ctx context.Context, g *esign.Signature, c *esign.Customer, docHashes []string) (*FirstCode, error) {
	const op = "customers.SendTwoFactorCode"
	if c.Phone == "" {
		return nil, esign.E(op, esign.WithCode("customers.issueCode", esign.Invalid, "no_phone", "the customer has no phone number"))
	}
	if err := s.allow(ctx, op, "code-sms:"+c.Phone, s.cfg.SMSPerNumber); err != nil {
		return nil, esign.E(op, smsLimit("customers.issueCode", err))
	}
	if err := s.allow(ctx, op, "code-sms:global", s.cfg.SMSGlobal); err != nil {
		return nil, esign.E(op, smsLimit("customers.issueCode", err))
	}
	code := newCode()
	t := &esign.VerificationToken{CustomerID: c.ID, AppID: g.AppID, SignatureID: g.ID, Purpose: esign.TokenTwoFactor,
		TokenHash: s.codeHash(esign.TokenTwoFactor, c.ID, bindingOf(g, docHashes), code), ExpiresAt: s.now().Add(s.cfg.CodeTTL)}
	return &FirstCode{Token: t, s: s, g: g, c: c, code: code}, nil
}

// Enqueue enqueues the code's SMS in tx, the transaction that stores the
// code.
func (f *FirstCode) Enqueue(ctx context.Context, tx *sqlstore.Tx) error {
	if err := f.s.enqueueCode(ctx, tx, f.g, f.c, f.code, f.Token.ExpiresAt); err != nil {
		return esign.E("customers.SendTwoFactorCode", err)
	}
	return nil
}

// enqueueCode enqueues the SMS of a signing code in tx, the code's
// transaction. The key names the signature (and the code's issue, so that
// a resent code is a new message).
func (s *Service) enqueueCode(ctx context.Context, tx *sqlstore.Tx, g *esign.Signature, c *esign.Customer, code string, exp time.Time) error {
	_, err := s.queue.Enqueue(ctx, tx.SQLTx(), jobs.Notification{Kind: notify.TwoFactorCode, Channel: notify.SMS,
		Lang: notify.ParseLang(c.Locale), To: c.Phone, Params: notify.Params{Code: code, ExpiresAt: exp},
		Key: TwoFactorKeyPrefix(g.ID) + strconv.FormatInt(exp.UnixNano(), 36)})
	return err
}

// SecondFactor is the second factor of a signature that CheckTwoFactor
// confirmed: the signing code it matched, still unspent.
type SecondFactor struct {
	SignatureID string
	token       *esign.VerificationToken
	activity    *esign.Activity // recorded with the spend (CheckSigningFactor); nil: recorded already
}

// TakeActivity hands the step's activity (signature.m2, CheckSigningFactor)
// to the caller, who stores it in the verdict's transaction with its other
// rows; SpendTwoFactor then does not write it. Nil: recorded already.
func (f *SecondFactor) TakeActivity() *esign.Activity {
	a := f.activity
	f.activity = nil
	return a
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
	f, err := s.checkFactor(ctx, op, p, g, nil, nil, username, pw, code, m)
	if err != nil {
		return nil, err
	}
	if err := s.db.CreateActivity(ctx, activity(g.CustomerID, g.OfferID, kind, `{"signature_id":"`+g.ID+`"}`, m)); err != nil {
		return nil, esign.E(op, err)
	}
	return f, nil
}

// CheckSigningFactor is CheckTwoFactor for the M2 that claimed g: the
// caller read g, its customer c and the hashes of the offer's documents
// in order (hex, as stored) already, so they are not read again. The
// signature.m2 activity is recorded by SpendTwoFactor, in the verdict's
// transaction (or by the caller: TakeActivity).
func (s *Service) CheckSigningFactor(ctx context.Context, p *Principal, g *esign.Signature, c *esign.Customer, docHashes []string,
	username, pw, code string, m Meta) (*SecondFactor, error) {
	const op = "customers.CheckTwoFactor"
	if g.CustomerID != p.Customer.ID || c.ID != g.CustomerID {
		return nil, esign.E(op, esign.NotFound, "signature not found")
	}
	f, err := s.checkFactor(ctx, op, p, g, c, docHashes, username, pw, code, m)
	if err != nil {
		return nil, err
	}
	f.activity = activity(c.ID, g.OfferID, "signature.m2", `{"signature_id":"`+g.ID+`"}`, m)
	return f, nil
}

// checkFactor checks the second factor of the customer's signature g: its
// state, the password (c, or read when nil), the user name and the code
// bound to the offer's documents (docHashes, or read when nil).
func (s *Service) checkFactor(ctx context.Context, op string, p *Principal, g *esign.Signature, c *esign.Customer, docHashes []string,
	username, pw, code string, m Meta) (*SecondFactor, error) {
	// m2_received: the signing workflow claimed the signature to verify
	// M2 with this second factor.
	if g.Status != esign.SignatureM1Received && g.Status != esign.SignatureM2Received {
		return nil, esign.WithCode(op, esign.Invalid, "signature_state", "the signature does not wait for its second factor")
	}
	if err := s.allow(ctx, op, "login:app:"+p.App.ID, s.cfg.LoginPerApp); err != nil {
		return nil, err
	}
	var err error
	if c == nil {
		if c, err = s.db.GetCustomer(ctx, p.Customer.ID); err != nil {
			return nil, esign.E(op, err)
		}
	}
	if err := s.verifyPassword(ctx, op, c, pw, &p.Session, m); err != nil {
		return nil, err
	}
	if username != c.Username || username != g.Username {
		return nil, errCredentials(op)
	}
	var binding string
	if docHashes != nil {
		binding = bindingOf(g, docHashes)
	} else if binding, err = signatureBinding(ctx, s.db, g); err != nil {
		return nil, esign.E(op, err)
	}
	r, err := s.matchCode(ctx, c.ID, esign.TokenTwoFactor, g.ID, binding, code)
	if err != nil {
		return nil, esign.E(op, err)
	}
	if r.token == nil {
		return nil, r.errCode(op)
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
	if f.activity != nil {
		if err := tx.CreateActivity(ctx, f.activity); err != nil {
			return esign.E(op, err)
		}
	}
	return nil
}
