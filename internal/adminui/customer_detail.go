package adminui

import (
	"net/http"
	"strings"

	"esign/internal/esign"
	"esign/internal/offers"
	"esign/internal/operators"
	"esign/internal/webui"
)

type customerDetailData struct {
	*operators.CustomerDetail
	CanWrite   bool
	CanApprove bool
}

// customerDetail is a customer's page: data, status, apps and devices,
// open sessions, recent activity, offers and contracts.
func (u *UI) customerDetail(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	d, err := u.svc.Customer(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return u.ui.Render(w, r, http.StatusOK, "customer_detail.html", pageOf(p, "customer.title", "customers",
		customerDetailData{CustomerDetail: d, CanWrite: p.Can(esign.PermCustomerWrite), CanApprove: p.Can(esign.PermCustomerApprove)}, d.Customer.Name))
}

// customerBlock blocks (block true) or unblocks the customer.
func (u *UI) customerBlock(block bool) handler {
	do, done := u.svc.UnblockCustomer, "customer.unblocked"
	if block {
		do, done = u.svc.BlockCustomer, "customer.blocked"
	}
	return func(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
		id := r.PathValue("id")
		_, err := do(r.Context(), p, id)
		if esign.IsKind(err, esign.Conflict) {
			u.ui.Redirect(w, r, "/customers/"+id, &webui.Flash{Kind: webui.FlashError, Key: "customer.block_conflict"})
			return nil
		}
		if err != nil {
			return err
		}
		u.ui.Redirect(w, r, "/customers/"+id, &webui.Flash{Kind: webui.FlashSuccess, Key: done})
		return nil
	}
}

// customerBootstrap creates a pending customer, as the webhook's
// /customer/bootstrap does, and opens the new customer's page.
func (u *UI) customerBootstrap(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	field := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	c, err := u.svc.BootstrapCustomer(r.Context(), offers.NewCustomer{ExternalRef: field("ref"), Name: field("name"),
		Email: field("email"), Phone: field("phone"), Locale: field("locale")})
	if err != nil {
		return err
	}
	noteAudit(r, c.ID, "ref", c.ExternalRef)
	u.ui.Redirect(w, r, "/customers/"+c.ID, &webui.Flash{Kind: webui.FlashSuccess, Key: "customer.bootstrapped"})
	return nil
}

// customerAssociationCode sends the customer the SMS code that links a
// device, as the webhook's /customer/send-association-token does.
func (u *UI) customerAssociationCode(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	id := r.PathValue("id")
	if err := u.svc.SendAssociationCode(r.Context(), id); err != nil {
		return err
	}
	u.ui.Redirect(w, r, "/customers/"+id, &webui.Flash{Kind: webui.FlashSuccess, Key: "customer.code_sent"})
	return nil
}
