package operators

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"esign/internal/esign"
	"esign/internal/password"
	"esign/internal/sqlstore"
	"esign/internal/totp"
)

func errCredentials(op string) error {
	return esign.WithCode(op, esign.Unauthorized, "invalid_credentials", "wrong username or password")
}

func errCode(op string) error {
	return esign.WithCode(op, esign.Unauthorized, "invalid_code", "the code is wrong or was used already")
}

func errSignedOut(op string) error {
	return esign.WithCode(op, esign.Unauthorized, "signed_out", "please sign in")
}

// Started is the answer to a correct password: a second-factor session
// whose token the browser keeps until the code is proven, and whether the
// operator must first set up the authenticator app.
type Started struct {
	Token       string
	ExpiresAt   time.Time
	MustEnrol   bool
	Username    string
	SecondUntil time.Duration
}

// SignIn checks the username and password under the rate limits and the
// lockout policy. Unknown user, wrong password, disabled or locked account
// (even with the right password) all give the same answer after the same
// work. Errors: Unauthorized
// (invalid_credentials), TooMany (rate_limited), Unavailable.
func (s *Service) SignIn(ctx context.Context, username, pw string, m Meta) (*Started, error) {
	const op = "operators.SignIn"
	username = strings.TrimSpace(username)
	if err := s.allow(ctx, op, "op-signin:ip:"+m.IP, s.cfg.SignInPerIP); err != nil {
		return nil, err
	}
	if err := s.allow(ctx, op, "op-signin:user:"+strings.ToLower(clip(username, 128)), s.cfg.SignInPerUser); err != nil {
		return nil, err
	}
	var u *esign.User
	if username != "" && len(username) <= 64 {
		got, err := s.d.DB.GetUserByUsername(ctx, username)
		switch {
		case err == nil:
			u = got
		case !esign.IsKind(err, esign.NotFound):
			return nil, esign.E(op, err)
		}
	}
	if u == nil || u.Status != esign.UserActive {
		_ = password.VerifyDummy(pw)
		_ = s.Audit(ctx, userID(u), Entry{Action: "signin.failed", Detail: jsonDetail("username", clip(username, 64))}, m)
		return nil, errCredentials(op)
	}
	if err := s.checkLock(ctx, op, u.ID); err != nil {
		if !esign.IsKind(err, esign.TooMany) {
			return nil, err
		}
		// A locked account answers like a wrong password, even to the
		// right one: the lock must not tell a guesser when it guessed.
		_ = password.VerifyDummy(pw)
		_ = s.Audit(ctx, u.ID, Entry{Action: "signin.locked", ObjectType: "user", ObjectID: u.ID}, m)
		return nil, errCredentials(op)
	}
	if _, err := password.Verify(pw, u.PasswordHash); err != nil {
		if !errors.Is(err, password.ErrMismatch) {
			return nil, esign.E(op, err)
		}
		if err := s.fail(ctx, op, u.ID, m); err != nil {
			return nil, err
		}
		return nil, errCredentials(op)
	}
	f, err := s.d.DB.UserSecondFactor(ctx, u.ID)
	if err != nil {
		return nil, esign.E(op, err)
	}
	token, hash := newToken()
	now := s.now()
	sess := Session{TokenHash: hash, UserID: u.ID, Stage: StageSecondFactor, IP: m.IP, UserAgent: m.UserAgent,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.SecondFactorIn)}
	if err := s.d.Sessions.CreateSession(ctx, sess); err != nil {
		return nil, esign.E(op, err)
	}
	return &Started{Token: token, ExpiresAt: sess.ExpiresAt, MustEnrol: !f.Enrolled(), Username: u.Username,
		SecondUntil: s.cfg.SecondFactorIn}, nil
}

func userID(u *esign.User) string {
	if u == nil {
		return ""
	}
	return u.ID
}

// checkLock refuses while the account is locked (too many failed checks,
// the last within the lockout duration); after it, the count starts again.
func (s *Service) checkLock(ctx context.Context, op, id string) error {
	n, last, err := s.d.DB.UserLoginFailures(ctx, id)
	if err != nil {
		return esign.E(op, err)
	}
	if n < s.cfg.LockoutThreshold {
		return nil
	}
	if s.now().Before(last.Add(s.cfg.LockoutDuration)) {
		return esign.WithCode(op, esign.TooMany, "locked", "too many failed attempts: the account is locked for a while")
	}
	if err := s.d.DB.ResetUserLoginFailures(ctx, id); err != nil {
		return esign.E(op, err)
	}
	return nil
}

// fail counts a failed credential check and audits it.
func (s *Service) fail(ctx context.Context, op, id string, m Meta) error {
	n, err := s.d.DB.AddUserLoginFailure(ctx, id, s.now())
	if err != nil {
		return esign.E(op, err)
	}
	action := "signin.failed"
	if n == s.cfg.LockoutThreshold {
		action = "signin.lockout"
	}
	return s.Audit(ctx, id, Entry{Action: action, ObjectType: "user", ObjectID: id}, m)
}

