package customers

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"

	"esign/internal/esign"
	"esign/internal/sqlstore"
)

// WebPlatform is the platform of the app record that stands for a
// customer's browser sessions (the customer UI served by css).
const WebPlatform = "web"

// WebLogin checks a customer's username and password typed into the
// customer web UI and opens a session bound to the customer's web app
// record (created on the first web sign-in). The customer's earlier web
// sessions are revoked — one web session per customer, a new sign-in ends
// the older one — unless Config.ParallelWebSessions (docs/customer-ui.md). The same lockout as the app's login
// applies; the rate limits are per client address and per username, with
// the app's login limit (mobile.login_per_app_per_10min). Errors:
// Unauthorized (invalid_credentials), TooMany (rate_limited).
func (s *Service) WebLogin(ctx context.Context, username, pw string, m Meta) (*LoggedIn, error) {
	const op = "customers.WebLogin"
	if err := s.allow(ctx, op, "weblogin:ip:"+m.IP, s.cfg.LoginPerApp); err != nil {
		return nil, err
	}
	if len(username) > UsernameMax*4 {
		username = username[:UsernameMax*4] // too long to be anyone's: counted, then not found
	}
	if err := s.allow(ctx, op, "weblogin:user:"+username, s.cfg.LoginPerApp); err != nil {
		return nil, err
	}
	c, err := s.customerByUsername(ctx, op, username)
	if err != nil {
		return nil, err
	}
	if err := s.verifyPassword(ctx, op, c, pw, nil, m); err != nil {
		return nil, err
	}
	return s.webSignIn(ctx, op, c, pw, m)
}

// webSignIn opens a web session of the customer, whose password was
// checked (or just chosen), on the web app record, and records the login.
func (s *Service) webSignIn(ctx context.Context, op string, c *esign.Customer, pw string, m Meta) (*LoggedIn, error) {
	app, err := s.webApp(ctx, c.ID)
	if err != nil {
		return nil, esign.E(op, err)
	}
	in, err := s.openSession(ctx, op, app, c, pw, m.UserAgent, !s.cfg.ParallelWebSessions)
	if err != nil {
		return nil, err
	}
	if err := s.db.CreateActivity(ctx, activity(c.ID, "", "customer.login", `{"app_id":"`+app.ID+`","web":true}`, m)); err != nil {
		return nil, esign.E(op, err)
	}
	if err := s.db.CreateAuditLog(ctx, customerAudit(c.ID, "customer.signin", m)); err != nil {
		return nil, esign.E(op, err)
	}
	return in, nil
}

// webApp returns the customer's web app record, creating it on first use.
// It has no device token (a random hash nobody holds) and is associated
// with the customer from the start: the password proved who they are.
func (s *Service) webApp(ctx context.Context, customerID string) (*esign.App, error) {
	apps, err := s.db.ListApps(ctx, esign.AppFilter{CustomerID: customerID, Status: esign.AppAssociated})
	if err != nil {
		return nil, err
	}
	for _, a := range apps {
		if a.Platform == WebPlatform {
			return a, nil
		}
	}
	_, unusable := newToken(DeviceTokenPrefix)
	app := &esign.App{CustomerID: customerID, SessionTokenHash: unusable, Status: esign.AppAssociated, Platform: WebPlatform,
		LastSeenAt: s.now()}
	if err := s.db.CreateApp(ctx, app); err != nil {
		return nil, err
	}
	return app, nil
}

// openSession opens a new session of the app for c, with the password
// proof of pw and the client's user agent ua, after revoking the app's
// other sessions when alone.
func (s *Service) openSession(ctx context.Context, op string, app *esign.App, c *esign.Customer, pw, ua string, alone bool) (*LoggedIn, error) {
	if alone {
		if err := s.sessions.RevokeAppSessions(ctx, app.ID); err != nil {
			return nil, esign.E(op, err)
		}
	}
	token, hash := newToken(SessionTokenPrefix)
	now := s.now()
	sess := Session{TokenHash: hash, AppID: app.ID, CustomerID: c.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.SessionMax),
		PasswordProof: s.passwordProof(hash, c, pw), UserAgent: esign.Clip(ua, 512)}
	if err := s.sessions.CreateSession(ctx, sess); err != nil {
		return nil, esign.E(op, err)
	}
	return &LoggedIn{SessionToken: token, ExpiresAt: sess.ExpiresAt, IdleTimeout: s.cfg.SessionIdle, Customer: c}, nil
}

