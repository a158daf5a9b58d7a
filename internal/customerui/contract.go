package customerui

import (
	"net/http"

	"esign/internal/rpc"
	"esign/internal/webui"
)

// contractPage shows the sealed contract with a download for each
// document.
func (u *UI) contractPage(w http.ResponseWriter, r *http.Request, c rpc.Caller) error {
	me, err := u.api.Me(r.Context(), c)
	if err != nil {
		return err
	}
	k, err := u.api.GetContract(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	return u.ui.Render(w, r, http.StatusOK, "contract.html", webui.Page{Title: "contract.title", TitleArgs: []any{k.Title},
		Data: k, Principal: me})
}