// pending returns the second-factor session of the token. Errors:
// Unauthorized (signed_out).
func (s *Service) pending(ctx context.Context, op, token string) (Session, *esign.User, error) {
	if !strings.HasPrefix(token, TokenPrefix) {
		return Session{}, nil, errSignedOut(op)
	}
	sess, err := s.d.Sessions.GetSession(ctx, hashToken(token), s.now())
	if esign.IsKind(err, esign.NotFound) || err == nil && sess.Stage != StageSecondFactor {
		return Session{}, nil, errSignedOut(op)
	}
	if err != nil {
		return Session{}, nil, esign.E(op, err)
	}
	u, err := s.d.DB.GetUser(ctx, sess.UserID)
	if esign.IsKind(err, esign.NotFound) || err == nil && u.Status != esign.UserActive {
		return Session{}, nil, errSignedOut(op)
	}
	if err != nil {
		return Session{}, nil, esign.E(op, err)
	}
	return sess, u, nil
}

// Enrolment is what the operator needs to set up the authenticator app:
// the secret (typed by hand) and the otpauth URI (shown as a QR code).
type Enrolment struct {
	Username string
	Secret   string // base32
	URI      string
}

func secretAD(userID string) []byte { return []byte("esign operator totp " + userID) }

// Enrol returns the pending secret of the signed-in-by-password operator
// who has no second factor yet, creating it on first call (a reload shows
// the same secret). Errors: Unauthorized (signed_out), Conflict (already
// enrolled).
func (s *Service) Enrol(ctx context.Context, token string) (*Enrolment, error) {
	const op = "operators.Enrol"
	_, u, err := s.pending(ctx, op, token)
	if err != nil {
		return nil, err
	}
	f, err := s.d.DB.UserSecondFactor(ctx, u.ID)
	if err != nil {
		return nil, esign.E(op, err)
	}
	if f.Enrolled() {
		return nil, esign.WithCode(op, esign.Conflict, "enrolled", "the second factor is already set up")
	}
	var secret []byte
	if len(f.SecretEnc) > 0 {
		if secret, err = s.d.Secrets.Decrypt(f.SecretEnc, secretAD(u.ID)); err != nil {
			return nil, esign.E(op, err)
		}
	} else {
		secret = totp.NewSecret()
		enc, err := s.d.Secrets.Encrypt(secret, secretAD(u.ID))
		if err != nil {
			return nil, esign.E(op, err)
		}
		if err := s.d.DB.BeginSecondFactor(ctx, u.ID, enc); err != nil {
			return nil, esign.E(op, err)
		}
	}
	return &Enrolment{Username: u.Username, Secret: totp.Encode(secret), URI: s.totp.URI(s.cfg.Issuer, u.Username, secret)}, nil
}

// SignedIn is a finished sign-in: the session token for the cookie and,
// after an enrolment, the recovery codes to show once.
type SignedIn struct {
	Token         string
	ExpiresAt     time.Time
	RecoveryCodes []string
}

// RecoveryCodeCount is how many recovery codes an enrolment issues.
const RecoveryCodeCount = 10

// ConfirmEnrolment checks the first code of the authenticator app against
// the pending secret, finishes the enrolment, issues the recovery codes and
// signs the operator in. Errors: Unauthorized (signed_out, invalid_code),
// TooMany (rate_limited, locked), Conflict (already enrolled).
func (s *Service) ConfirmEnrolment(ctx context.Context, token, code string, m Meta) (*SignedIn, error) {
	const op = "operators.ConfirmEnrolment"
	sess, u, f, err := s.codeAttempt(ctx, op, token, m)
	if err != nil {
		return nil, err
	}
	if f.Enrolled() || len(f.SecretEnc) == 0 {
		return nil, esign.WithCode(op, esign.Conflict, "enrolled", "start the sign-in again")
	}
	secret, err := s.d.Secrets.Decrypt(f.SecretEnc, secretAD(u.ID))
	if err != nil {
		return nil, esign.E(op, err)
	}
	step, ok := s.totp.Verify(secret, code, s.now())
	if !ok {
		if err := s.fail(ctx, op, u.ID, m); err != nil {
			return nil, err
		}
		return nil, errCode(op)
	}
	codes, hashes := newRecoveryCodes()
	if err := s.d.DB.ConfirmSecondFactor(ctx, u.ID, step, hashes); err != nil {
		return nil, esign.E(op, err)
	}
	if err := s.Audit(ctx, u.ID, Entry{Action: "user.second_factor_enrol", ObjectType: "user", ObjectID: u.ID}, m); err != nil {
		return nil, err
	}
	out, err := s.finish(ctx, op, sess, u, m)
	if err != nil {
		return nil, err
	}
	out.RecoveryCodes = codes
	return out, nil
}

