package adminui_test

import (
	"strings"
	"testing"

	"esign/internal/esign"
)

// TestTimelineLocation: the offer's timeline shows where each customer
// activity came from — the address and the place the MaxMind DB file
// mapped it to, or that it is unknown.
func TestTimelineLocation(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, "admin1", esign.RoleAdmin)
	cust := e.Customer(t, "Kovács Anna")
	doc := e.Document(t, cust.ID, "loan.pdf", []byte("%PDF-1.7 test"))
	o := e.Offer(t, cust.ID, "Personal loan", doc.ID)
	for _, a := range []*esign.Activity{
		{CustomerID: cust.ID, OfferID: o.ID, Kind: "offer.opened", IP: "192.0.2.10", Location: "Budapest, HU"},
		{CustomerID: cust.ID, OfferID: o.ID, Kind: "document.read", IP: "10.0.0.1", Location: "unknown"},
	} {
		if err := e.DB.CreateActivity(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := c.do("GET", "/offers/"+o.ID, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("offer page: %d", resp.StatusCode)
	}
	i := strings.Index(body, `id="timeline"`)
	if i < 0 {
		t.Fatal("no timeline")
	}
	tl := body[i:]
	for _, want := range []string{"IP 192.0.2.10", ": Budapest, HU", "IP 10.0.0.1"} {
		if !strings.Contains(tl, want) {
			t.Errorf("the timeline lacks %q:\n%s", want, tl)
		}
	}
	if !strings.Contains(tl, "hely ismeretlen") && !strings.Contains(tl, "location unknown") {
		t.Errorf("the timeline does not say the location is unknown:\n%s", tl)
	}
}
