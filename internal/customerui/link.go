package customerui

import (
	"net/http"

	"esign/internal/esign"
	"esign/internal/webui"
)

// shortLink follows the short link of a notification (/s/{code}) to its
// offer: through the sign-in when the customer is not signed in. An
// unknown or expired code gets its own page (404), never an error trace.
func (u *UI) shortLink(w http.ResponseWriter, r *http.Request) error {
	c := u.caller(r)
	link, err := u.api.ResolveLink(r.Context(), c, r.PathValue("code"))
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
