// Package customerui is the customer's web signing journey served by css
// (docs/customer-ui.md): the short link of the notification, a check that
// the browser can sign, sign-in, the offer with its documents, signing with
// the M1/M2 protocol in the browser (static/protocol.js, WebCrypto), refusal
// and the wait for the sealed contract. css holds no data: every step is an
// RPC to oss (internal/rpc), and the session cookie carries the customer's
// oss session token, whose idle and absolute expiry oss enforces.
package customerui

import (
	"cmp"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	"esign/internal/branding"
	"esign/internal/esign"
	"esign/internal/rpc"
	"esign/internal/signing"
	"esign/internal/webui"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed messages/*.json
var messageFS embed.FS

//go:embed static
var staticFS embed.FS

func mustSub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // a constant directory of the embedded tree
	}
	return s
}

// API is what the UI asks of oss over the bus (*rpc.Client).
type API interface {
	WebLogin(ctx context.Context, c rpc.Caller, username, password string) (*rpc.LoggedIn, error)
	Me(ctx context.Context, c rpc.Caller) (*rpc.Me, error)
	Logout(ctx context.Context, c rpc.Caller) error
	ResolveLink(ctx context.Context, c rpc.Caller, code string) (*rpc.Link, error)
	RenewLink(ctx context.Context, c rpc.Caller, code string) error
	WebSessions(ctx context.Context, c rpc.Caller) ([]rpc.WebSession, error)
	EndWebSession(ctx context.Context, c rpc.Caller, id string) error
	ReportClientError(ctx context.Context, c rpc.Caller, message, stack, url string) error
	AccountStart(ctx context.Context, c rpc.Caller, link string) (*rpc.Account, error)
	AccountSendCode(ctx context.Context, c rpc.Caller, link string) (*rpc.Account, error)
	AccountCreate(ctx context.Context, c rpc.Caller, r rpc.AccountCreateRequest) (*rpc.LoggedIn, error)

	ListOffers(ctx context.Context, c rpc.Caller, limit, offset int) ([]rpc.Offer, error)
	GetOffer(ctx context.Context, c rpc.Caller, id string) (*rpc.Offer, error)
	RefuseOffer(ctx context.Context, c rpc.Caller, id, reason string) (*rpc.Offer, error)
	GetDocumentRange(ctx context.Context, c rpc.Caller, id string, offset, length int64, continued bool) (*rpc.DocumentContent, error)
	MarkDocumentRead(ctx context.Context, c rpc.Caller, id string) (*rpc.Document, error)
	ReadToEnd(ctx context.Context, c rpc.Caller, offerID, documentID string) error
	ListContracts(ctx context.Context, c rpc.Caller, limit, offset int) ([]rpc.Contract, error)
	GetContract(ctx context.Context, c rpc.Caller, id string) (*rpc.Contract, error)

	Timestamp(ctx context.Context, c rpc.Caller, digest []byte, hashAlgorithm string, dataSize int64) (*rpc.Stamp, error)
	SignatureM1(ctx context.Context, c rpc.Caller, m signing.M1) (*signing.M1Result, error)
	TwoFactorAuth(ctx context.Context, c rpc.Caller, signatureID, username, password, smsToken string) error
	SignatureM2(ctx context.Context, c rpc.Caller, m signing.M2) (*signing.M2Result, error)
	SignatureCheck(ctx context.Context, c rpc.Caller, signatureID string) (*signing.Status, error)
}

var _ API = (*rpc.Client)(nil)

// Config is what the UI needs from the configuration.
type Config struct {
	// Secure: the UI is reached over HTTPS (public.customer_url starts
	// with https://): Secure __Host- cookies and HSTS.
	Secure       bool
	MaxBodyBytes int64 // 0: webui's default
	Version      string
	BankName     string // shown in the header; empty: Brand.BankName, then "esign"
	// Brand is the bank's look (stylesheet, logo, footer); the zero
	// value: branding.Default().
	Brand branding.Brand
	// Setting returns a setting of the system configuration oss pushes to
	// css ("" when unset; nil: none are): customer.notice is shown at the
	// top of every page, customer.support_email and
	// customer.support_phone on the sign-in page.
	Setting func(key string) string
	// Live, optional, streams the seal progress to the waiting page
	// (MountLive on the customer realtime listener); without it the
	// page polls.
	Live *Live
	// Verify configures the verify page (/verify and the contract's
	// "Verify this PDF"); the zero value has the defaults.
	Verify VerifyConfig
	// Messages, optional, is the bank's message directory
	// (customize.dir/messages): texts replaced or languages added.
	Messages webui.Overrides
}

// Messages returns the UI's own message files, for the translation check
// (esign i18n check).
func Messages() fs.FS { return mustSub(messageFS, "messages") }

// Templates returns the UI's page templates.
func Templates() fs.FS { return mustSub(templateFS, "templates") }

// sessionCookie holds the customer's oss session token (the __Host- prefix
// is added under HTTPS).
const sessionCookie = "esign_customer"

// UI is the customer interface.
type UI struct {
	api API
	log *slog.Logger
	ui  *webui.Renderer
	cfg Config
	mux *http.ServeMux
	// verify runs the PAdES verifier for the verify page, within its
	// limits.
	verify *verifier
}

// New parses the templates (a broken one is an error here, at start) and
// builds the handler.
func New(api API, log *slog.Logger, cfg Config) (*UI, error) {
	cfg.BankName = cmp.Or(cfg.BankName, cfg.Brand.BankName, "esign")
	var connect func(*http.Request) string
	if cfg.Live != nil {
		connect = cfg.Live.URL // the realtime origin, for EventSource
	}
	u := &UI{api: api, log: log, cfg: cfg, mux: http.NewServeMux(), verify: newVerifier(cfg.Verify)}
	r, err := webui.New(webui.Options{Templates: mustSub(templateFS, "templates"), Messages: mustSub(messageFS, "messages"),
		Overrides: cfg.Messages,
		Static:    mustSub(staticFS, "static"), Secure: cfg.Secure, MaxBodyBytes: cfg.MaxBodyBytes, Version: cfg.Version,
		Product: cfg.BankName, Brand: cfg.Brand, Log: log, Funcs: template.FuncMap{"kb": func(n int64) int64 { return (n + 1023) / 1024 },
			"size": func(n int64) string {
				if n >= 1<<20 {
					return fmt.Sprintf("%d MB", n>>20)
				}
				return fmt.Sprintf("%d KB", (n+1023)>>10)
			},
			"setting": func(key string) string {
				if cfg.Setting == nil {
					return ""
				}
				return cfg.Setting(key)
			}},
		ConnectSrc: connect, BodyLimit: u.bodyLimit})
	if err != nil {
		return nil, err
	}
	u.ui = r
	u.routes()
	return u, nil
}

// Handler returns the UI behind the security headers, cross-origin
// protection and the body size limit.
func (u *UI) Handler() http.Handler { return u.ui.Protect(u.mux) }

// bodyLimit raises the body limit of the verify upload to the largest
// PDF it takes and the form around it.
func (u *UI) bodyLimit(r *http.Request) int64 {
	if r.Method == http.MethodPost && r.URL.Path == "/verify" {
		return u.verify.cfg.MaxBytes + 64<<10
	}
	return 0
}

// routes is the route table. "session" routes need a signed-in customer
// (without one, pages redirect to the sign-in and JSON calls answer 401).
func (u *UI) routes() {
	page := func(h func(w http.ResponseWriter, r *http.Request) error) http.Handler { return u.ui.Handle(h) }
	u.mux.Handle("GET /static/", u.ui.Static())
	u.ui.MountBranding(u.mux)
	u.mux.Handle("POST /language", u.ui.LanguageHandler())
	u.mux.Handle("GET /s/{code}", page(u.shortLink))
	u.mux.Handle("POST /s/{code}/renew", page(u.renewLink))
	u.mux.Handle("GET /unsupported", page(u.unsupported))
	u.mux.Handle("GET /signin", page(u.signinForm))
	u.mux.Handle("POST /signin", page(u.signin))
	u.mux.Handle("POST /signout", page(u.signout))
	u.mux.HandleFunc("POST /client-error", u.clientError)
	u.mux.Handle("GET /account", page(u.accountStart))
	u.mux.Handle("POST /account/code", page(u.accountSendCode))
	u.mux.Handle("POST /account", page(u.accountCreate))
	u.mux.Handle("GET /verify", page(u.verifyForm))
	u.mux.Handle("POST /verify", page(u.verifyUpload))

	u.mux.Handle("GET /{$}", u.session(u.home))
	u.mux.Handle("GET /o/{id}", u.session(u.offerPage))
	u.mux.Handle("GET /o/{id}/documents/{doc}", u.session(u.offerDocument))
	u.mux.Handle("POST /o/{id}/refuse", u.session(u.refuse))
	u.mux.Handle("GET /signatures/{id}", u.session(u.waitPage))
	u.mux.Handle("GET /c/{id}", u.session(u.contractPage))
	u.mux.Handle("GET /c/{id}/documents/{doc}", u.session(u.contractDocument))
	u.mux.Handle("GET /c/{id}/documents/{doc}/verify", u.session(u.verifyContract))
	u.mux.Handle("GET /sessions", u.session(u.sessionsPage))
	u.mux.Handle("POST /sessions/{id}/end", u.session(u.endSession))

	u.mux.Handle("POST /o/{id}/timestamp", u.jsonAPI(u.timestamp))
	u.mux.Handle("POST /o/{id}/documents/{doc}/end", u.jsonAPI(u.readToEnd))
	u.mux.Handle("POST /o/{id}/m1", u.jsonAPI(u.m1))
	u.mux.Handle("POST /o/{id}/code", u.jsonAPI(u.checkCode))
	u.mux.Handle("POST /o/{id}/m2", u.jsonAPI(u.m2))
	u.mux.Handle("GET /signatures/{id}/status", u.jsonAPI(u.signatureStatus))

	u.mux.Handle("/", page(func(w http.ResponseWriter, r *http.Request) error {
		return esign.E("customerui", esign.NotFound, "no such page")
	}))
}

// caller is the customer's oss token with what css saw of the browser.
func (u *UI) caller(r *http.Request) rpc.Caller {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	ua := r.UserAgent()
	if len(ua) > 512 {
		ua = ua[:512]
	}
	return rpc.Caller{Token: u.ui.Session(r, sessionCookie), IP: ip, UserAgent: ua}
}

// signedIn serves a request of a signed-in customer.
type signedIn func(w http.ResponseWriter, r *http.Request, c rpc.Caller) error

// session sends a request without a session cookie to the sign-in page
// (coming back here after it), and one whose session oss no longer accepts
// too, with the cookie cleared.
func (u *UI) session(h signedIn) http.Handler {
	return u.ui.Handle(func(w http.ResponseWriter, r *http.Request) error {
		c := u.caller(r)
		if c.Token == "" {
			u.toSignin(w, r, "")
			return nil
		}
		err := h(w, r, c)
		if esign.IsKind(err, esign.Unauthorized) && esign.ErrorCode(err) != "invalid_credentials" {
			u.ui.ClearSession(w, r, sessionCookie)
			u.toSignin(w, r, "signin.expired")
			return nil
		}
		return err
	})
}

func (u *UI) toSignin(w http.ResponseWriter, r *http.Request, flash string) {
	target := "/signin?next=" + urlQuery(r.URL.RequestURI())
	if flash != "" {
		u.ui.Redirect(w, r, target, &webui.Flash{Kind: webui.FlashInfo, Key: flash})
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// setSession stores the oss session token in the cookie until the
// session's absolute expiry.
func (u *UI) setSession(w http.ResponseWriter, r *http.Request, in *rpc.LoggedIn, now time.Time) {
	u.ui.SetSession(w, r, sessionCookie, in.SessionToken, in.ExpiresAt.Sub(now))
}