// VerifySecondFactor finishes a sign-in with a code of the authenticator
// app (each code is accepted once: a code of the same or an earlier time
// step than the last accepted one is refused) or with an unused recovery
// code. Errors: Unauthorized (signed_out, invalid_code), TooMany
// (rate_limited, locked), Conflict (not enrolled).
func (s *Service) VerifySecondFactor(ctx context.Context, token, code string, m Meta) (*SignedIn, error) {
	const op = "operators.VerifySecondFactor"
	sess, u, f, err := s.codeAttempt(ctx, op, token, m)
	if err != nil {
		return nil, err
	}
	if !f.Enrolled() {
		return nil, esign.WithCode(op, esign.Conflict, "not_enrolled", "set up the authenticator app first")
	}
	ok, err := s.checkCode(ctx, u.ID, f, code)
	if err != nil {
		return nil, esign.E(op, err)
	}
	if !ok {
		if err := s.fail(ctx, op, u.ID, m); err != nil {
			return nil, err
		}
		return nil, errCode(op)
	}
	return s.finish(ctx, op, sess, u, m)
}

// codeAttempt starts a code check: the second-factor session of the
// token, the per-user rate limit and the lockout, and the operator's TOTP
// state.
func (s *Service) codeAttempt(ctx context.Context, op, token string, m Meta) (Session, *esign.User, sqlstore.SecondFactor, error) {
	var none sqlstore.SecondFactor
	sess, u, err := s.pending(ctx, op, token)
	if err != nil {
		return Session{}, nil, none, err
	}
	if err := s.allow(ctx, op, "op-code:user:"+u.ID, s.cfg.SignInPerUser); err != nil {
		return Session{}, nil, none, err
	}
	if err := s.checkLock(ctx, op, u.ID); err != nil {
		return Session{}, nil, none, err
	}
	f, err := s.d.DB.UserSecondFactor(ctx, u.ID)
	if err != nil {
		return Session{}, nil, none, esign.E(op, err)
	}
	return sess, u, f, nil
}

// checkCode accepts a TOTP code of a later step than the last accepted one
// (recording it atomically, so that two requests racing with the same code
// cannot both win), or an unused recovery code (marking it used).
func (s *Service) checkCode(ctx context.Context, id string, sf sqlstore.SecondFactor, code string) (bool, error) {
	code = strings.TrimSpace(code)
	if isDigits(code) {
		secret, err := s.d.Secrets.Decrypt(sf.SecretEnc, secretAD(id))
		if err != nil {
			return false, err
		}
		step, ok := s.totp.Verify(secret, code, s.now())
		if !ok || step <= sf.LastStep {
			return false, nil
		}
		return s.d.DB.UseSecondFactorStep(ctx, id, step)
	}
	norm := normalizeRecovery(code)
	if len(norm) != recoveryLen {
		return false, nil
	}
	return s.d.DB.UseRecoveryCode(ctx, id, hashRecovery(norm))
}

func isDigits(s string) bool {
	s = strings.ReplaceAll(s, " ", "")
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// finish replaces the second-factor session with a full one (a new token:
// nothing learnt before the second factor carries over) and records the
// sign-in.
func (s *Service) finish(ctx context.Context, op string, pending Session, u *esign.User, m Meta) (*SignedIn, error) {
	if err := s.d.Sessions.RevokeSession(ctx, pending.TokenHash); err != nil {
		return nil, esign.E(op, err)
	}
	if err := s.d.DB.ResetUserLoginFailures(ctx, u.ID); err != nil {
		return nil, esign.E(op, err)
	}
	token, hash := newToken()
	now := s.now()
	sess := Session{TokenHash: hash, UserID: u.ID, Stage: StageFull, IP: m.IP, UserAgent: m.UserAgent,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.SessionMax)}
	if err := s.d.Sessions.CreateSession(ctx, sess); err != nil {
		return nil, esign.E(op, err)
	}
	if _, err := s.d.DB.UpdateUser(ctx, u.ID, esign.UserUpdate{LastLoginAt: &now}); err != nil {
		return nil, esign.E(op, err)
	}
	if err := s.Audit(ctx, u.ID, Entry{Action: "signin", ObjectType: "user", ObjectID: u.ID}, m); err != nil {
		return nil, err
	}
	return &SignedIn{Token: token, ExpiresAt: sess.ExpiresAt}, nil
}

// Recovery codes: ten characters of an alphabet without look-alikes,
// shown as two groups of five (about 50 bits each).
const (
	recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	recoveryLen      = 10
)

