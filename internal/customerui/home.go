package customerui

import (
	"net/http"

	"esign/internal/rpc"
	"esign/internal/webui"
)

type homeData struct {
	Me        *rpc.Me
	Offers    []rpc.Offer
	Contracts []rpc.Contract
}

// home lists the customer's offers and contracts.
func (u *UI) home(w http.ResponseWriter, r *http.Request, c rpc.Caller) error {
	me, err := u.api.Me(r.Context(), c)
	if err != nil {
		return err
	}
	d := homeData{Me: me}
	if d.Offers, err = u.api.ListOffers(r.Context(), c, 50, 0); err != nil {
		return err
	}
	if d.Contracts, err = u.api.ListContracts(r.Context(), c, 50, 0); err != nil {
		return err
	}
	return u.ui.Render(w, r, http.StatusOK, "home.html", webui.Page{Title: "home.title", Data: d, Principal: me})
}
