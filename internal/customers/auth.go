package customers

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"esign/customize"
	"esign/internal/esign"
	"esign/internal/jobs"
	"esign/internal/notify"
	"esign/internal/password"
	"esign/internal/sqlstore"
)

// Username and password rules (docs/mobile-api.md).
const (
	UsernameMin = 4
	UsernameMax = 64
	PasswordMin = 10
	PasswordMax = 128
)

// CheckUsername validates the form of a username and, when ctx allows a
// database lookup, its availability. Errors: Invalid with code too_short,
// too_long or pattern_mismatch; Conflict with code unavailable.
func (s *Service) CheckUsername(ctx context.Context, username string) error {
	const op = "customers.CheckUsername"
	if err := checkUsernameForm(op, username); err != nil {
		return err
	}
	cs, err := s.db.ListCustomers(ctx, esign.CustomerFilter{Username: username, Page: esign.Page{Limit: 1}})
	if err != nil {
		return esign.E(op, err)
	}
	if len(cs) > 0 {
		return esign.WithCode(op, esign.Conflict, "unavailable", "this username is taken")
	}
	return nil
}

func checkUsernameForm(op, u string) error {
	n := utf8.RuneCountInString(u)
	switch {
	case n < UsernameMin:
		return esign.WithCode(op, esign.Invalid, "too_short", fmt.Sprintf("the username must have at least %d characters", UsernameMin))
	case n > UsernameMax:
		return esign.WithCode(op, esign.Invalid, "too_long", fmt.Sprintf("the username must have at most %d characters", UsernameMax))
	}
	for _, r := range u {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' || r == '@') {
			return esign.WithCode(op, esign.Invalid, "pattern_mismatch", "the username may contain letters, digits and . _ - @ only")
		}
	}
	return nil
}

// CheckPassword validates a new password: PasswordMin to PasswordMax
// characters with a lower-case letter, an upper-case letter and a digit.
// Errors: Invalid with code too_short, too_long or pattern_mismatch.
func CheckPassword(pw string) error {
	const op = "customers.CheckPassword"
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return esign.WithCode(op, esign.Invalid, "pattern_mismatch", "the password is not valid text")
	case n < PasswordMin:
		return esign.WithCode(op, esign.Invalid, "too_short", fmt.Sprintf("the password must have at least %d characters", PasswordMin))
	case n > PasswordMax:
		return esign.WithCode(op, esign.Invalid, "too_long", fmt.Sprintf("the password must have at most %d characters", PasswordMax))
	}
	var lower, upper, digit bool
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		case unicode.IsControl(r):
			return esign.WithCode(op, esign.Invalid, "pattern_mismatch", "the password must not contain control characters")
		}
	}
	if !lower || !upper || !digit {
		return esign.WithCode(op, esign.Invalid, "pattern_mismatch", "the password needs a lower-case letter, an upper-case letter and a digit")
	}
	return nil
}

// Registration describes a new app installation.
type Registration struct {
	DeviceID     string // IMEI or the platform's installation id
	OS           string
	OSVersion    string
	Model        string
	Manufacturer string
	AppVersion   string
	FCMToken     string
}

// Registered is the answer to a registration: the device token is shown
// once and stored only as a hash.
type Registered struct {
	AppID       string
	DeviceToken string
}

// RegisterApp registers an installation and returns its device token.
// Errors: Invalid (app_outdated: the app is older than the setting
// app.min_version), TooMany (rate_limited: too many registrations from the
// client's address).
func (s *Service) RegisterApp(ctx context.Context, r Registration, m Meta) (*Registered, error) {
	const op = "customers.RegisterApp"
	if err := s.allow(ctx, op, "register:ip:"+m.IP, s.cfg.RegisterPerIP); err != nil {
		return nil, err
	}
	if err := s.checkAppVersion(ctx, op, r.AppVersion); err != nil {
		return nil, err
	}
	token, hash := newToken(DeviceTokenPrefix)
	var app esign.App
	err := s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		app = esign.App{SessionTokenHash: hash, Status: esign.AppRegistered, Platform: r.OS, AppVersion: r.AppVersion, LastSeenAt: s.now()}
		if err := tx.CreateApp(ctx, &app); err != nil {
			return err
		}
		if err := tx.CreateDevice(ctx, &esign.Device{AppID: app.ID, IMEI: r.DeviceID, OS: r.OS, OSVersion: r.OSVersion,
			Model: r.Model, Manufacturer: r.Manufacturer}); err != nil {
			return err
		}
		if r.FCMToken != "" {
			return tx.CreateFcmInfo(ctx, &esign.FcmInfo{AppID: app.ID, Token: r.FCMToken})
		}
		return nil
	})
	if err != nil {
		return nil, esign.E(op, err)
	}
	return &Registered{AppID: app.ID, DeviceToken: token}, nil
}