func newRecoveryCodes() (codes, hashes []string) {
	for range RecoveryCodeCount {
		b := make([]byte, recoveryLen)
		for i := range b {
			b[i] = recoveryAlphabet[randIndex(len(recoveryAlphabet))]
		}
		c := string(b)
		codes = append(codes, c[:5]+"-"+c[5:])
		hashes = append(hashes, hashRecovery(c))
	}
	return codes, hashes
}

func randIndex(n int) int {
	var b [1]byte
	for {
		_, _ = rand.Read(b[:])
		if int(b[0]) < 256-256%n {
			return int(b[0]) % n
		}
	}
}

func normalizeRecovery(s string) string {
	return strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(s))
}

func hashRecovery(norm string) string {
	h := sha256.Sum256([]byte("esign recovery code " + norm))
	return hex.EncodeToString(h[:])
}

// Principal is a signed-in operator: the user, its roles and permissions.
type Principal struct {
	User        *esign.User
	Roles       []string
	Permissions []string
	tokenHash   string
}

// Can reports whether the operator has the permission.
func (p *Principal) Can(perm string) bool { return p != nil && slices.Contains(p.Permissions, perm) }

// Authenticate returns the operator of a full session. A session unused
// for longer than the idle timeout, or past its absolute expiry, is ended.
// The operator's roles are read on every request, so a changed role or a
// disabled account takes effect at once. Errors: Unauthorized (signed_out).
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	return s.authenticate(ctx, "operators.Authenticate", token, true)
}

// Recheck is Authenticate without counting as the operator's activity: the
// session's idle expiry is not pushed back. Long-lived streams (the live
// feed) check their session with it, so that a page left open does not keep
// its session alive. Errors: Unauthorized (signed_out).
func (s *Service) Recheck(ctx context.Context, token string) (*Principal, error) {
	return s.authenticate(ctx, "operators.Recheck", token, false)
}

func (s *Service) authenticate(ctx context.Context, op, token string, touch bool) (*Principal, error) {
	if !strings.HasPrefix(token, TokenPrefix) {
		return nil, errSignedOut(op)
	}
	hash := hashToken(token)
	now := s.now()
	sess, err := s.d.Sessions.GetSession(ctx, hash, now)
	if esign.IsKind(err, esign.NotFound) || err == nil && sess.Stage != StageFull {
		return nil, errSignedOut(op)
	}
	if err != nil {
		return nil, esign.E(op, err)
	}
	if now.Sub(sess.LastSeenAt) > s.cfg.SessionIdle {
		_ = s.d.Sessions.RevokeSession(ctx, hash)
		return nil, errSignedOut(op)
	}
	u, err := s.d.DB.GetUser(ctx, sess.UserID)
	if esign.IsKind(err, esign.NotFound) || err == nil && u.Status != esign.UserActive {
		_ = s.d.Sessions.RevokeSession(ctx, hash)
		return nil, errSignedOut(op)
	}
	if err != nil {
		return nil, esign.E(op, err)
	}
	perms, err := s.d.DB.UserPermissions(ctx, u.ID)
	if err != nil {
		return nil, esign.E(op, err)
	}
	roles, err := s.d.DB.ListUserRoles(ctx, u.ID)
	if err != nil {
		return nil, esign.E(op, err)
	}
	p := &Principal{User: u, Permissions: perms, tokenHash: hash}
	for _, r := range roles {
		p.Roles = append(p.Roles, r.Name)
	}
	// Touch at most every half minute: enough for the idle timeout,
	// without a write per request.
	if touch && now.Sub(sess.LastSeenAt) >= 30*time.Second {
		if err := s.d.Sessions.TouchSession(ctx, hash, now); err != nil && !esign.IsKind(err, esign.NotFound) {
			return nil, esign.E(op, err)
		}
	}
	return p, nil
}

// SignOut ends the operator's current session.
func (s *Service) SignOut(ctx context.Context, p *Principal, m Meta) error {
	if err := s.d.Sessions.RevokeSession(ctx, p.tokenHash); err != nil {
		return esign.E("operators.SignOut", err)
	}
	return s.Audit(ctx, p.User.ID, Entry{Action: "signout", ObjectType: "user", ObjectID: p.User.ID}, m)
}

// SignOutEverywhere ends every session of the operator, on every device.
func (s *Service) SignOutEverywhere(ctx context.Context, p *Principal, m Meta) error {
	if err := s.d.Sessions.RevokeUserSessions(ctx, p.User.ID); err != nil {
		return esign.E("operators.SignOutEverywhere", err)
	}
	return s.Audit(ctx, p.User.ID, Entry{Action: "signout.everywhere", ObjectType: "user", ObjectID: p.User.ID}, m)
}

// EndPending discards a second-factor session (the operator cancelled).
func (s *Service) EndPending(ctx context.Context, token string) error {
	if !strings.HasPrefix(token, TokenPrefix) {
		return nil
	}
	return s.d.Sessions.RevokeSession(ctx, hashToken(token))
}