// ResolveLink returns the target path of a short link (/s/{code} of the
// customer UI) that has not expired. Resolutions are limited per client
// address (mobile.register_per_ip_per_10min) so codes cannot be guessed in
// bulk. Errors: NotFound (unknown or expired; link_expired when the
// offer is still open, so RenewLink sends a fresh link), TooMany
// (rate_limited).
func (s *Service) ResolveLink(ctx context.Context, code string, m Meta) (string, error) {
	const op = "customers.ResolveLink"
	if err := s.allow(ctx, op, "link:ip:"+m.IP, s.cfg.RegisterPerIP); err != nil {
		return "", err
	}
	if code == "" || len(code) > 32 {
		return "", esign.E(op, esign.NotFound, "link not found")
	}
	x, err := s.db.ResolveShortener(ctx, code, s.now())
	if esign.IsKind(err, esign.NotFound) {
		if o, _, ok := s.renewable(ctx, code); ok && o != nil {
			return "", esign.WithCode(op, esign.NotFound, "link_expired", "the link expired; the offer is still open")
		}
	}
	if err != nil {
		return "", esign.E(op, err)
	}
	return x.TargetURL, nil
}

// customerByUsername returns the customer with the username, or nil when
// there is none (the caller answers as for a wrong password).
func (s *Service) customerByUsername(ctx context.Context, op, username string) (*esign.Customer, error) {
	if username == "" || len(username) > UsernameMax*4 {
		return nil, nil
	}
	cs, err := s.db.ListCustomers(ctx, esign.CustomerFilter{Username: username, Page: esign.Page{Limit: 1}})
	if err != nil {
		return nil, esign.E(op, err)
	}
	if len(cs) == 1 {
		return cs[0], nil
	}
	return nil, nil
}

// RecordReadToEnd records that the customer reached the last page of a
// document of the offer in the customer UI's viewer (the evidence of
// review): the activity document.read_to_end of the offer, with the
// document id, at the server's time; once per document and offer.
// Reaching the end also marks the document read. Errors: NotFound (not
// the customer's offer, or the document not in it).
func (s *Service) RecordReadToEnd(ctx context.Context, p *Principal, offerID, documentID string, m Meta) error {
	const op = "customers.RecordReadToEnd"
	o, err := s.ownOffer(ctx, op, p, offerID)
	if err != nil {
		return err
	}
	docs, err := s.db.ListDocuments(ctx, esign.DocumentFilter{OfferID: o.ID, Page: esign.Page{Limit: 1000}})
	if err != nil {
		return esign.E(op, err)
	}
	if !slices.ContainsFunc(docs, func(d *esign.Document) bool { return d.ID == documentID }) {
		return notFound(op, "document")
	}
	if _, err := s.MarkDocumentRead(ctx, p, documentID, m); err != nil {
		return err
	}
	done, err := ReadToEnd(ctx, s.db, p.Customer.ID, o.ID)
	if err != nil {
		return esign.E(op, err)
	}
	if _, ok := done[documentID]; ok {
		return nil
	}
	detail, _ := json.Marshal(readToEndDetail{DocumentID: documentID})
	if err := s.db.CreateActivity(ctx, activity(p.Customer.ID, o.ID, ActivityReadToEnd, string(detail), m)); err != nil {
		return esign.E(op, err)
	}
	return nil
}

// ActivityReadToEnd is the activity that records a document of an offer
// read to its last page in the customer UI's viewer.
const ActivityReadToEnd = "document.read_to_end"

type readToEndDetail struct {
	DocumentID string `json:"document_id"`
}

