package customerui

import (
	"net/http"
	"strings"
	"time"

	"esign/internal/esign"
	"esign/internal/rpc"
	"esign/internal/webui"
)

// The account from the link (docs/customer-ui.md, "An account from the
// link"): a customer who never installed the app proves the phone number
// the bank registered with an SMS code and chooses a username and password
// under the app's rules — all of it decided by oss (account.start,
// account.send-code, account.create); css only shows the forms.

type accountData struct {
	Step      string // "start": send the code; "form": the code, username and password
	Link      string // the short link's code
	Next      string // where the link leads
	PhoneHint string
	Username  string
	Error     string // message key
	Field     string // the input the error is about: code, username, password, password2
	Attempts  int    // attempts left on the code; -1: not said
}

// accountLink is the link's code of a form or query: short, or nothing.
func accountLink(r *http.Request) string {
	l := strings.TrimSpace(r.FormValue("link"))
	if len(l) > 32 {
		return ""
	}
	return l
}

// accountRefused answers the errors of the link itself: an unknown or
// expired link, or a blocked customer, gets the link's own page; an
// account that exists leads to the sign-in. ok is false for other errors.
func (u *UI) accountRefused(w http.ResponseWriter, r *http.Request, err error, next string) (bool, error) {
	switch {
	case esign.IsKind(err, esign.NotFound), esign.ErrorCode(err) == "customer_inactive", esign.ErrorCode(err) == "no_phone",
		esign.ErrorCode(err) == "missing_field":
		return true, u.ui.Render(w, r, http.StatusNotFound, "link_gone.html", webui.Page{Title: "link.gone.title"})
	case esign.ErrorCode(err) == "already_created":
		u.ui.Redirect(w, r, "/signin?next="+urlQuery(next), &webui.Flash{Kind: webui.FlashInfo, Key: "account.exists"})
		return true, nil
	}
	return false, nil
}

func (u *UI) anonymous(r *http.Request) rpc.Caller {
	c := u.caller(r)
	c.Token = ""
	return c
}

// accountStart is the first step: where the code will go.
func (u *UI) accountStart(w http.ResponseWriter, r *http.Request) error {
	d := accountData{Step: "start", Link: accountLink(r), Next: nextPath(r), Attempts: -1}
	a, err := u.api.AccountStart(r.Context(), u.anonymous(r), d.Link)
	if done, err := u.accountRefused(w, r, err, d.Next); done {
		return err
	}
	if esign.IsKind(err, esign.TooMany) {
		return u.accountForm(w, r, http.StatusTooManyRequests, d, "account.error.rate_limited", "")
	}
	if err != nil {
		return err
	}
	d.PhoneHint = a.PhoneHint
	return u.accountForm(w, r, http.StatusOK, d, "", "")
}

// accountSendCode sends (or sends again) the SMS code.
func (u *UI) accountSendCode(w http.ResponseWriter, r *http.Request) error {
	d := accountData{Step: "form", Link: accountLink(r), Next: nextPath(r), Attempts: -1}
	a, err := u.api.AccountSendCode(r.Context(), u.anonymous(r), d.Link)
	if done, err := u.accountRefused(w, r, err, d.Next); done {
		return err
	}
	if esign.IsKind(err, esign.TooMany) {
		d.Step = "start"
		return u.accountForm(w, r, http.StatusTooManyRequests, d, "account.error.sms_limit", "")
	}
	if err != nil {
		return err
	}
	d.PhoneHint = a.PhoneHint
	return u.accountForm(w, r, http.StatusOK, d, "", "")
}

// accountCreate creates the account and signs the customer in; the link
// then leads on (to the offer, or the page that says the bank has not yet
// approved the registration).
func (u *UI) accountCreate(w http.ResponseWriter, r *http.Request) error {
	d := accountData{Step: "form", Link: accountLink(r), Next: nextPath(r), Attempts: -1,
		Username: strings.TrimSpace(r.PostFormValue("username"))}
	pw := r.PostFormValue("password")
	switch {
	case strings.TrimSpace(r.PostFormValue("code")) == "":
		return u.accountForm(w, r, http.StatusBadRequest, d, "account.error.code_missing", "code")
	case d.Username == "":
		return u.accountForm(w, r, http.StatusBadRequest, d, "account.error.username_missing", "username")
	case pw == "":
		return u.accountForm(w, r, http.StatusBadRequest, d, "account.error.password_missing", "password")
	case pw != r.PostFormValue("password2"):
		return u.accountForm(w, r, http.StatusBadRequest, d, "account.error.password_mismatch", "password2")
	}
	in, err := u.api.AccountCreate(r.Context(), u.anonymous(r), rpc.AccountCreateRequest{Link: d.Link,
		Code: strings.TrimSpace(r.PostFormValue("code")), Username: d.Username, Password: pw})
	if done, err := u.accountRefused(w, r, err, d.Next); done {
		return err
	}
	code := esign.ErrorCode(err)
	switch {
	case err == nil:
		u.setSession(w, r, in, time.Now())
		http.Redirect(w, r, d.Next, http.StatusSeeOther)
		return nil
	case code == "invalid_code":
		key := "account.error.code"
		if n, ok := esign.ErrorAttemptsLeft(err); ok {
			d.Attempts = n
			if n == 0 {
				key = "account.error.code_dead"
			}
		}
		return u.accountForm(w, r, http.StatusBadRequest, d, key, "code")
	case strings.HasPrefix(code, "username_"), strings.HasPrefix(code, "password_"):
		field, _, _ := strings.Cut(code, "_")
		status := http.StatusBadRequest
		if esign.IsKind(err, esign.Conflict) {
			status = http.StatusConflict
		}
		return u.accountForm(w, r, status, d, "account.error."+code, field)
	case esign.IsKind(err, esign.TooMany):
		return u.accountForm(w, r, http.StatusTooManyRequests, d, "account.error.rate_limited", "")
	}
	return err
}

func (u *UI) accountForm(w http.ResponseWriter, r *http.Request, status int, d accountData, errKey, field string) error {
	d.Error, d.Field = errKey, field
	return u.ui.Render(w, r, status, "account.html", webui.Page{Title: "account.title", Data: d})
}

// pendingPage tells a customer whose registration the bank has not yet
// approved that the offers appear once it has (the app's rule).
func (u *UI) pendingPage(w http.ResponseWriter, r *http.Request, me *rpc.Me) error {
	return u.ui.Render(w, r, http.StatusOK, "pending.html", webui.Page{Title: "account.pending.title", Data: me, Principal: me})
}
