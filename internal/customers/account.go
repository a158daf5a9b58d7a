package customers

import (
	"context"
	"strings"
	"time"

	"esign/internal/esign"
	"esign/internal/jobs"
	"esign/internal/notify"
	"esign/internal/password"
	"esign/internal/sqlstore"
)

// webAccountBinding binds the SMS codes of an account made from a link:
// they are association codes (they prove the registered phone, like the
// app's), but one sent for the web does not associate an app, nor the
// reverse.
const webAccountBinding = "web-account"

// WebAccount is what a short link tells about the account its customer
// may create in the customer web UI.
type WebAccount struct {
	PhoneHint string    // the registered phone number, masked (+36*******567)
	ExpiresAt time.Time // of the code just sent (SendWebAccountCode only)
}

// linkCustomer is the customer of the offer a short link leads to, when
// that customer may still create an account: requests are limited per
// client address (mobile.register_per_ip_per_10min), like link
// resolutions. Errors: NotFound (unknown or expired link), Forbidden
// (customer_inactive), Conflict (already_created: the customer has a
// username), TooMany (rate_limited).
func (s *Service) linkCustomer(ctx context.Context, op, code string, m Meta) (*esign.Customer, error) {
	if err := s.allow(ctx, op, "account:ip:"+m.IP, s.cfg.RegisterPerIP); err != nil {
		return nil, err
	}
	if code == "" || len(code) > 32 {
		return nil, esign.E(op, esign.NotFound, "link not found")
	}
	x, err := s.db.ResolveShortener(ctx, code, s.now())
	if err != nil {
		return nil, esign.E(op, err)
	}
	offerID, ok := strings.CutPrefix(x.TargetURL, "/o/")
	if !ok {
		return nil, esign.E(op, esign.NotFound, "the link leads to no offer")
	}
	o, err := s.db.GetOffer(ctx, offerID)
	if err != nil {
		return nil, esign.E(op, err)
	}
	c, err := s.db.GetCustomer(ctx, o.CustomerID)
	if err != nil {
		return nil, esign.E(op, err)
	}
	switch {
	case c.Status == esign.CustomerBlocked || c.Status == esign.CustomerDeleted:
		return nil, esign.WithCode(op, esign.Forbidden, "customer_inactive", "the customer is blocked or deleted")
	case c.Username != "":
		return nil, esign.WithCode(op, esign.Conflict, "already_created", "the account already has a username")
	}
	return c, nil
}

// WebAccountStart checks that the short link's customer may create an
// account in the web UI and tells where the code will go. Errors: those
// of the link (NotFound, Forbidden customer_inactive, Conflict
// already_created, TooMany rate_limited).
func (s *Service) WebAccountStart(ctx context.Context, code string, m Meta) (*WebAccount, error) {
	const op = "customers.WebAccountStart"
	c, err := s.linkCustomer(ctx, op, code, m)
	if err != nil {
		return nil, err
	}
	if c.Phone == "" {
		return nil, esign.WithCode(op, esign.Invalid, "no_phone", "the customer has no phone number")
	}
	return &WebAccount{PhoneHint: notify.MaskPhone(c.Phone)}, nil
}

// SendWebAccountCode sends an SMS code to the phone number the bank
// registered for the short link's customer: the proof that the person at
// the browser holds it. A new code replaces the previous one; the sends
// are capped like every code's (per customer, per number, system-wide).
// Errors: those of WebAccountStart, TooMany (sms_limit).
func (s *Service) SendWebAccountCode(ctx context.Context, code string, m Meta) (*WebAccount, error) {
	const op = "customers.SendWebAccountCode"
	c, err := s.linkCustomer(ctx, op, code, m)
	if err != nil {
		return nil, err
	}
	var exp time.Time
	err = s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		var sms string
		if sms, exp, err = s.issueCode(ctx, tx, c, esign.TokenAssociation, "", "", webAccountBinding); err != nil {
			return err
		}
		_, err := s.queue.Enqueue(ctx, tx.SQLTx(), jobs.Notification{Kind: notify.AccountCode, Channel: notify.SMS,
			Lang: notify.ParseLang(c.Locale), To: c.Phone, Params: notify.Params{Code: sms, ExpiresAt: exp}})
		return err
	})
	if err != nil {
		return nil, esign.E(op, err)
	}
	return &WebAccount{PhoneHint: notify.MaskPhone(c.Phone), ExpiresAt: exp}, nil
}

// CreateWebAccount creates the short link's customer's username and
// password under the rules of the app's check-username and check-password,
// once the SMS code of SendWebAccountCode proves the registered phone, and
// signs the customer in (a web session, as WebLogin). The customer's
// status does not change: a pending customer waits for the operator's
// approval exactly as after the app's onboarding. The code is checked only
// after the username and password pass their rules, so a typo there costs
// no attempt; a wrong code costs one (CodeMaxAttempts, then it is dead).
// The rules' errors carry the app's codes prefixed with the field, so
// one answer tells which field to mend: username_too_short,
// username_too_long, username_pattern_mismatch, username_unavailable,
// password_too_short, password_too_long, password_pattern_mismatch.
// Errors: those of the link; Invalid (the rules; invalid_code with
// AttemptsLeft), Conflict (username_unavailable), TooMany (rate_limited:
// mobile.login_per_app_per_10min per customer).
func (s *Service) CreateWebAccount(ctx context.Context, code, smsCode, username, pw string, m Meta) (*LoggedIn, error) {
	const op = "customers.CreateWebAccount"
	c, err := s.linkCustomer(ctx, op, code, m)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, op, "account:customer:"+c.ID, s.cfg.LoginPerApp); err != nil {
		return nil, err
	}
	if err := s.CheckUsername(ctx, username); err != nil {
		return nil, fieldError(op, "username", err)
	}
	if err := CheckPassword(pw); err != nil {
		return nil, fieldError(op, "password", err)
	}
	r, err := s.matchCode(ctx, c.ID, esign.TokenAssociation, "", webAccountBinding, smsCode)
	if err != nil {
		return nil, esign.E(op, err)
	}
	if r.token == nil {
		return nil, r.errCode(op)
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return nil, esign.E(op, err)
	}
	err = s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		ok, err := s.consumeCode(ctx, tx, r.token)
		if err != nil {
			return err
		}
		if !ok {
			return errBadCode(op)
		}
		cur, err := tx.GetCustomer(ctx, c.ID)
		if err != nil {
			return err
		}
		if cur.Username != "" {
			return esign.WithCode(op, esign.Conflict, "already_created", "the account already has a username")
		}
		if c, err = tx.UpdateCustomer(ctx, c.ID, esign.CustomerUpdate{Username: &username, PasswordHash: &hash}); err != nil {
			if esign.IsKind(err, esign.Conflict) {
				return esign.WithCode(op, esign.Conflict, "username_unavailable", "this username is taken")
			}
			return err
		}
		return tx.CreateActivity(ctx, activity(c.ID, "", "customer.created", `{"web":true}`, m))
	})
	if err != nil {
		return nil, esign.E(op, err)
	}
	return s.webSignIn(ctx, op, c, pw, m)
}

// fieldError prefixes a rule's error code with the field it is about.
func fieldError(op, field string, err error) error {
	code := esign.ErrorCode(err)
	if code == "" {
		return err
	}
	return esign.WithCode(op, esign.ErrorKind(err), field+"_"+code, esign.ErrorMessage(err))
}
