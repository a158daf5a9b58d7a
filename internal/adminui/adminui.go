// Package adminui is the operators' web interface on the admin listener
// (docs/admin-ui.md): sign-in with a TOTP second factor, the dashboard,
// offers, customers and the development inbox. Pages are rendered on the
// server (internal/webui); every route declares the permission it needs in
// one table (routes.go), which is the access control list.
package adminui

import (
	"context"
	"embed"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"

	"esign/internal/branding"
	"esign/internal/esign"
	"esign/internal/httpkit"
	"esign/internal/notify/inbox"
	"esign/internal/offers"
	"esign/internal/operators"
	"esign/internal/pades"
	"esign/internal/webui"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed messages/*.json
var messageFS embed.FS

//go:embed static
var staticFS embed.FS

// Service is what the UI asks of the operators' domain service
// (*operators.Service).
type Service interface {
	SignIn(ctx context.Context, username, pw string, m operators.Meta) (*operators.Started, error)
	Enrol(ctx context.Context, token string) (*operators.Enrolment, error)
	ConfirmEnrolment(ctx context.Context, token, code string, m operators.Meta) (*operators.SignedIn, error)
	VerifySecondFactor(ctx context.Context, token, code string, m operators.Meta) (*operators.SignedIn, error)
	EndPending(ctx context.Context, token string) error
	Authenticate(ctx context.Context, token string) (*operators.Principal, error)
	Recheck(ctx context.Context, token string) (*operators.Principal, error)
	SignOut(ctx context.Context, p *operators.Principal, m operators.Meta) error
	SignOutEverywhere(ctx context.Context, p *operators.Principal, m operators.Meta) error
	Audit(ctx context.Context, userID string, e operators.Entry, m operators.Meta) error

	Dashboard(ctx context.Context) (*operators.Dashboard, error)
	ListOffers(ctx context.Context, q operators.OfferQuery) (*operators.OfferPage, error)
	Offer(ctx context.Context, id string) (*operators.OfferDetail, error)
	OpenDocument(ctx context.Context, offerID, documentID string) (*esign.Document, io.ReadCloser, error)
	ListCustomers(ctx context.Context, q operators.CustomerQuery) ([]*esign.Customer, error)
	ApproveCustomer(ctx context.Context, p *operators.Principal, customerID string) (*esign.Customer, error)
	Customer(ctx context.Context, id string) (*operators.CustomerDetail, error)
	BlockCustomer(ctx context.Context, p *operators.Principal, customerID string) (*esign.Customer, error)
	UnblockCustomer(ctx context.Context, p *operators.Principal, customerID string) (*esign.Customer, error)
	BootstrapCustomer(ctx context.Context, n offers.NewCustomer) (*esign.Customer, error)
	SendAssociationCode(ctx context.Context, customerID string) error
	HasInbox() bool
	Inbox(ctx context.Context, f inbox.Filter) ([]inbox.Message, error)

	CreateOffer(ctx context.Context, u offers.Upload) (*esign.Offer, error)
	RevokeOffer(ctx context.Context, offerID, reason string) (*esign.Offer, error)
	ResendOffer(ctx context.Context, offerID string) (int, error)
	VerifyPDF(ctx context.Context, data []byte) (*pades.Report, error)
	ListContracts(ctx context.Context, q operators.ContractQuery) (*operators.ContractPage, error)
	Contract(ctx context.Context, id string) (*operators.ContractDetail, error)
	OpenContractDocument(ctx context.Context, contractID, documentID string) (*esign.Document, io.ReadCloser, error)
	VerifyContractDocument(ctx context.Context, contractID, documentID string) (*esign.Document, *pades.Report, error)
	VerifyOfferDocument(ctx context.Context, offerID, documentID string) (*esign.Document, *pades.Report, error)

	Certs(ctx context.Context) ([]operators.CertStatus, error)
	ImportCert(ctx context.Context, p *operators.Principal, p12 []byte, password, name string, activate bool) (*operators.ImportedCert, error)
	ActivateCert(ctx context.Context, id string) (*esign.Cert, error)
	Users(ctx context.Context) ([]operators.UserRow, error)
	CreateUser(ctx context.Context, username, name, email, role string) (*esign.User, string, error)
	SetUserRoles(ctx context.Context, p *operators.Principal, userID string, roles []string, m operators.Meta) error
	SetUserStatus(ctx context.Context, p *operators.Principal, userID string, status esign.UserStatus, m operators.Meta) error
	ResetUserSecondFactor(ctx context.Context, p *operators.Principal, userID string, m operators.Meta) error
	SettingsPage(ctx context.Context) ([]operators.SettingValue, error)
	SaveSettings(ctx context.Context, p *operators.Principal, values map[string]string) ([]string, []operators.SettingError, error)

	AuditLog(ctx context.Context, q operators.AuditQuery) ([]operators.AuditRow, error)
	Messages(ctx context.Context, q operators.MessageQuery) ([]operators.Message, error)
	ClientErrors(ctx context.Context, source string, p esign.Page) ([]*esign.ClientErrorLog, error)
	HasJobs() bool
	Jobs(ctx context.Context, states []string, limit int) ([]operators.Job, error)
	RetryJob(ctx context.Context, id int64) (operators.Job, error)
	CancelJob(ctx context.Context, id int64) (operators.Job, error)
	EventDeliveries(ctx context.Context, status string, p esign.Page) ([]operators.EventDelivery, error)
	RetryEventDelivery(ctx context.Context, eventID, urlKey string) (string, error)
}

var _ Service = (*operators.Service)(nil)

// Config is what the UI needs from the configuration.
type Config struct {
	// Secure: the UI is reached over HTTPS (public.admin_url starts with
	// https://): Secure __Host- cookies and HSTS.
	Secure       bool
	MaxBodyBytes int64
	// UploadMaxBytes caps the bodies of the routes that take PDFs (a new
	// offer, a PDF to verify); default 64 MiB, as webhook.max_body_bytes.
	UploadMaxBytes int64
	Version        string
	// Live, optional, is the live feed of the dashboard and offer pages
	// (served by MountLive on the realtime listener).
	Live *Live
	// Brand is the bank's look, applied to the admin UI and previewed on
	// the settings page; the zero value: branding.Default().
	Brand branding.Brand
	// SealPreview is the visible line of a sealed contract as the seal
	// draws it, for the settings page's preview.
	SealPreview string
	// Messages, optional, is the bank's message directory
	// (customize.dir/messages): texts replaced or languages added.
	Messages webui.Overrides
}

// Messages returns the UI's own message files and Templates its page
// templates, for the translation check (esign i18n check).
func Messages() fs.FS { m, _ := fs.Sub(messageFS, "messages"); return m }

// Templates returns the UI's page templates.
func Templates() fs.FS { t, _ := fs.Sub(templateFS, "templates"); return t }

// Cookie names (without the __Host- prefix added under HTTPS).
const (
	sessionCookie = "esign_admin"
	pendingCookie = "esign_admin_2fa"
)

// UI is the admin interface.
type UI struct {
	cfg    Config
	svc    Service
	log    *slog.Logger
	ui     *webui.Renderer
	routes []route
	mux    *http.ServeMux
	live   *Live
}

// New parses the templates (a broken one is an error here, at start) and
// builds the handler.
func New(svc Service, log *slog.Logger, cfg Config) (*UI, error) {
	tmpl, _ := fs.Sub(templateFS, "templates")
	msgs, _ := fs.Sub(messageFS, "messages")
	static, _ := fs.Sub(staticFS, "static")
	if cfg.UploadMaxBytes <= 0 {
		cfg.UploadMaxBytes = 64 << 20
	}
	var connect func(*http.Request) string
	if cfg.Live != nil {
		connect = cfg.Live.URL // the realtime origin, for EventSource
	}
	u := &UI{cfg: cfg, svc: svc, log: log, mux: http.NewServeMux(), live: cfg.Live}
	r, err := webui.New(webui.Options{Templates: tmpl, Messages: msgs, Overrides: cfg.Messages, Static: static, Secure: cfg.Secure,
		MaxBodyBytes: cfg.MaxBodyBytes, BodyLimit: u.bodyLimit, Version: cfg.Version, Brand: cfg.Brand, Log: log, Funcs: funcs(), ConnectSrc: connect})
	if err != nil {
		return nil, err
	}
	u.ui = r
	u.routes = u.table()
	for _, rt := range u.routes {
		u.mux.Handle(rt.pattern, u.guard(rt))
	}
	u.mux.Handle("/", r.Handle(func(w http.ResponseWriter, req *http.Request) error {
		return esign.E("adminui", esign.NotFound, "no such page")
	}))
	return u, nil
}

// bodyLimit raises the body limit for the routes that take uploads.
func (u *UI) bodyLimit(r *http.Request) int64 {
	_, pattern := u.mux.Handler(r)
	for _, rt := range u.routes {
		if rt.pattern == pattern && rt.upload {
			return u.cfg.UploadMaxBytes
		}
	}
	return 0
}

// ServeHTTP serves the UI behind the security headers, cross-origin
// protection and the body size limit.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) { u.ui.Protect(u.mux).ServeHTTP(w, r) }

// Handler returns the protected handler once, for mounting.
func (u *UI) Handler() http.Handler { return u.ui.Protect(u.mux) }

func meta(r *http.Request) operators.Meta {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return operators.Meta{IP: ip, UserAgent: r.UserAgent(), RequestID: httpkit.RequestID(r.Context())}
}
