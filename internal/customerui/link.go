package customerui

import (
	"net/http"

	"esign/internal/esign"
	"esign/internal/webui"
)

type linkGoneData struct {
	Renew   string // the expired code of an open offer: a fresh link can be asked for
	Sent    bool   // a fresh link was sent
	Limited bool   // too many fresh links were asked for
}

// shortLink follows the short link of a notification (/s/{code}) to its
// offer: through the sign-in when the customer is not signed in. An
// unknown or expired code gets its own page (404), never an error trace;
// an expired one of an offer still open offers a fresh link.
func (u *UI) shortLink(w http.ResponseWriter, r *http.Request) error {
	c := u.caller(r)
	code := r.PathValue("code")
	link, err := u.api.ResolveLink(r.Context(), c, code)
	if esign.ErrorCode(err) == "link_expired" {
		return u.ui.Render(w, r, http.StatusNotFound, "link_gone.html", webui.Page{Title: "link.expired.title",
			Data: linkGoneData{Renew: code}})
	}
	if esign.IsKind(err, esign.NotFound) || esign.IsKind(err, esign.Invalid) {
		return u.ui.Render(w, r, http.StatusNotFound, "link_gone.html", webui.Page{Title: "link.gone.title"})
	}
	if err != nil {
		return err
	}
	target := webui.LocalPath(link.Target)
	if c.Token == "" {
		// The link's code goes along: a customer without an account makes
		// one from it (account.go).
		http.Redirect(w, r, "/signin?next="+urlQuery(target)+"&link="+urlQuery(r.PathValue("code")), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// renewLink asks oss for a fresh link of the offer an expired link led to,
// sent by SMS to the registered phone (never to an address given here).
func (u *UI) renewLink(w http.ResponseWriter, r *http.Request) error {
	c := u.caller(r)
	c.Token = ""
	code := r.PathValue("code")
	err := u.api.RenewLink(r.Context(), c, code)
	switch {
	case err == nil:
		return u.ui.Render(w, r, http.StatusOK, "link_gone.html", webui.Page{Title: "link.expired.title", Data: linkGoneData{Sent: true}})
	case esign.IsKind(err, esign.TooMany):
		return u.ui.Render(w, r, http.StatusTooManyRequests, "link_gone.html", webui.Page{Title: "link.expired.title",
			Data: linkGoneData{Limited: true}})
	case esign.IsKind(err, esign.NotFound) || esign.IsKind(err, esign.Invalid):
		return u.ui.Render(w, r, http.StatusNotFound, "link_gone.html", webui.Page{Title: "link.gone.title"})
	}
	return err
}
