package customerui

import (
	"net/http"

	"esign/internal/esign"
	"esign/internal/rpc"
	"esign/internal/webui"
)

type offerData struct {
	Me      *rpc.Me
	Offer   *rpc.Offer
	AllRead bool // every document was read to the end: signing is allowed
	CanSign bool // the offer's state allows signing
	Resume  bool // M1 was sent: a signing in progress, which this browser may hold the key of
}

// signable reports whether the offer's state lets the customer sign or
// refuse it.
func signable(state string) bool {
	return state == string(esign.OfferNotified) || state == string(esign.OfferOpened)
}

// allRead reports whether the customer read every document of the offer
// to the end in the viewer, which oss requires before M1 (not_read).
func allRead(o *rpc.Offer) bool {
	for _, d := range o.Documents {
		if d.ReadToEndAt.IsZero() {
			return false
		}
	}
	return len(o.Documents) > 0
}

// offerPage shows the offer with its documents, the signing steps and the
// refusal (opening it marks it opened in oss).
func (u *UI) offerPage(w http.ResponseWriter, r *http.Request, c rpc.Caller) error {
	me, err := u.api.Me(r.Context(), c)
	if err != nil {
		return err
	}
	if !me.Approved {
		return u.pendingPage(w, r, me)
	}
	o, err := u.api.GetOffer(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	return u.ui.Render(w, r, http.StatusOK, "offer.html", webui.Page{Title: "offer.title", TitleArgs: []any{o.Title},
		Data: offerData{Me: me, Offer: o, AllRead: allRead(o), CanSign: signable(o.State),
			Resume: o.State == string(esign.OfferSigning)}, Principal: me})
}
