package customerui

import (
	"net/http"

	"esign/internal/esign"
	"esign/internal/rpc"
	"esign/internal/webui"
)

// refuse refuses the offer with the customer's optional reason.
func (u *UI) refuse(w http.ResponseWriter, r *http.Request, c rpc.Caller) error {
	id := r.PathValue("id")
	reason := r.PostFormValue("reason")
	if len([]rune(reason)) > 1000 {
		reason = string([]rune(reason)[:1000])
	}
	if _, err := u.api.RefuseOffer(r.Context(), c, id, reason); err != nil {
		if esign.ErrorCode(err) == "offer_state" {
			u.ui.Redirect(w, r, "/o/"+id, &webui.Flash{Kind: webui.FlashError, Key: "offer.refuse.state"})
			return nil
		}
		return err
	}
	u.ui.Redirect(w, r, "/o/"+id, &webui.Flash{Kind: webui.FlashSuccess, Key: "offer.refuse.done"})
	return nil
}