// ReadToEnd returns when the customer read each document of the offer to
// the end (ActivityReadToEnd), by document id; documents not read to the
// end are missing.
func ReadToEnd(ctx context.Context, db *sqlstore.DB, customerID, offerID string) (map[string]time.Time, error) {
	as, err := db.ListActivities(ctx, esign.ActivityFilter{CustomerID: customerID, OfferID: offerID, Kind: ActivityReadToEnd,
		Page: esign.Page{Limit: 1000}})
	if err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(as))
	for _, a := range as {
		var d readToEndDetail
		if json.Unmarshal([]byte(a.Detail), &d) != nil || d.DocumentID == "" {
			continue
		}
		if t, ok := out[d.DocumentID]; !ok || a.CreatedAt.Before(t) {
			out[d.DocumentID] = a.CreatedAt
		}
	}
	return out, nil
}

// WebSession is one of the customer's signed-in browsers, as the customer
// sees it: ID names it for EndWebSession (not the token, nor its hash).
type WebSession struct {
	ID         string
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	Current    bool // the session asking
}

// webSessionID is the public name of the session with the token hash.
func webSessionID(tokenHash string) string {
	h := sha256.Sum256([]byte("esign web session\x00" + tokenHash))
	return hex.EncodeToString(h[:12])
}

// WebSessions lists the customer's live web sessions (absolute and idle
// expiry), the caller's own first, then by last use. Only a web session
// may ask. Errors: Forbidden (web_only).
func (s *Service) WebSessions(ctx context.Context, p *Principal) ([]WebSession, error) {
	const op = "customers.WebSessions"
	if p.App == nil || p.App.Platform != WebPlatform {
		return nil, esign.WithCode(op, esign.Forbidden, "web_only", "only a web session lists the web sessions")
	}
	now := s.now()
	ss, err := s.sessions.ListAppSessions(ctx, p.App.ID, now)
	if err != nil {
		return nil, esign.E(op, err)
	}
	var out []WebSession
	for _, x := range ss {
		if x.CustomerID != p.Customer.ID || !now.Before(x.LastSeenAt.Add(s.cfg.SessionIdle)) {
			continue
		}
		out = append(out, WebSession{ID: webSessionID(x.TokenHash), UserAgent: x.UserAgent, CreatedAt: x.CreatedAt,
			LastSeenAt: x.LastSeenAt, Current: x.TokenHash == p.Session.TokenHash})
	}
	slices.SortFunc(out, func(a, b WebSession) int {
		if a.Current != b.Current {
			if a.Current {
				return -1
			}
			return 1
		}
		return b.LastSeenAt.Compare(a.LastSeenAt)
	})
	return out, nil
}

// EndWebSession ends another web session of the customer (by its
// WebSession.ID); the activity customer.session_ended records it. Ending
// the caller's own session is signing out, not this. Errors: NotFound,
// Invalid (current), Forbidden (web_only).
func (s *Service) EndWebSession(ctx context.Context, p *Principal, id string, m Meta) error {
	const op = "customers.EndWebSession"
	if p.App == nil || p.App.Platform != WebPlatform {
		return esign.WithCode(op, esign.Forbidden, "web_only", "only a web session ends web sessions")
	}
	ss, err := s.sessions.ListAppSessions(ctx, p.App.ID, s.now())
	if err != nil {
		return esign.E(op, err)
	}
	for _, x := range ss {
		if x.CustomerID != p.Customer.ID || subtle.ConstantTimeCompare([]byte(webSessionID(x.TokenHash)), []byte(id)) != 1 {
			continue
		}
		if x.TokenHash == p.Session.TokenHash {
			return esign.WithCode(op, esign.Invalid, "current", "this is the session asking: sign out instead")
		}
		if err := s.sessions.RevokeSession(ctx, x.TokenHash); err != nil {
			return esign.E(op, err)
		}
		if err := s.db.CreateActivity(ctx, activity(p.Customer.ID, "", "customer.session_ended", `{"web":true}`, m)); err != nil {
			return esign.E(op, err)
		}
		return nil
	}
	return esign.E(op, esign.NotFound, "session not found")
}
