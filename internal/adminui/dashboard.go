package adminui

import (
	"net/http"

	"esign/internal/esign"
	"esign/internal/operators"
)

type dashboardData struct {
	D       *operators.Dashboard
	Waiting int // created, notified or opened
	Tiles   []tile
	Live    liveView
}

type tile struct {
	Label string // message key
	N     int
	Href  string
	Class string
}

func (u *UI) dashboard(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	d, err := u.svc.Dashboard(r.Context())
	if err != nil {
		return err
	}
	o := d.Offers
	data := dashboardData{D: d, Tiles: []tile{
		{"dashboard.waiting", o[esign.OfferCreated] + o[esign.OfferNotified] + o[esign.OfferOpened], "/offers?state=notified", ""},
		{"dashboard.signing", o[esign.OfferSigning], "/offers?state=signing", ""},
		{"dashboard.signed_today", d.SignedToday, "/offers?state=signed", ""},
		{"dashboard.signed", o[esign.OfferSigned], "/offers?state=signed", ""},
		{"dashboard.refused", o[esign.OfferRefused], "/offers?state=refused", ""},
		{"dashboard.expired", o[esign.OfferExpired], "/offers?state=expired", ""},
		{"dashboard.revoked", o[esign.OfferRevoked], "/offers?state=revoked", ""},
	}}
	if p.Can(esign.PermCustomerRead) {
		data.Tiles = append(data.Tiles, tile{"dashboard.pending_customers", d.PendingCustomers, "/customers?status=pending", warnIf(d.PendingCustomers > 0)})
	}
	failed := ""
	if p.Can(esign.PermProcessRead) {
		failed = "/events?status=failed"
	}
	data.Tiles = append(data.Tiles, tile{"dashboard.failed_deliveries", d.FailedDeliveries, failed, warnIf(d.FailedDeliveries > 0)})
	if data.Live, err = u.liveFor(r, "", 10); err != nil {
		return err
	}
	return u.page(w, r, p, "dashboard.html", "dashboard.title", "dashboard", data)
}

func warnIf(b bool) string {
	if b {
		return "warn-tile"
	}
	return ""
}
