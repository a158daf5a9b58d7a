package customerui

import (
	"net/http"

	"esign/internal/esign"
	"esign/internal/rpc"
	"esign/internal/signing"
	"esign/internal/webui"
)

type waitData struct {
	Status   *signing.Status
	Offer    *rpc.Offer
	Contract *rpc.Contract // once sealed
	LiveURL  string        // the seal progress stream; "": the page polls
}

// waitPage shows the signature's progress until the contract is sealed
// (static/wait.js follows the stream of the customer realtime listener,
// or polls /signatures/{id}/status when it cannot connect, and reloads
// when the signature is sealed or rejected), then the contract's
// documents.
func (u *UI) waitPage(w http.ResponseWriter, r *http.Request, c rpc.Caller) error {
	me, err := u.api.Me(r.Context(), c)
	if err != nil {
		return err
	}
	st, err := u.api.SignatureCheck(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := waitData{Status: st}
	if l := u.cfg.Live; l != nil {
		d.LiveURL = l.URL(r) + "/signatures/" + st.SignatureID + "/events"
	}
	if d.Offer, err = u.api.GetOffer(r.Context(), c, st.OfferID); err != nil {
		return err
	}
	if st.Status == esign.SignatureCompleted && st.ContractID != "" {
		if d.Contract, err = u.api.GetContract(r.Context(), c, st.ContractID); err != nil {
			return err
		}
	}
	return u.ui.Render(w, r, http.StatusOK, "wait.html", webui.Page{Title: "wait.title", Data: d, Principal: me})
}