// SettingMinAppVersion is the setting (the admin UI's Settings page) that
// names the oldest app version that may register, "major.minor.patch".
const SettingMinAppVersion = "app.min_version"

// checkAppVersion refuses an app older than the setting
// SettingMinAppVersion. A version that does not read as numbers (or none)
// is let through: the app cannot be judged.
func (s *Service) checkAppVersion(ctx context.Context, op, version string) error {
	min, err := s.db.GetSetting(ctx, SettingMinAppVersion)
	if esign.IsKind(err, esign.NotFound) {
		return nil
	}
	if err != nil {
		return esign.E(op, err)
	}
	have, ok := parseVersion(version)
	want, okMin := parseVersion(min.Value)
	if ok && okMin && slices.Compare(have[:], want[:]) < 0 {
		return esign.WithCode(op, esign.Invalid, "app_outdated", "this version of the app is no longer supported: update the app")
	}
	return nil
}

// parseVersion reads "1", "1.4" or "1.4.2" (a "-beta" or "+build" suffix
// ignored) as three numbers.
func parseVersion(v string) ([3]int, bool) {
	var out [3]int
	v, _, _ = strings.Cut(v, "+")
	v, _, _ = strings.Cut(v, "-")
	parts := strings.Split(v, ".")
	if v == "" || len(parts) > 3 {
		return out, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || len(p) > 6 {
			return out, false
		}
		out[i] = n
	}
	return out, true
}

func errBadToken(op string) error {
	return esign.WithCode(op, esign.Unauthorized, "invalid_token", "the token is invalid, expired or revoked")
}

// AuthenticateDevice returns the app of a device token. Errors:
// Unauthorized (invalid_token).
func (s *Service) AuthenticateDevice(ctx context.Context, token string) (*esign.App, error) {
	const op = "customers.AuthenticateDevice"
	if len(token) < 20 || token[:len(DeviceTokenPrefix)] != DeviceTokenPrefix {
		return nil, errBadToken(op)
	}
	apps, err := s.db.ListApps(ctx, esign.AppFilter{SessionTokenHash: hashToken(token), Page: esign.Page{Limit: 1}})
	if err != nil {
		return nil, esign.E(op, err)
	}
	if len(apps) == 0 || apps[0].Status == esign.AppRemoved {
		return nil, errBadToken(op)
	}
	return apps[0], nil
}

// SendAssociationCode sends the customer an SMS code that associates a
// device (the operation behind the webhook's send-association-token and the
// admin UI). Errors: NotFound, Invalid (no_phone), TooMany (sms_limit).
func (s *Service) SendAssociationCode(ctx context.Context, customerID string) error {
	const op = "customers.SendAssociationCode"
	err := s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		c, err := tx.GetCustomer(ctx, customerID)
		if err != nil {
			return err
		}
		if c.Status == esign.CustomerBlocked || c.Status == esign.CustomerDeleted {
			return esign.WithCode(op, esign.Forbidden, "customer_inactive", "the customer is blocked or deleted")
		}
		code, exp, err := s.issueCode(ctx, tx, c, esign.TokenAssociation, "", "", "")
		if err != nil {
			return err
		}
		_, err = s.queue.Enqueue(ctx, tx.SQLTx(), jobs.Notification{Kind: notify.DeviceAssociationCode, Channel: notify.SMS,
			Lang: notify.ParseLang(c.Locale), To: c.Phone, Params: notify.Params{Code: code, ExpiresAt: exp}})
		return err
	})
	if err != nil {
		return esign.E(op, err)
	}
	return nil
}

