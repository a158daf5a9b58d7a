package customerui

import (
	"net/http"

	"esign/internal/esign"
	"esign/internal/rpc"
	"esign/internal/webui"
)

type homeData struct {
	Me        *rpc.Me
	Offers    []rpc.Offer // waiting for the customer
	Earlier   []rpc.Offer // signed, refused, withdrawn or expired
	Contracts []rpc.Contract
}

// home lists the customer's offers and contracts.
func (u *UI) home(w http.ResponseWriter, r *http.Request, c rpc.Caller) error {
	me, err := u.api.Me(r.Context(), c)
	if err != nil {
		return err
	}
	d := homeData{Me: me}
	offers, err := u.api.ListOffers(r.Context(), c, 50, 0)
	if err != nil {
		return err
	}
	for _, o := range offers {
		if signable(o.State) || o.State == string(esign.OfferSigning) {
			d.Offers = append(d.Offers, o)
		} else {
			d.Earlier = append(d.Earlier, o)
		}
	}
	if d.Contracts, err = u.api.ListContracts(r.Context(), c, 50, 0); err != nil {
		return err
	}
	return u.ui.Render(w, r, http.StatusOK, "home.html", webui.Page{Title: "home.title", Data: d, Principal: me})
}
