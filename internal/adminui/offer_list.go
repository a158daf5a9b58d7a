package adminui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"esign/internal/esign"
	"esign/internal/operators"
)

type offerListData struct {
	Q         offerForm
	States    []esign.OfferState
	Page      *operators.OfferPage
	FirstHref string // the first page with the same filter
	NextHref  string
	Filtered  bool
}

type offerForm struct {
	Customer, Reference, State, From, To string
}

// AllStates lists the offer states in the order of their life.
var allStates = []esign.OfferState{esign.OfferCreated, esign.OfferNotified, esign.OfferOpened, esign.OfferSigning,
	esign.OfferSigned, esign.OfferRefused, esign.OfferRevoked, esign.OfferExpired}

func invalidf(field, msg string) error {
	return esign.WithCode("adminui.offers", esign.Invalid, field, msg)
}

func parseDate(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, invalidf(field, "the date must look like 2026-12-31")
	}
	return t, nil
}

// parseCursor reads "after=<unix microseconds>.<id>".
func parseCursor(s string) (esign.Cursor, error) {
	if s == "" {
		return esign.Cursor{}, nil
	}
	us, id, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || !esign.ValidID(id) {
		return esign.Cursor{}, invalidf("after", "the page link is broken; start from the first page")
	}
	return esign.Cursor{CreatedAt: time.UnixMicro(n).UTC(), ID: id}, nil
}

func formatCursor(c esign.Cursor) string {
	return strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + "." + c.ID
}

func (u *UI) offerList(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	qv := r.URL.Query()
	f := offerForm{Customer: strings.TrimSpace(qv.Get("customer")), Reference: strings.TrimSpace(qv.Get("ref")),
		State: qv.Get("state"), From: qv.Get("from"), To: qv.Get("to")}
	q := operators.OfferQuery{CustomerRef: f.Customer, Reference: f.Reference, State: esign.OfferState(f.State)}
	var err error
	if q.From, err = parseDate("from", f.From); err != nil {
		return err
	}
	if q.To, err = parseDate("to", f.To); err != nil {
		return err
	}
	if !q.To.IsZero() {
		q.To = q.To.Add(24 * time.Hour) // the whole "to" day
	}
	if q.After, err = parseCursor(qv.Get("after")); err != nil {
		return err
	}
	page, err := u.svc.ListOffers(r.Context(), q)
	if err != nil {
		return err
	}
	data := offerListData{Q: f, States: allStates, Page: page, Filtered: f != offerForm{}}
	data.FirstHref, data.NextHref = pageLinks("/offers", page.Next,
		map[string]string{"customer": f.Customer, "ref": f.Reference, "state": f.State, "from": f.From, "to": f.To})
	return u.page(w, r, p, "offer_list.html", "offers.title", "offers", data)
}

// pageLinks are the links to the first and the next page of a list with
// the same filter (the non-empty query parameters); next is "" on the last
// page.
func pageLinks(path string, cursor esign.Cursor, filter map[string]string) (first, next string) {
	link := url.Values{}
	for k, v := range filter {
		if v != "" {
			link.Set(k, v)
		}
	}
	first = path + "?" + link.Encode()
	if !cursor.IsZero() {
		link.Set("after", formatCursor(cursor))
		next = path + "?" + link.Encode()
	}
	return first, next
}
