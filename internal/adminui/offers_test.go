package adminui_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"esign/internal/adminui"
	"esign/internal/esign"
	"esign/internal/notify"
	"esign/internal/pades"
	"esign/internal/pades/padestest"
	"esign/internal/pdf/pdftest"
)

// english makes the client's pages English (the texts the tests look for).
func (c *client) english() *client {
	c.t.Helper()
	c.do("POST", "/language", url.Values{"lang": {"en"}, "return": {"/"}})
	return c
}

// part is one part of a multipart form: a field, or a file when name is set.
type part struct {
	field, file string
	data        []byte
}

// upload posts a multipart form.
func (c *client) upload(path string, parts ...part) (*http.Response, string) {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.file != "" {
			w, err = mw.CreateFormFile(p.field, p.file)
		} else {
			w, err = mw.CreateFormField(p.field)
		}
		if err != nil {
			c.t.Fatal(err)
		}
		w.Write(p.data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", c.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.send(req)
}

func field(name, v string) part { return part{field: name, data: []byte(v)} }

// offerForm is a complete new-offer form for the customer with the files,
// expiring on the day.
func offerForm(customerRef, day string, files ...part) []part {
	return append([]part{field("customer", customerRef), field("title", "Lakáshitel"), field("reference", "HL-1"),
		field("expires", day), field("channel", "")}, files...)
}

// TestOfferUpload: an operator uploads an offer for a customer through the
// form: the offers service stores it and notifies the customer, the audit
// names the new offer; refused uploads show the form again with the reason.
func TestOfferUpload(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.signIn(t, "uploader", esign.RoleOperator).english()
	cust := e.Customer(t, "Tóth Éva")
	day := e.Clock.Now().Add(10 * 24 * time.Hour).Format("2006-01-02")

	resp, body := c.do("GET", "/offers/new?customer="+url.QueryEscape(cust.ExternalRef), nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `value="`+cust.ExternalRef+`"`) {
		t.Fatalf("form: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = c.upload("/offers/new", offerForm(cust.ExternalRef, day, part{field: "document", file: "hitel.pdf", data: pdftest.Minimal(2)},
		part{field: "document", file: `C:\x\feltételek.pdf`, data: pdftest.Minimal(1)})...)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/offers/") {
		t.Fatalf("upload: %d %q", resp.StatusCode, loc)
	}
	id := strings.TrimPrefix(loc, "/offers/")
	d, err := e.Ops.Offer(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Offer.State != esign.OfferNotified || d.Offer.Title != "Lakáshitel" || d.Offer.ExternalRef != "HL-1" || len(d.Documents) != 2 ||
		d.Documents[1].Name != "feltételek.pdf" && d.Documents[0].Name != "feltételek.pdf" {
		t.Errorf("offer %+v documents %+v", d.Offer, d.Documents)
	}
	if d.Offer.ExpiresAt.UTC().Format("2006-01-02 15:04:05") != day+" 23:59:59" {
		t.Errorf("expires %v", d.Offer.ExpiresAt)
	}
	if n := e.Queue.Count(notify.OfferAvailable); n != 1 {
		t.Errorf("%d offer-available notifications, want 1 (the customer has a phone)", n)
	}
	logs, err := e.Ops.ListAudit(ctx, esign.AuditLogFilter{Action: "offer.create"})
	if err != nil || len(logs) != 1 || logs[0].ObjectID != id || !strings.Contains(logs[0].Detail, `"ok"`) {
		t.Errorf("audit %+v %v", logs, err)
	}

	// An upload may be larger than the UI's other requests (1 MiB).
	resp, _ = c.upload("/offers/new", field("customer", cust.ExternalRef), field("title", "Large"), field("expires", day),
		part{field: "document", file: "big.pdf", data: pdftest.MinimalPadded(1, 2<<20)})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a 2 MiB upload: %d", resp.StatusCode)
	}
	if n := e.Queue.Count(notify.OfferAvailable); n != 2 {
		t.Errorf("%d offer-available notifications after two uploads", n)
	}
	small, err := adminui.New(e.Ops, slog.New(slog.DiscardHandler), adminui.Config{Version: "test", UploadMaxBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	smallSrv := httptest.NewServer(small.Handler())
	defer smallSrv.Close()
	tests := []struct {
		name  string
		base  string
		parts []part
		want  string
	}{
		{"not a PDF", "", offerForm(cust.ExternalRef, day, part{field: "document", file: "a.pdf", data: []byte("hello")}), "not a readable PDF"},
		{"no file", "", offerForm(cust.ExternalRef, day), "Choose a PDF"},
		{"unknown customer", "", offerForm("NO-SUCH", day, part{field: "document", file: "a.pdf", data: pdftest.Minimal(1)}), "no customer with this reference"},
		{"no date", "", append(offerForm(cust.ExternalRef, day)[:3], part{field: "document", file: "a.pdf", data: pdftest.Minimal(1)}), "expiry day"},
		{"unknown field", "", append(offerForm(cust.ExternalRef, day), field("evil", "1")), "unknown form field"},
		{"reference taken", "", offerForm(cust.ExternalRef, day, part{field: "document", file: "a.pdf", data: pdftest.Minimal(1)}), "already has an offer with this reference"},
		{"too large", smallSrv.URL, offerForm(cust.ExternalRef, day, part{field: "document", file: "big.pdf", data: pdftest.MinimalPadded(1, 100<<10)}), "larger than the upload limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := c
			if tt.base != "" {
				cc = &client{t: t, base: tt.base, c: c.c}
				// The session cookie belongs to the first server's host;
				// copy it over.
				u1, _ := url.Parse(c.base)
				u2, _ := url.Parse(tt.base)
				c.c.Jar.SetCookies(u2, c.c.Jar.Cookies(u1))
			}
			resp, body := cc.upload("/offers/new", tt.parts...)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(body), tt.want) ||
				!strings.Contains(body, `id="form-error"`) {
				t.Errorf("status %d, want 422 with %q\n%s", resp.StatusCode, tt.want, body)
			}
		})
	}
	if n := e.Queue.Count(notify.OfferAvailable); n != 2 {
		t.Errorf("refused uploads notified: %d notifications", n)
	}
}