// Associate binds a registered app to the customer whose phone number
// received the code. Errors: Invalid (invalid_code), Conflict
// (already_associated).
func (s *Service) Associate(ctx context.Context, app *esign.App, phone, code string, m Meta) (*esign.Customer, error) {
	const op = "customers.Associate"
	if app.Status == esign.AppAssociated {
		return nil, esign.WithCode(op, esign.Conflict, "already_associated", "this app is already associated with an account")
	}
	if err := s.allow(ctx, op, "associate:app:"+app.ID, s.cfg.LoginPerApp); err != nil {
		return nil, err
	}
	cs, err := s.db.ListCustomersByPhone(ctx, phone, esign.Page{Limit: 20})
	if err != nil {
		return nil, esign.E(op, err)
	}
	// The customer with the newest usable association code is the one the
	// code was sent to (a resend invalidates older codes).
	var target *esign.Customer
	var newest time.Time
	for _, c := range cs {
		ts, err := s.db.ListVerificationTokens(ctx, esign.VerificationTokenFilter{CustomerID: c.ID, Purpose: esign.TokenAssociation,
			UsableAt: s.now(), Page: esign.Page{Limit: 1}})
		if err != nil {
			return nil, esign.E(op, err)
		}
		if len(ts) > 0 && ts[0].CreatedAt.After(newest) {
			target, newest = c, ts[0].CreatedAt
		}
	}
	if target == nil {
		return nil, errBadCode(op)
	}
	if err := s.checkCode(ctx, target.ID, esign.TokenAssociation, code); err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		st := esign.AppAssociated
		if _, err := tx.UpdateApp(ctx, app.ID, esign.AppUpdate{CustomerID: &target.ID, Status: &st}); err != nil {
			return err
		}
		return tx.CreateActivity(ctx, activity(target.ID, "", "app.associated", `{"app_id":"`+app.ID+`"}`, m))
	})
	if err != nil {
		return nil, esign.E(op, err)
	}
	return target, nil
}

// RemoveAccount removes the account from the device: the device token and
// every session of the app stop working, and the push token is forgotten.
func (s *Service) RemoveAccount(ctx context.Context, app *esign.App, m Meta) error {
	const op = "customers.RemoveAccount"
	_, hash := newToken(DeviceTokenPrefix)
	err := s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		st := esign.AppRemoved
		if _, err := tx.UpdateApp(ctx, app.ID, esign.AppUpdate{Status: &st, SessionTokenHash: &hash}); err != nil {
			return err
		}
		if f, err := tx.GetAppFcmInfo(ctx, app.ID); err == nil {
			if err := tx.DeleteFcmInfo(ctx, f.ID); err != nil {
				return err
			}
		} else if !esign.IsKind(err, esign.NotFound) {
			return err
		}
		if app.CustomerID != "" {
			return tx.CreateActivity(ctx, activity(app.CustomerID, "", "app.removed", `{"app_id":"`+app.ID+`"}`, m))
		}
		return nil
	})
	if err != nil {
		return esign.E(op, err)
	}
	if err := s.sessions.RevokeAppSessions(ctx, app.ID); err != nil {
		return esign.E(op, err)
	}
	return nil
}

// UpdatePushToken sets the app's FCM registration token. Errors: Invalid.
func (s *Service) UpdatePushToken(ctx context.Context, app *esign.App, token string) error {
	const op = "customers.UpdatePushToken"
	if token == "" || len(token) > 4096 {
		return esign.WithCode(op, esign.Invalid, "invalid_push_token", "the push token is empty or too long")
	}
	err := s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		f, err := tx.GetAppFcmInfo(ctx, app.ID)
		if esign.IsKind(err, esign.NotFound) {
			return tx.CreateFcmInfo(ctx, &esign.FcmInfo{AppID: app.ID, Token: token})
		}
		if err != nil {
			return err
		}
		_, err = tx.UpdateFcmToken(ctx, f.ID, token)
		return err
	})
	if err != nil {
		return esign.E(op, err)
	}
	return nil
}

