package adminui

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"esign/internal/esign"
	"esign/internal/operators"
	"esign/internal/webui"
)

// Access levels a route may declare besides a permission.
const (
	// Public routes need no sign-in: the sign-in pages, static files and
	// the language choice.
	Public = "public"
	// SignedIn routes need a signed-in operator and no permission: sign
	// out.
	SignedIn = "signed-in"
)

// handler serves a request of a signed-in operator (p is nil on public
// routes).
type handler func(w http.ResponseWriter, r *http.Request, p *operators.Principal) error

// route is one line of the access control list: the method and path, the
// permission (or Public / SignedIn), and for a state-changing route the
// audit action written for every request that reaches the handler.
type route struct {
	pattern string
	perm    string
	audit   string // e.g. "customer.approve"; object id from the {id} path value
	object  string // the audited object's type
	upload  bool   // takes PDFs: the body may be as large as Config.UploadMaxBytes
	h       handler
}

// table is the access control list of the admin UI. A route without a
// permission fails TestACL; docs/admin-ui.md shows the same table.
func (u *UI) table() []route {
	static := func(w http.ResponseWriter, r *http.Request, _ *operators.Principal) error {
		u.ui.Static().ServeHTTP(w, r)
		return nil
	}
	language := func(w http.ResponseWriter, r *http.Request, _ *operators.Principal) error {
		u.ui.LanguageHandler().ServeHTTP(w, r)
		return nil
	}
	serve := func(h http.Handler) handler {
		return func(w http.ResponseWriter, r *http.Request, _ *operators.Principal) error {
			h.ServeHTTP(w, r)
			return nil
		}
	}
	return []route{
		{pattern: "GET /static/", perm: Public, h: static},
		{pattern: "GET /branding.css", perm: Public, h: serve(u.ui.BrandCSS())},
		{pattern: "GET /branding/logo", perm: Public, h: serve(u.ui.BrandLogo())},
		{pattern: "POST /language", perm: Public, h: language},
		{pattern: "GET /signin", perm: Public, h: u.signinForm},
		{pattern: "POST /signin", perm: Public, h: u.signin},
		{pattern: "GET /signin/second-factor", perm: Public, h: u.secondFactorForm},
		{pattern: "POST /signin/second-factor", perm: Public, h: u.secondFactor},
		{pattern: "POST /signin/enrol", perm: Public, h: u.enrol},
		{pattern: "POST /signin/cancel", perm: Public, h: u.cancelSignin},
		{pattern: "POST /signout", perm: SignedIn, h: u.signout},
		{pattern: "POST /signout/everywhere", perm: SignedIn, h: u.signoutEverywhere},

		{pattern: "GET /{$}", perm: esign.PermOfferRead, h: u.dashboard},
		{pattern: "GET /offers", perm: esign.PermOfferRead, h: u.offerList},
		{pattern: "GET /offers/new", perm: esign.PermOfferWrite, h: u.offerNewForm},
		{pattern: "POST /offers/new", perm: esign.PermOfferWrite, audit: "offer.create", object: "offer", upload: true, h: u.offerCreate},
		{pattern: "POST /offers/bulk", perm: esign.PermOfferWrite, audit: "offer.bulk", object: "offer", h: u.offerBulk},
		{pattern: "GET /offers/{id}", perm: esign.PermOfferRead, h: u.offerDetail},
		{pattern: "POST /offers/{id}/revoke", perm: esign.PermOfferWrite, audit: "offer.revoke", object: "offer", h: u.offerRevoke},
		{pattern: "POST /offers/{id}/resend", perm: esign.PermOfferWrite, audit: "offer.resend", object: "offer", h: u.offerResend},
		{pattern: "GET /offers/{id}/documents/{doc}", perm: esign.PermOfferRead, audit: "document.download", object: "document", h: u.documentDownload},
		{pattern: "GET /contracts", perm: esign.PermContractRead, h: u.contractList},
		{pattern: "GET /contracts/{id}", perm: esign.PermContractRead, h: u.contractDetail},
		{pattern: "GET /contracts/{id}/documents/{doc}", perm: esign.PermContractRead, audit: "document.download", object: "document", h: u.contractDownload},
		{pattern: "GET /contracts/{id}/documents/{doc}/verify", perm: esign.PermSignatureVerify, h: u.contractVerify},
		{pattern: "GET /verify", perm: esign.PermSignatureVerify, h: u.verifyForm},
		{pattern: "POST /verify", perm: esign.PermSignatureVerify, audit: "signature.verify", object: "document", upload: true, h: u.verifyUpload},
		{pattern: "GET /customers", perm: esign.PermCustomerRead, h: u.customerList},
		{pattern: "POST /customers", perm: esign.PermCustomerWrite, audit: "customer.bootstrap", object: "customer", h: u.customerBootstrap},
		{pattern: "GET /customers/{id}", perm: esign.PermCustomerRead, h: u.customerDetail},
		{pattern: "POST /customers/{id}/block", perm: esign.PermCustomerWrite, audit: "customer.block", object: "customer", h: u.customerBlock(true)},
		{pattern: "POST /customers/{id}/unblock", perm: esign.PermCustomerWrite, audit: "customer.unblock", object: "customer", h: u.customerBlock(false)},
		{pattern: "POST /customers/{id}/association-code", perm: esign.PermCustomerWrite, audit: "customer.association_code", object: "customer", h: u.customerAssociationCode},
		{pattern: "POST /customers/{id}/approve", perm: esign.PermCustomerApprove, audit: "customer.approve", object: "customer", h: u.customerApprove},
		{pattern: "GET /inbox", perm: esign.PermInboxRead, h: u.inbox},

		{pattern: "GET /certs", perm: esign.PermCertManage, h: u.certList},
		{pattern: "POST /certs", perm: esign.PermCertManage, audit: "cert.import", object: "cert", h: u.certImport},
		{pattern: "POST /certs/{id}/activate", perm: esign.PermCertManage, audit: "cert.activate", object: "cert", h: u.certActivate},
		{pattern: "GET /users", perm: esign.PermUserManage, h: u.userList},
		{pattern: "POST /users", perm: esign.PermUserManage, audit: "user.create", object: "user", h: u.userCreate},
		{pattern: "POST /users/{id}/roles", perm: esign.PermUserManage, audit: "user.roles", object: "user", h: u.userRoles},
		{pattern: "POST /users/{id}/disable", perm: esign.PermUserManage, audit: "user.disable", object: "user", h: u.userStatus(esign.UserDisabled)},
		{pattern: "POST /users/{id}/enable", perm: esign.PermUserManage, audit: "user.enable", object: "user", h: u.userStatus(esign.UserActive)},
		{pattern: "POST /users/{id}/reset-second-factor", perm: esign.PermUserManage, audit: "user.second_factor_reset", object: "user", h: u.userResetSecondFactor},
		{pattern: "GET /settings", perm: esign.PermSettingManage, h: u.settingsForm},
		{pattern: "POST /settings", perm: esign.PermSettingManage, audit: "setting.change", object: "setting", h: u.settingsSave},
		{pattern: "GET /audit", perm: esign.PermAuditRead, h: u.auditLog},
		{pattern: "GET /logs/messages", perm: esign.PermLogRead, h: u.messageLog},
		{pattern: "GET /logs/client-errors", perm: esign.PermLogRead, h: u.clientErrorLog},
		{pattern: "GET /jobs", perm: esign.PermProcessRead, h: u.jobList},
		{pattern: "POST /jobs/{id}/retry", perm: esign.PermProcessManage, audit: "job.retry", object: "job", h: u.jobAction(u.svc.RetryJob, "jobs.retried")},
		{pattern: "POST /jobs/{id}/cancel", perm: esign.PermProcessManage, audit: "job.cancel", object: "job", h: u.jobAction(u.svc.CancelJob, "jobs.cancelled")},
		{pattern: "GET /events", perm: esign.PermProcessRead, h: u.eventList},
		{pattern: "POST /events/{id}/retry", perm: esign.PermProcessManage, audit: "event.retry", object: "event", h: u.eventRetry},
	}
}

