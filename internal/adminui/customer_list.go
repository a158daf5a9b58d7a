package adminui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"esign/internal/esign"
	"esign/internal/operators"
)

type customerListData struct {
	Status     string
	Ref        string
	Statuses   []esign.CustomerStatus
	Customers  []*esign.Customer
	CanApprove bool
	CanWrite   bool
	PrevHref   string
	NextHref   string
}

const customersPerPage = 25

func (u *UI) customerList(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	qv := r.URL.Query()
	d := customerListData{Status: qv.Get("status"), Ref: strings.TrimSpace(qv.Get("ref")),
		Statuses:   []esign.CustomerStatus{esign.CustomerPending, esign.CustomerActive, esign.CustomerBlocked, esign.CustomerDeleted},
		CanApprove: p.Can(esign.PermCustomerApprove), CanWrite: p.Can(esign.PermCustomerWrite)}
	pageNo, _ := strconv.Atoi(qv.Get("page"))
	pageNo = max(pageNo, 1)
	cs, err := u.svc.ListCustomers(r.Context(), operators.CustomerQuery{Status: esign.CustomerStatus(d.Status), Ref: d.Ref,
		Page: esign.Page{Limit: customersPerPage + 1, Offset: (pageNo - 1) * customersPerPage}})
	if err != nil {
		return err
	}
	link := func(n int) string {
		v := url.Values{}
		if d.Status != "" {
			v.Set("status", d.Status)
		}
		if d.Ref != "" {
			v.Set("ref", d.Ref)
		}
		v.Set("page", strconv.Itoa(n))
		return "/customers?" + v.Encode()
	}
	if len(cs) > customersPerPage {
		cs = cs[:customersPerPage]
		d.NextHref = link(pageNo + 1)
	}
	if pageNo > 1 {
		d.PrevHref = link(pageNo - 1)
	}
	d.Customers = cs
	return u.page(w, r, p, "customer_list.html", "customers.title", "customers", d)
}