// CreateCredentials sets the username and password of the app's customer.
// Errors: Forbidden (not_associated), Conflict (already_created,
// unavailable), Invalid (the username and password rules).
func (s *Service) CreateCredentials(ctx context.Context, app *esign.App, username, pw string, m Meta) error {
	const op = "customers.CreateCredentials"
	if app.Status != esign.AppAssociated {
		return esign.WithCode(op, esign.Forbidden, "not_associated", "associate the app with your account first")
	}
	if err := checkUsernameForm(op, username); err != nil {
		return err
	}
	if err := CheckPassword(pw); err != nil {
		return err
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return esign.E(op, err)
	}
	err = s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		c, err := tx.GetCustomer(ctx, app.CustomerID)
		if err != nil {
			return err
		}
		if c.Username != "" {
			return esign.WithCode(op, esign.Conflict, "already_created", "the account already has a username")
		}
		if _, err := tx.UpdateCustomer(ctx, c.ID, esign.CustomerUpdate{Username: &username, PasswordHash: &hash}); err != nil {
			if esign.IsKind(err, esign.Conflict) {
				return esign.WithCode(op, esign.Conflict, "unavailable", "this username is taken")
			}
			return err
		}
		return tx.CreateActivity(ctx, activity(c.ID, "", "customer.created", "", m))
	})
	if err != nil {
		return esign.E(op, err)
	}
	return nil
}

func errCredentials(op string) error {
	return esign.WithCode(op, esign.Unauthorized, "invalid_credentials", "wrong username or password")
}

// verifyPassword checks the customer's password under the lockout policy.
// Unknown user, wrong password, locked or inactive account all give the
// same answer (Unauthorized, invalid_credentials) after the same work.
// With a session that holds a password proof (a login in it checked the
// password with Argon2id), the password is compared with the proof: the
// same answer and the same failure counting, for one HMAC.
func (s *Service) verifyPassword(ctx context.Context, op string, c *esign.Customer, pw string, sess *Session, m Meta) error {
	match := func() (bool, error) {
		if sess != nil && sess.PasswordProof != "" {
			want := s.passwordProof(sess.TokenHash, c, pw)
			return subtle.ConstantTimeCompare([]byte(want), []byte(sess.PasswordProof)) == 1, nil
		}
		_, err := password.Verify(pw, c.PasswordHash)
		if errors.Is(err, password.ErrMismatch) {
			return false, nil
		}
		return err == nil, err
	}
	if c == nil || c.PasswordHash == "" || c.Status == esign.CustomerBlocked || c.Status == esign.CustomerDeleted {
		_ = password.VerifyDummy(pw)
		return errCredentials(op)
	}
	now := s.now()
	n, last, err := s.db.LoginFailures(ctx, c.ID)
	if err != nil {
		return esign.E(op, err)
	}
	if n >= s.cfg.LockoutThreshold {
		if now.Before(last.Add(s.cfg.LockoutDuration)) {
			_ = password.VerifyDummy(pw)
			return errCredentials(op)
		}
		if err := s.db.ResetLoginFailures(ctx, c.ID); err != nil { // the lock is over: a fresh count
			return esign.E(op, err)
		}
	}
	ok, err := match()
	if err != nil {
		return esign.E(op, err)
	}
	if !ok {
		failures, err := s.db.AddLoginFailure(ctx, c.ID, now)
		if err != nil {
			return esign.E(op, err)
		}
		// Security events for the audit chain (docs/evidence.md): every
		// failed password of a known customer, and the lockout when the
		// count reaches the threshold.
		if err := s.db.CreateAuditLog(ctx, customerAudit(c.ID, "customer.signin_failed", m)); err != nil {
			return esign.E(op, err)
		}
		if failures == s.cfg.LockoutThreshold {
			if err := s.db.CreateAuditLog(ctx, customerAudit(c.ID, "customer.lockout", m)); err != nil {
				return esign.E(op, err)
			}
		}
		return errCredentials(op)
	}
	if n > 0 {
		if err := s.db.ResetLoginFailures(ctx, c.ID); err != nil {
			return esign.E(op, err)
		}
	}
	return nil
}

// LoggedIn is the answer to a login.
type LoggedIn struct {
	SessionToken string
	ExpiresAt    time.Time
	IdleTimeout  time.Duration
	Customer     *esign.Customer
}

