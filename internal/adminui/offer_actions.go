package adminui

import (
	"encoding/json"
	"net/http"
	"strconv"

	"esign/internal/esign"
	"esign/internal/offers"
	"esign/internal/operators"
	"esign/internal/webui"
)

// channels are the choices of the new-offer form ("" is every address).
var channels = []string{"", "sms", "email", "push"}

type offerNewData struct {
	Form     offerUpload
	Channels []string
	Error    string
	MaxBytes int64
}

// offerNewForm shows the new-offer form, the customer filled in from
// ?customer= (the customers list links here).
func (u *UI) offerNewForm(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	d := offerNewData{Form: offerUpload{Customer: r.URL.Query().Get("customer")}, Channels: channels, MaxBytes: u.cfg.UploadMaxBytes}
	return u.page(w, r, p, "offer_new.html", "offer_new.title", "offers", d)
}

// offerCreate uploads the offer through the offers service (as the webhook
// upload does) and shows it; a refused upload shows the form again with
// the reason.
func (u *UI) offerCreate(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	f, err := parseOfferUpload(r.Header.Get("Content-Type"), r.Body)
	var upload offers.Upload
	if err == nil {
		upload, err = f.upload()
	}
	if err == nil {
		var o *esign.Offer
		if o, err = u.svc.CreateOffer(r.Context(), upload); err == nil {
			noteAudit(r, o.ID) // the audit entry names the new offer
			u.ui.Redirect(w, r, "/offers/"+o.ID, &webui.Flash{Kind: webui.FlashSuccess, Key: "offer_new.done"})
			return nil
		}
	}
	if esign.IsKind(err, esign.Conflict) {
		err = esign.WithCode("adminui.offers", esign.Conflict, "offer_reference_taken", "the customer already has an offer with this reference")
	}
	if k := esign.ErrorKind(err); k != esign.Invalid && k != esign.NotFound && k != esign.Conflict && k != esign.Forbidden {
		return err
	}
	f.Files = nil
	d := offerNewData{Form: f, Channels: channels, Error: u.errorText(r, err), MaxBytes: u.cfg.UploadMaxBytes}
	if rerr := u.ui.Render(w, r, http.StatusUnprocessableEntity, "offer_new.html", pageOf(p, "offer_new.title", "offers", d)); rerr != nil {
		return rerr
	}
	return &answered{err}
}

// errorText is an error's text for a form: the catalogue's
// "upload.error.<code>" or "error.code.<code>" when it has one, else the
// error's user-safe message (in English) or the kind's text.
func (u *UI) errorText(r *http.Request, err error) string {
	cat, lang := u.ui.Catalogue(), u.ui.Language(r)
	code := esign.ErrorCode(err)
	for _, key := range []string{"upload.error." + code, "error.code." + code} {
		if code != "" && cat.Has(key) {
			return cat.T(lang, key)
		}
	}
	if lang == "en" && esign.ErrorKind(err) != esign.Internal {
		return esign.ErrorMessage(err)
	}
	return cat.T(lang, "error."+esign.ErrorKind(err).String())
}

// offerRevoke withdraws an offer; the customer is notified.
func (u *UI) offerRevoke(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	id := r.PathValue("id")
	_, err := u.svc.RevokeOffer(r.Context(), id, r.PostFormValue("reason"))
	return u.afterAction(w, r, "/offers/"+id, err, "offer.revoke.done")
}

// offerResend sends the offer's notification again.
func (u *UI) offerResend(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	id := r.PathValue("id")
	_, err := u.svc.ResendOffer(r.Context(), id)
	return u.afterAction(w, r, "/offers/"+id, err, "offer.resend.done")
}

// afterAction returns to the page with a flash: done, or the refusal's
// text for an action the offer's state or the customer does not allow.
// Other errors show the error page.
func (u *UI) afterAction(w http.ResponseWriter, r *http.Request, to string, err error, done string) error {
	if err == nil {
		u.ui.Redirect(w, r, to, &webui.Flash{Kind: webui.FlashSuccess, Key: done})
		return nil
	}
	if key := refusalKey(err); key != "" {
		u.ui.Redirect(w, r, to, &webui.Flash{Kind: webui.FlashError, Key: key})
		return &answered{err}
	}
	return err
}

// refusalKey is the flash message of an action refused for the offer's
// state or its customer ("" for other errors).
func refusalKey(err error) string {
	switch esign.ErrorCode(err) {
	case "offer_state", "no_recipient", "customer_inactive":
		return "offer.refused." + esign.ErrorCode(err)
	}
	if esign.IsKind(err, esign.Conflict) {
		return "offer.refused.conflict"
	}
	return ""
}

// maxBulk is the most offers one bulk action takes (a page of the list
// holds at most 100).
const maxBulk = 100

// offerBulk revokes or resends every selected offer of the list, each
// audited on its own; the list then tells how many succeeded and failed.
func (u *UI) offerBulk(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	if err := r.ParseForm(); err != nil {
		return invalidf("form", "the form is malformed")
	}
	action := r.PostForm.Get("action")
	ids := r.PostForm["offer"]
	if action != "revoke" && action != "resend" {
		return invalidf("action", "choose revoke or resend")
	}
	to := returnTo(r, "/offers")
	if len(ids) == 0 {
		u.ui.Redirect(w, r, to, &webui.Flash{Kind: webui.FlashError, Key: "offers.bulk.none"})
		return nil
	}
	if len(ids) > maxBulk {
		return invalidf("offer", "at most "+strconv.Itoa(maxBulk)+" offers at once")
	}
	ok := 0
	for _, id := range ids {
		var err error
		if action == "revoke" {
			_, err = u.svc.RevokeOffer(r.Context(), id, r.PostForm.Get("reason"))
		} else {
			_, err = u.svc.ResendOffer(r.Context(), id)
		}
		result := "ok"
		if err != nil {
			result = esign.ErrorKind(err).String()
			if code := esign.ErrorCode(err); code != "" {
				result += ":" + code
			}
		} else {
			ok++
		}
		detail, _ := json.Marshal(map[string]string{"result": result, "bulk": "true"})
		if aerr := u.svc.Audit(r.Context(), p.User.ID, operators.Entry{Action: "offer." + action, ObjectType: "offer",
			ObjectID: id, Detail: string(detail)}, meta(r)); aerr != nil {
			return aerr
		}
		if err != nil && refusalKey(err) == "" && !esign.IsKind(err, esign.NotFound) {
			return err
		}
	}
	f := &webui.Flash{Kind: webui.FlashSuccess, Key: "offers.bulk." + action + ".done"}
	if ok < len(ids) {
		f = &webui.Flash{Kind: webui.FlashError, Key: "offers.bulk.partial"}
	}
	u.ui.Redirect(w, r, to, f)
	return nil
}