// Route describes one route of the access control list.
type Route struct {
	Pattern    string // "POST /customers/{id}/approve"
	Permission string // a permission name, Public or SignedIn
	Audit      string // the audit action of a state-changing route
}

// Routes returns the access control list, for tests and documentation.
func (u *UI) Routes() []Route {
	out := make([]Route, 0, len(u.routes))
	for _, r := range u.routes {
		out = append(out, Route{Pattern: r.pattern, Permission: r.perm, Audit: r.audit})
	}
	return out
}

// guard applies the route's access rule: public routes run as they are;
// others need a signed-in operator (GETs of a signed-out visitor are sent
// to the sign-in page) with the route's permission (else 403 and an audit
// entry). Auditable routes are audited with their outcome.
func (u *UI) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := u.serve(rt, w, r); err != nil {
			if se, ok := err.(*signedInError); ok {
				r, err = r.WithContext(webui.WithPrincipal(r.Context(), se.p)), se.err
			}
			u.ui.Error(w, r, err)
		}
	})
}

// signedInError is an error of a signed-in operator's request: the error
// page keeps the operator's navigation.
type signedInError struct {
	p   *operators.Principal
	err error
}

func (e *signedInError) Error() string { return e.err.Error() }

func (u *UI) serve(rt route, w http.ResponseWriter, r *http.Request) error {
	if rt.perm == Public {
		return rt.h(w, r, nil)
	}
	if rt.perm == "" {
		return esign.E("adminui", esign.Internal, "route "+rt.pattern+" declares no permission")
	}
	p, err := u.svc.Authenticate(r.Context(), u.ui.Session(r, sessionCookie))
	if esign.IsKind(err, esign.Unauthorized) {
		u.ui.ClearSession(w, r, sessionCookie)
		if r.Method == http.MethodGet {
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return nil
		}
		return err
	}
	if err != nil {
		return err
	}
	r = r.WithContext(webui.WithPrincipal(r.Context(), p))
	if rt.perm != SignedIn && !p.Can(rt.perm) {
		detail, _ := json.Marshal(map[string]string{"method": r.Method, "path": r.URL.Path, "permission": rt.perm})
		if aerr := u.svc.Audit(r.Context(), p.User.ID, operators.Entry{Action: "access.denied", ObjectType: "route",
			ObjectID: rt.pattern, Detail: string(detail)}, meta(r)); aerr != nil {
			return aerr
		}
		return &signedInError{p: p, err: esign.WithCode("adminui", esign.Forbidden, "permission", "your role does not allow this")}
	}
	var note *auditNote
	if rt.audit != "" {
		note = &auditNote{object: r.PathValue(pathObject(rt.object)), detail: map[string]any{}}
		r = r.WithContext(context.WithValue(r.Context(), auditKey{}, note))
	}
	err = rt.h(w, r, p)
	if rt.audit != "" {
		result := "ok"
		if err != nil {
			result = esign.ErrorKind(err).String()
		}
		if _, set := note.detail["result"]; !set {
			note.detail["result"] = result
		}
		detail, _ := json.Marshal(note.detail)
		if aerr := u.svc.Audit(r.Context(), p.User.ID, operators.Entry{Action: rt.audit, ObjectType: rt.object,
			ObjectID: note.object, Detail: string(detail)}, meta(r)); aerr != nil {
			// The action has happened and its answer may be written:
			// the failure goes to the log, loudly.
			u.log.Error("audit entry not written", "action", rt.audit, "user", p.User.ID, "err", aerr)
		}
	}
	var done *answered
	if errors.As(err, &done) {
		return nil // the handler has answered (a form again, a flash)
	}
	if err != nil {
		return &signedInError{p: p, err: err}
	}
	return nil
}