// Login checks the username and password of the app's customer and opens a
// new session bound to the app. The app's earlier sessions are revoked (one
// session per device). Errors: Unauthorized (invalid_credentials),
// Forbidden (not_associated), TooMany (rate_limited).
func (s *Service) Login(ctx context.Context, app *esign.App, username, pw string, m Meta) (*LoggedIn, error) {
	const op = "customers.Login"
	if app.Status != esign.AppAssociated {
		return nil, esign.WithCode(op, esign.Forbidden, "not_associated", "associate the app with your account first")
	}
	if err := s.allow(ctx, op, "login:app:"+app.ID, s.cfg.LoginPerApp); err != nil {
		return nil, err
	}
	c, err := s.customerByUsername(ctx, op, username)
	if err != nil {
		return nil, err
	}
	if err := s.verifyPassword(ctx, op, c, pw, nil, m); err != nil {
		return nil, err
	}
	if c.ID != app.CustomerID { // right password, but another customer's device
		return nil, errCredentials(op)
	}
	in, err := s.openSession(ctx, op, app, c, pw, m.UserAgent, true) // one session per device
	if err != nil {
		return nil, err
	}
	if err := s.db.CreateActivity(ctx, activity(c.ID, "", "customer.login", `{"app_id":"`+app.ID+`"}`, m)); err != nil {
		return nil, esign.E(op, err)
	}
	if err := s.db.CreateAuditLog(ctx, customerAudit(c.ID, "customer.signin", m)); err != nil {
		return nil, esign.E(op, err)
	}
	return in, nil
}

// Principal is an authenticated customer session.
type Principal struct {
	Session  Session
	App      *esign.App
	Customer *esign.Customer
}

// Approved reports whether the customer may see offers and contracts.
func (p *Principal) Approved() bool { return p.Customer.Status == esign.CustomerActive }

// AuthenticateSession returns the principal of a session token; the
// session must be neither revoked nor idle nor past its absolute expiry,
// its app still associated with its customer, and the customer not blocked.
// Errors: Unauthorized (invalid_token).
func (s *Service) AuthenticateSession(ctx context.Context, token string) (*Principal, error) {
	const op = "customers.AuthenticateSession"
	if len(token) < 20 || token[:len(SessionTokenPrefix)] != SessionTokenPrefix {
		return nil, errBadToken(op)
	}
	now := s.now()
	h := hashToken(token)
	gen, at := s.cache.start()
	sess, err := s.sessions.GetSession(ctx, h, now)
	if esign.IsKind(err, esign.NotFound) {
		return nil, errBadToken(op)
	}
	if err != nil {
		return nil, esign.E(op, err)
	}
	if !now.Before(sess.LastSeenAt.Add(s.cfg.SessionIdle)) || !now.Before(sess.ExpiresAt) {
		_ = s.sessions.RevokeSession(ctx, h)
		return nil, errBadToken(op)
	}
	app, c, err := s.db.GetAppWithCustomer(ctx, sess.AppID)
	if esign.IsKind(err, esign.NotFound) {
		return nil, errBadToken(op)
	}
	if err != nil {
		return nil, esign.E(op, err)
	}
	if app.Status != esign.AppAssociated || app.CustomerID != sess.CustomerID {
		return nil, errBadToken(op)
	}
	if c.Status == esign.CustomerBlocked || c.Status == esign.CustomerDeleted {
		return nil, errBadToken(op)
	}
	// Record use at most every few seconds: one write per request would
	// serialise a busy app's requests on the session row.
	touched := now.Sub(sess.LastSeenAt) >= sessionTouchEvery
	if touched {
		if err := s.sessions.TouchSession(ctx, h, now); err != nil && !esign.IsKind(err, esign.NotFound) {
			return nil, esign.E(op, err)
		}
	}
	p := &Principal{Session: sess, App: app, Customer: c}
	if p.Approved() {
		s.cache.put(h, p, gen, at)
		if touched {
			s.cache.seen(h, now)
		}
	}
	return p, nil
}

// sessionTouchEvery is how often a session's last use is written.
const sessionTouchEvery = 5 * time.Second

// Logout revokes the principal's session.
func (s *Service) Logout(ctx context.Context, p *Principal, m Meta) error {
	const op = "customers.Logout"
	if err := s.sessions.RevokeSession(ctx, p.Session.TokenHash); err != nil {
		return esign.E(op, err)
	}
	if err := s.db.CreateActivity(ctx, activity(p.Customer.ID, "", "customer.logout", "", m)); err != nil {
		return esign.E(op, err)
	}
	return nil
}

