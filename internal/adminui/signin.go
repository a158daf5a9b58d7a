package adminui

import (
	"html/template"
	"net/http"
	"strings"

	"esign/internal/esign"
	"esign/internal/operators"
	"esign/internal/webui"
)

type signinData struct {
	Username string
	Next     string
	Error    string // message key
}

func nextPath(r *http.Request) string {
	n := webui.LocalPath(r.FormValue("next"))
	if strings.HasPrefix(n, "/signin") {
		return "/"
	}
	return n
}

// errorKey maps a sign-in failure to the message shown in the form; other
// errors become the error page.
func errorKey(err error) (string, bool) {
	switch {
	case esign.ErrorCode(err) == "locked":
		return "signin.error.locked", true
	case esign.IsKind(err, esign.TooMany):
		return "signin.error.rate_limited", true
	case esign.ErrorCode(err) == "invalid_credentials":
		return "signin.error.credentials", true
	case esign.ErrorCode(err) == "invalid_code":
		return "signin.error.code", true
	}
	return "", false
}

func (u *UI) signinForm(w http.ResponseWriter, r *http.Request, _ *operators.Principal) error {
	if p, err := u.svc.Authenticate(r.Context(), u.ui.Session(r, sessionCookie)); err == nil && p != nil {
		http.Redirect(w, r, nextPath(r), http.StatusSeeOther)
		return nil
	}
	return u.ui.Render(w, r, http.StatusOK, "signin.html", webui.Page{Title: "signin.title", Data: signinData{Next: nextPath(r)}})
}

func (u *UI) signin(w http.ResponseWriter, r *http.Request, _ *operators.Principal) error {
	username := r.PostFormValue("username")
	st, err := u.svc.SignIn(r.Context(), username, r.PostFormValue("password"), meta(r))
	if key, ok := errorKey(err); ok {
		status := http.StatusUnauthorized
		if esign.IsKind(err, esign.TooMany) {
			status = http.StatusTooManyRequests
		}
		return u.ui.Render(w, r, status, "signin.html", webui.Page{Title: "signin.title",
			Data: signinData{Username: username, Next: nextPath(r), Error: key}})
	}
	if err != nil {
		return err
	}
	u.ui.SetSession(w, r, pendingCookie, st.Token, st.SecondUntil)
	http.Redirect(w, r, "/signin/second-factor?next="+urlQuery(nextPath(r)), http.StatusSeeOther)
	return nil
}

type secondFactorData struct {
	Next      string
	Error     string
	Enrolment *operators.Enrolment
	QR        template.HTML
}

func (u *UI) secondFactorForm(w http.ResponseWriter, r *http.Request, _ *operators.Principal) error {
	return u.renderSecondFactor(w, r, http.StatusOK, "")
}

// renderSecondFactor shows the enrolment (secret and QR code) to an
// operator without a second factor, else the code form.
func (u *UI) renderSecondFactor(w http.ResponseWriter, r *http.Request, status int, errKey string) error {
	token := u.ui.Session(r, pendingCookie)
	en, err := u.svc.Enrol(r.Context(), token)
	switch {
	case esign.IsKind(err, esign.Unauthorized):
		u.ui.ClearSession(w, r, pendingCookie)
		u.ui.Redirect(w, r, "/signin", &webui.Flash{Kind: webui.FlashInfo, Key: "signin.expired"})
		return nil
	case esign.ErrorCode(err) == "enrolled":
		return u.ui.Render(w, r, status, "second_factor.html", webui.Page{Title: "signin.code.title",
			Data: secondFactorData{Next: nextPath(r), Error: errKey}})
	case err != nil:
		return err
	}
	qr, err := qrSVG(en.URI)
	if err != nil {
		return esign.E("adminui.enrol", err)
	}
	return u.ui.Render(w, r, status, "enrol.html", webui.Page{Title: "enrol.title",
		Data: secondFactorData{Next: nextPath(r), Error: errKey, Enrolment: en, QR: qr}})
}

func (u *UI) secondFactor(w http.ResponseWriter, r *http.Request, _ *operators.Principal) error {
	done, err := u.svc.VerifySecondFactor(r.Context(), u.ui.Session(r, pendingCookie), r.PostFormValue("code"), meta(r))
	if key, ok := errorKey(err); ok {
		return u.renderSecondFactor(w, r, http.StatusUnauthorized, key)
	}
	if esign.ErrorCode(err) == "signed_out" {
		u.ui.Redirect(w, r, "/signin", &webui.Flash{Kind: webui.FlashInfo, Key: "signin.expired"})
		return nil
	}
	if err != nil {
		return err
	}
	u.startSession(w, r, done)
	http.Redirect(w, r, nextPath(r), http.StatusSeeOther)
	return nil
}

func (u *UI) startSession(w http.ResponseWriter, r *http.Request, done *operators.SignedIn) {
	u.ui.ClearSession(w, r, pendingCookie)
	// A browser-session cookie: the server ends the session at its idle
	// and absolute expiry; closing the browser forgets it earlier.
	u.ui.SetSession(w, r, sessionCookie, done.Token, 0)
}

type recoveryData struct {
	Codes []string
	Next  string
}

// enrol confirms the enrolment with the first code and shows the recovery
// codes, once: they are in this response only, stored hashed.
func (u *UI) enrol(w http.ResponseWriter, r *http.Request, _ *operators.Principal) error {
	done, err := u.svc.ConfirmEnrolment(r.Context(), u.ui.Session(r, pendingCookie), r.PostFormValue("code"), meta(r))
	if key, ok := errorKey(err); ok {
		return u.renderSecondFactor(w, r, http.StatusUnauthorized, key)
	}
	if esign.ErrorCode(err) == "signed_out" || esign.ErrorCode(err) == "enrolled" {
		u.ui.Redirect(w, r, "/signin", &webui.Flash{Kind: webui.FlashInfo, Key: "signin.expired"})
		return nil
	}
	if err != nil {
		return err
	}
	u.startSession(w, r, done)
	return u.ui.Render(w, r, http.StatusOK, "recovery_codes.html", webui.Page{Title: "recovery.title",
		Data: recoveryData{Codes: done.RecoveryCodes, Next: nextPath(r)}})
}

func (u *UI) cancelSignin(w http.ResponseWriter, r *http.Request, _ *operators.Principal) error {
	if err := u.svc.EndPending(r.Context(), u.ui.Session(r, pendingCookie)); err != nil {
		return err
	}
	u.ui.ClearSession(w, r, pendingCookie)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}

func (u *UI) signout(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	if err := u.svc.SignOut(r.Context(), p, meta(r)); err != nil {
		return err
	}
	u.ui.ClearSession(w, r, sessionCookie)
	u.ui.Redirect(w, r, "/signin", &webui.Flash{Kind: webui.FlashSuccess, Key: "signout.done"})
	return nil
}

func (u *UI) signoutEverywhere(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	if err := u.svc.SignOutEverywhere(r.Context(), p, meta(r)); err != nil {
		return err
	}
	u.ui.ClearSession(w, r, sessionCookie)
	u.ui.Redirect(w, r, "/signin", &webui.Flash{Kind: webui.FlashSuccess, Key: "signout.everywhere_done"})
	return nil
}