// answered is a handler's error that it has already answered (the form
// again with the reason, or a redirect with a flash): the route audits
// its kind and writes nothing more.
type answered struct{ err error }

func (e *answered) Error() string { return e.err.Error() }
func (e *answered) Unwrap() error { return e.err }

// auditNote is what a handler adds to its route's audit entry: the
// object it created (when the path names none) and what changed.
type auditNote struct {
	object string
	detail map[string]any
}

type auditKey struct{}

// noteAudit records the object and details of the request's audit entry
// (a no-op on routes without one). No secrets: the detail is stored.
func noteAudit(r *http.Request, object string, kv ...any) {
	n, _ := r.Context().Value(auditKey{}).(*auditNote)
	if n == nil {
		return
	}
	if object != "" {
		n.object = object
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			n.detail[k] = kv[i+1]
		}
	}
}

// pathObject names the path value that holds the audited object's id.
func pathObject(object string) string {
	if object == "document" {
		return "doc"
	}
	return "id"
}

// page renders a page for the operator.
func (u *UI) page(w http.ResponseWriter, r *http.Request, p *operators.Principal, name, title, nav string, data any) error {
	return u.ui.Render(w, r, http.StatusOK, name, webui.Page{Title: title, Data: data, Principal: p, Nav: nav})
}

// pageOf builds a page whose title takes arguments.
func pageOf(p *operators.Principal, title, nav string, data any, args ...any) webui.Page {
	return webui.Page{Title: title, TitleArgs: args, Data: data, Principal: p, Nav: nav}
}
