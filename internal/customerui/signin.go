package customerui

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"esign/internal/esign"
	"esign/internal/webui"
)

type signinData struct {
	Username string
	Next     string
	Link     string // the short link's code: offer to create an account from it
	Error    string // message key
}

func urlQuery(s string) string { return url.QueryEscape(s) }

// nextPath is where the sign-in leads: a local path, never the sign-in.
func nextPath(r *http.Request) string {
	n := webui.LocalPath(r.FormValue("next"))
	if strings.HasPrefix(n, "/signin") {
		return "/"
	}
	return n
}

// signinError maps a sign-in failure to the message of the form; other
// errors become the error page.
func signinError(err error) (string, int, bool) {
	switch {
	case esign.IsKind(err, esign.TooMany):
		return "signin.error.rate_limited", http.StatusTooManyRequests, true
	case esign.ErrorCode(err) == "invalid_credentials":
		return "signin.error.credentials", http.StatusUnauthorized, true
	case esign.ErrorCode(err) == "missing_field":
		return "signin.error.missing", http.StatusBadRequest, true
	}
	return "", 0, false
}

func (u *UI) signinForm(w http.ResponseWriter, r *http.Request) error {
	return u.ui.Render(w, r, http.StatusOK, "signin.html", webui.Page{Title: "signin.title", Data: signinData{Next: nextPath(r), Link: accountLink(r)}})
}

func (u *UI) signin(w http.ResponseWriter, r *http.Request) error {
	username := strings.TrimSpace(r.PostFormValue("username"))
	c := u.caller(r)
	c.Token = ""
	in, err := u.api.WebLogin(r.Context(), c, username, r.PostFormValue("password"))
	if key, status, ok := signinError(err); ok {
		return u.ui.Render(w, r, status, "signin.html", webui.Page{Title: "signin.title",
			Data: signinData{Username: username, Next: nextPath(r), Link: accountLink(r), Error: key}})
	}
	if err != nil {
		return err
	}
	u.setSession(w, r, in, time.Now())
	if u.othersAfterSignin(r, c, in) {
		http.Redirect(w, r, "/sessions?next="+urlQuery(nextPath(r)), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, nextPath(r), http.StatusSeeOther)
	return nil
}

func (u *UI) signout(w http.ResponseWriter, r *http.Request) error {
	if c := u.caller(r); c.Token != "" {
		if err := u.api.Logout(r.Context(), c); err != nil && !esign.IsKind(err, esign.Unauthorized) {
			return err
		}
	}
	u.ui.ClearSession(w, r, sessionCookie)
	u.ui.Redirect(w, r, "/signin", &webui.Flash{Kind: webui.FlashSuccess, Key: "signin.signed_out"})
	return nil
}

// unsupported is the page of a browser that cannot sign (the pre-check
// script of the sign-in and offer pages leads here).
func (u *UI) unsupported(w http.ResponseWriter, r *http.Request) error {
	return u.ui.Render(w, r, http.StatusOK, "unsupported.html", webui.Page{Title: "unsupported.title"})
}