// Approve marks a pending customer active (operator approval) and, in the
// same transaction, sends the offer notifications held for the approval
// (Deps.Approved) and enqueues a push notification to every associated app
// with a push token. Errors: NotFound, Conflict (not_pending).
func (s *Service) Approve(ctx context.Context, customerID, userID string) (*esign.Customer, error) {
	const op = "customers.Approve"
	if err := s.approvalHook(ctx, op, customerID, userID); err != nil {
		return nil, err
	}
	var out *esign.Customer
	err := s.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		c, err := tx.GetCustomer(ctx, customerID)
		if err != nil {
			return err
		}
		if c.Status != esign.CustomerPending {
			return esign.WithCode(op, esign.Conflict, "not_pending", "the customer is not waiting for approval")
		}
		st, now := esign.CustomerActive, s.now()
		upd := esign.CustomerUpdate{Status: &st, ApprovedAt: &now}
		if userID != "" {
			upd.ApprovedBy = &userID
		}
		if out, err = tx.UpdateCustomer(ctx, c.ID, upd); err != nil {
			return err
		}
		if s.approved != nil {
			if err := s.approved.Release(ctx, tx, out); err != nil {
				return err
			}
		}
		targets, err := tx.CustomerPushTargets(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, t := range targets {
			if _, err := s.queue.Enqueue(ctx, tx.SQLTx(), jobs.Notification{Kind: notify.RegistrationApproved, Channel: notify.Push,
				Lang: notify.ParseLang(c.Locale), To: t.Token, Params: notify.Params{CustomerName: c.Name},
				Data: map[string]string{"event": "registration_approved"}, Key: "registration-approved-" + c.ID + "-" + t.AppID}); err != nil {
				return err
			}
		}
		return tx.CreateActivity(ctx, activity(c.ID, "", "customer.approved", "", Meta{}))
	})
	if err != nil {
		return nil, esign.E(op, err)
	}
	return out, nil
}

// approvalHook asks the bank's customer_registered hook, outside any
// transaction, before a pending customer is approved. A veto is recorded
// in the customer's activity, its detail the reason (the operator sees
// it on the customer's page), and returned as
// Forbidden with code approval_vetoed and the hook's reason.
func (s *Service) approvalHook(ctx context.Context, op, customerID, userID string) error {
	if s.hooks == nil {
		return nil
	}
	c, err := s.db.GetCustomer(ctx, customerID)
	if err != nil {
		return esign.E(op, err)
	}
	if c.Status != esign.CustomerPending {
		return nil // the transaction says not_pending
	}
	a := s.hooks.CustomerRegistered(ctx, customize.CustomerRegistered{CustomerID: c.ID, CustomerRef: c.ExternalRef,
		Name: c.Name, Username: c.Username, Locale: c.Locale, ApprovedBy: userID})
	if !a.Veto {
		return nil
	}
	if err := s.db.CreateActivity(ctx, activity(c.ID, "", "customer.approval_vetoed", a.Reason, Meta{})); err != nil {
		return esign.E(op, err)
	}
	return esign.WithCode(op, esign.Forbidden, "approval_vetoed", "the bank's customer_registered hook held the approval: "+a.Reason)
}

// ClientError is an error report from the app.
type ClientError struct {
	Message, Stack, URL string
}

// The longest client error report fields stored; longer ones are cut.
const (
	maxClientErrorMessage = 2 << 10
	maxClientErrorStack   = 16 << 10
	maxClientErrorURL     = 2 << 10
	maxClientUserAgent    = 512
)

// ReportClientError stores an error the app — or, for the customer's web
// app record, the customer web UI (source "css") — reports, its fields cut
// to bounded lengths, within ClientErrorsPerApp for the app and
// ClientErrorsPerDay for the whole system. Errors: Invalid, TooMany
// (rate_limited, with RetryAfter), Unavailable.
func (s *Service) ReportClientError(ctx context.Context, app *esign.App, e ClientError, m Meta) error {
	const op = "customers.ReportClientError"
	if err := s.allow(ctx, op, "client-error:app:"+app.ID, s.cfg.ClientErrorsPerApp); err != nil {
		return err
	}
	if err := s.allow(ctx, op, "client-error:day", s.cfg.ClientErrorsPerDay); err != nil {
		return err
	}
	source := "app"
	if app.Platform == WebPlatform {
		source = "css"
	}
	return s.db.CreateClientErrorLog(ctx, &esign.ClientErrorLog{Source: source, Message: cut(e.Message, maxClientErrorMessage),
		Stack: cut(e.Stack, maxClientErrorStack), URL: cut(e.URL, maxClientErrorURL), UserAgent: cut(m.UserAgent, maxClientUserAgent),
		CustomerID: app.CustomerID})
}

// cut returns s cut to at most n bytes, without a broken UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}
