package adminui

import (
	"net/http"

	"esign/internal/esign"
	"esign/internal/operators"
	"esign/internal/webui"
)

// customerApprove approves a pending registration; the customer's app gets
// the push notification of the onboarding.
func (u *UI) customerApprove(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	_, err := u.svc.ApproveCustomer(r.Context(), p, r.PathValue("id"))
	if esign.ErrorCode(err) == "not_pending" {
		u.ui.Redirect(w, r, back(r), &webui.Flash{Kind: webui.FlashError, Key: "customers.approve.not_pending"})
		return nil
	}
	if esign.ErrorCode(err) == "approval_vetoed" {
		// The bank's customer_registered hook: its reason is in the
		// customer's activity.
		u.ui.Redirect(w, r, "/customers/"+r.PathValue("id"), &webui.Flash{Kind: webui.FlashError, Key: "customers.approve.vetoed"})
		return nil
	}
	if err != nil {
		return err
	}
	u.ui.Redirect(w, r, back(r), &webui.Flash{Kind: webui.FlashSuccess, Key: "customers.approve.done"})
	return nil
}

// back is where a form returns to: its "return" field when it is a local
// path, else the customer list.
func back(r *http.Request) string { return returnTo(r, "/customers") }

// returnTo is the form's "return" field when it is a local path, else def.
func returnTo(r *http.Request, def string) string {
	if ret := r.PostFormValue("return"); ret != "" {
		return webui.LocalPath(ret)
	}
	return def
}