// TestOfferActions: revoke and resend on the offer page and in bulk on the
// list, each audited; an action the state does not allow is refused with a
// message, not an error page.
func TestOfferActions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.signIn(t, "actor", esign.RoleOperator).english()
	cust := e.Customer(t, "Kiss Béla")
	a := e.Offer(t, cust.ID, "A")
	b := e.Offer(t, cust.ID, "B")
	x := e.Offer(t, cust.ID, "X")

	resp, body := c.do("GET", "/offers/"+a.ID, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `action="/offers/`+a.ID+`/revoke"`) || !strings.Contains(body, `action="/offers/`+a.ID+`/resend"`) {
		t.Fatalf("offer page without the actions: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = c.do("POST", "/offers/"+a.ID+"/resend", url.Values{})
	if resp.StatusCode != http.StatusSeeOther || e.Queue.Count(notify.OfferAvailable) != 1 {
		t.Errorf("resend: %d, %d notifications", resp.StatusCode, e.Queue.Count(notify.OfferAvailable))
	}
	resp, _ = c.do("POST", "/offers/"+a.ID+"/revoke", url.Values{"reason": {"Téves ajánlat"}})
	if o, _ := e.DB.GetOffer(ctx, a.ID); resp.StatusCode != http.StatusSeeOther || o.State != esign.OfferRevoked || o.StateReason != "Téves ajánlat" {
		t.Errorf("revoke: %d %+v", resp.StatusCode, o)
	}
	if n := e.Queue.Count(notify.OfferRevoked); n != 1 {
		t.Errorf("%d revocation messages", n)
	}
	// Revoked is final: both actions are refused with a flash.
	for _, action := range []string{"revoke", "resend"} {
		resp, _ = c.do("POST", "/offers/"+a.ID+"/"+action, url.Values{})
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s a revoked offer: %d", action, resp.StatusCode)
		}
		_, page := c.do("GET", "/offers/"+a.ID, nil)
		if !strings.Contains(page, "flash-error") {
			t.Errorf("%s a revoked offer: no refusal shown", action)
		}
		logs, _ := e.Ops.ListAudit(ctx, esign.AuditLogFilter{Action: "offer." + action, ObjectID: a.ID})
		if len(logs) == 0 || !strings.Contains(logs[0].Detail, "invalid") {
			t.Errorf("%s refusal audit: %+v", action, logs)
		}
	}

	// An offer the customer is signing waits for nobody: no resend.
	y := e.Offer(t, cust.ID, "Y")
	y, _ = e.DB.UpdateOfferState(ctx, y.ID, y.Version, esign.OfferOpened, "")
	if _, err := e.DB.UpdateOfferState(ctx, y.ID, y.Version, esign.OfferSigning, ""); err != nil {
		t.Fatal(err)
	}
	before := e.Queue.Count(notify.OfferAvailable)
	if resp, _ := c.do("POST", "/offers/"+y.ID+"/resend", url.Values{}); resp.StatusCode != http.StatusSeeOther || e.Queue.Count(notify.OfferAvailable) != before {
		t.Errorf("resend while signing: %d, %d notifications queued", resp.StatusCode, e.Queue.Count(notify.OfferAvailable)-before)
	}
	if _, page := c.do("GET", "/offers/"+y.ID, nil); !strings.Contains(page, "no longer in a state that allows this") {
		t.Error("resend while signing: no refusal shown")
	}

	// Bulk: resend to b and x, then revoke b, x and the revoked a.
	_, list := c.do("GET", "/offers", nil)
	if !strings.Contains(list, `action="/offers/bulk"`) || !strings.Contains(list, `value="`+b.ID+`"`) {
		t.Fatalf("offer list without the bulk form\n%s", list)
	}
	before = e.Queue.Count(notify.OfferAvailable)
	resp, _ = c.do("POST", "/offers/bulk", url.Values{"action": {"resend"}, "offer": {b.ID, x.ID}, "return": {"/offers?state=notified"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/offers?state=notified" {
		t.Errorf("bulk resend: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := e.Queue.Count(notify.OfferAvailable) - before; n != 2 {
		t.Errorf("bulk resend queued %d notifications, want 2", n)
	}
	resp, _ = c.do("POST", "/offers/bulk", url.Values{"action": {"revoke"}, "offer": {b.ID, x.ID, a.ID}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("bulk revoke: %d", resp.StatusCode)
	}
	for _, id := range []string{b.ID, x.ID} {
		if o, _ := e.DB.GetOffer(ctx, id); o.State != esign.OfferRevoked {
			t.Errorf("offer %s %s after the bulk revoke", id, o.State)
		}
		logs, _ := e.Ops.ListAudit(ctx, esign.AuditLogFilter{Action: "offer.revoke", ObjectID: id})
		if len(logs) != 1 || !strings.Contains(logs[0].Detail, `"bulk":"true"`) {
			t.Errorf("bulk revoke of %s audit %+v", id, logs)
		}
	}
	_, page := c.do("GET", "/offers", nil)
	if !strings.Contains(page, "flash-error") {
		t.Error("a bulk action that skipped an offer says nothing")
	}
	for _, bad := range []url.Values{{"action": {"delete"}, "offer": {b.ID}}, {"action": {"revoke"}, "offer": {"not-an-id"}}} {
		resp, _ := c.do("POST", "/offers/bulk", bad)
		if resp.StatusCode >= 500 {
			t.Errorf("bulk %v: %d", bad, resp.StatusCode)
		}
	}
}

// TestContractsAndVerify: the contract list pages by keyset, a contract's
// document downloads and verifies; an uploaded PDF is verified by the
// same code as `esign pdf verify`, the JSON download is that report.
func TestContractsAndVerify(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, "verifier", esign.RoleAdmin).english()
	cust := e.Customer(t, "Nagy Ilona")
	signed := padestest.SelfSigned(t, "Other Bank Signer")
	var ids []string
	for i := range 27 {
		doc := e.Document(t, cust.ID, "szerzodes.pdf", signed)
		k := e.Contract(t, cust.ID, "Contract "+string(rune('A'+i)), doc.ID)
		ids = append(ids, k.ID)
		e.Clock.Advance(time.Second)
	}
	next := regexp.MustCompile(`href="(/contracts\?[^"]*after=[^"]*)" rel="next"`)
	row := regexp.MustCompile(`href="/contracts/([0-9a-f-]{36})"`)
	seen := map[string]bool{}
	path := "/contracts?customer=" + url.QueryEscape(cust.ExternalRef)
	for pages := 0; path != ""; pages++ {
		if pages > 2 {
			t.Fatal("too many pages")
		}
		resp, body := c.do("GET", html.UnescapeString(path), nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, body)
		}
		for _, m := range row.FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Errorf("contract %s on two pages", m[1])
			}
			seen[m[1]] = true
		}
		path = ""
		if m := next.FindStringSubmatch(body); m != nil {
			path = m[1]
		}
	}
	if len(seen) != 27 {
		t.Errorf("%d contracts listed, want 27", len(seen))
	}
	if resp, body := c.do("GET", "/contracts?status=bogus", nil); resp.StatusCode != 422 && resp.StatusCode != 400 {
		t.Errorf("unknown status: %d\n%s", resp.StatusCode, body)
	}

	d, err := e.Ops.Contract(context.Background(), ids[0])
	if err != nil || len(d.Documents) != 1 {
		t.Fatal(err)
	}
	doc := d.Documents[0]
	resp, body := c.do("GET", "/contracts/"+ids[0], nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `/contracts/`+ids[0]+`/documents/`+doc.ID+`/verify`) || !strings.Contains(body, `class="view-doc`) {
		t.Errorf("contract page: %d\n%s", resp.StatusCode, body)
	}
	resp, body = c.do("GET", "/contracts/"+ids[0]+"/documents/"+doc.ID+"?inline=1", nil)
	if resp.StatusCode != 200 || body != string(signed) || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline") {
		t.Errorf("inline contract document: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body = c.do("GET", "/contracts/"+ids[0]+"/documents/"+doc.ID+"/verify", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Other Bank Signer") || !strings.Contains(body, "PAdES B-B") {
		t.Errorf("contract verification: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := c.do("GET", "/contracts/"+ids[1]+"/documents/"+doc.ID, nil); resp.StatusCode != 404 {
		t.Errorf("another contract's document: %d", resp.StatusCode)
	}

	// An uploaded PDF: the report and its JSON equal the CLI's.
	resp, body = c.upload("/verify", part{field: "document", file: "other.pdf", data: signed})
	if resp.StatusCode != 200 {
		t.Fatalf("verify: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{"Other Bank Signer", "PAdES B-B", `id="verdict"`, "not trusted"} {
		if !strings.Contains(body, want) {
			t.Errorf("report lacks %q\n%s", want, body)
		}
	}
	m := regexp.MustCompile(`href="data:application/json;base64,([^"]+)" download="other.pdf.verification.json"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no JSON download\n%s", body)
	}
	got, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := pades.Verify(context.Background(), bytes.NewReader(signed), int64(len(signed)), pades.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := rep.JSON()
	var gv, wv any
	json.Unmarshal(got, &gv)
	json.Unmarshal(want, &wv)
	if gj, _ := json.Marshal(gv); string(gj) != func() string { b, _ := json.Marshal(wv); return string(b) }() {
		t.Errorf("JSON download differs from `esign pdf verify --json`:\n%s\nwant\n%s", got, want)
	}
	for name, p := range map[string][]part{
		"not a PDF": {{field: "document", file: "x.pdf", data: []byte("nope")}},
		"nothing":   {},
		"two files": {{field: "document", file: "a.pdf", data: signed}, {field: "document", file: "b.pdf", data: signed}},
	} {
		resp, body := c.upload("/verify", p...)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="form-error"`) {
			t.Errorf("%s: %d\n%s", name, resp.StatusCode, body)
		}
	}
	logs, err := e.Ops.ListAudit(context.Background(), esign.AuditLogFilter{Action: "signature.verify"})
	if err != nil || len(logs) != 4 {
		t.Errorf("%d verify audit entries, want 4: %v", len(logs), err)
	}
}
