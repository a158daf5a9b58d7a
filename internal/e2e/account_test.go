package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"esign/internal/e2e/adminpages"
	"esign/internal/esign"
	"esign/internal/notify"
	"esign/internal/pdf/pdftest"
	"esign/internal/sqlstore"
	"esign/internal/webui/webuitest"
)

// post calls the webhook API and wants a 2xx answer.
func (s *system) post(t *testing.T, path string, body any) {
	t.Helper()
	resp := s.call(t, path, body)
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e map[string]any
		json.NewDecoder(resp.Body).Decode(&e)
		t.Fatalf("POST %s: %d %v", path, resp.StatusCode, e)
	}
}

// TestCustomerUIAccount: a customer the bank registered, who never
// installed the app, gets an offer by SMS, opens the link from the
// development inbox and creates an account in the browser — the SMS code
// to the registered phone (a wrong one first), a username and password
// under the app's rules — and is signed in to the page that says the bank
// has not approved the registration yet (the app's onboarding rule); once
// the bank approves, the same link leads to the offer. The activities
// carry the browser's address and the place the configured MaxMind DB
// file (geo.mmdb_path: the test database, which maps loopback to
// Budapest) gives for it. The bank's policy lets the browser key be
// RSA-PSS (mobile.web_signing_algorithms): the customer signs the offer
// and oss's verifier accepts the browser's RSA-PSS M2.
func TestCustomerUIAccount(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole system and a browser")
	}
	mmdb, err := filepath.Abs(filepath.Join("..", "geo", "testdata", "city.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	sys := startAll(t, "ESIGN_TSA_ACCURACY=10ms", "ESIGN_WEBHOOK_OFFER_UPLOAD="+hookAuth, "ESIGN_WEBHOOK_CUSTOMER_BOOTSTRAP="+hookAuth,
		"ESIGN_WEBHOOK_CUSTOMER_APPROVE="+hookAuth, "ESIGN_WEBHOOK_DEV_INBOX="+hookAuth, "ESIGN_GEO_MMDB_PATH="+mmdb,
		"ESIGN_MOBILE_WEB_SIGNING_ALGORITHMS=rsa-pss-sha256,ecdsa-p256-sha256")
	base := "http://" + sys.addrs["customer"]
	dir := t.TempDir()
	if *update {
		dir = filepath.Join("..", "..", "docs", "customer-ui")
	}
	ctx := t.Context()

	// The bank registers the customer and files an offer announced by SMS.
	n, _ := rand.Int(rand.Reader, big.NewInt(10_000_000))
	ref, phone := "WEB-"+rand.Text()[:8], fmt.Sprintf("+3670%07d", n)
	sys.post(t, "/customer/bootstrap", map[string]string{"customer_ref": ref, "name": "Web Customer", "phone": phone,
		"email": "web@example.com", "locale": "en"})
	var offer struct {
		ID string `json:"offer_id"`
	}
	sys.hook(t, "/offer/upload", map[string]any{"customer_ref": ref, "external_ref": "WEB-LOAN-1", "title": "Loan agreement",
		"channel": "sms", "expires_at": time.Now().Add(7 * 24 * time.Hour).UTC().Format(time.RFC3339),
		"documents": []map[string]string{{"name": "loan.pdf", "content_base64": base64.StdEncoding.EncodeToString(pdftest.Minimal(1))}}}, &offer)
	found, last := sys.waitSMS(t, phone, "", func(text string) string { return linkRE.FindString(text) })
	link := base + found[strings.Index(found, "/s/"):]

	bctx := webuitest.Browser(t)
	p := &adminpages.Pages{T: t, Ctx: bctx, Dir: dir}
	webuitest.Do(t, bctx, "follow the SMS link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("username")))
	webuitest.Do(t, bctx, "no account yet", chromedp.Click(chromedp.CSS(`a[href^="/account?"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/account/code"] button`)))
	if got := p.Text("main"); !strings.Contains(got, "The code goes to "+notify.MaskPhone(phone)) || strings.Contains(got, phone[4:]) {
		t.Errorf("the start page shows the phone as %q", got)
	}
	p.Check("account-start")
	webuitest.Do(t, bctx, "send the code", chromedp.Click(chromedp.CSS(`form[action="/account/code"] button`)),
		chromedp.WaitVisible(chromedp.ID("code")))
	code, codeSMS := sys.waitSMS(t, phone, last, func(text string) string { return codeRE.FindString(text) })
	p.Check("account-form")

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	username, pw := "web."+strings.ToLower(rand.Text()[:8]), "Web-Passw0rd-2026"
	webuitest.Do(t, bctx, "a wrong code",
		chromedp.SendKeys(chromedp.ID("code"), wrong), chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), pw), chromedp.SendKeys(chromedp.ID("password2"), pw),
		chromedp.Click(chromedp.CSS(`form[action="/account"] button`)), chromedp.WaitVisible(chromedp.ID("form-error")))
	if got := p.Text("#form-error"); !strings.Contains(got, "The code is wrong") || !strings.Contains(got, "4 attempts left") {
		t.Errorf("wrong code: %q", got)
	}
	p.Check("account-code-wrong")
	// The form keeps the username; the code and passwords are typed again.
	webuitest.Do(t, bctx, "the right code",
		chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.SendKeys(chromedp.ID("password"), pw), chromedp.SendKeys(chromedp.ID("password2"), pw),
		chromedp.Click(chromedp.CSS(`form[action="/account"] button`)), chromedp.WaitVisible(chromedp.CSS("h1#pending")))
	if got := p.Text("h1"); !strings.Contains(got, "waiting for approval") {
		t.Fatalf("after creating the account: %q\n%s", got, p.Text("main"))
	}
	if loc := webuitest.Get(t, bctx, "location", chromedp.Location()); !strings.HasSuffix(loc, "/o/"+offer.ID) {
		t.Errorf("after creating the account at %s, want the offer's address", loc)
	}
	p.Check("account-pending")

	// The bank approves: the same link leads to the offer.
	sys.post(t, "/customer/approve", map[string]string{"customer_ref": ref})
	webuitest.Do(t, bctx, "the link after approval", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("sign")))
	// The bank's policy names RSA-PSS first: the browser signs with an
	// RSA-PSS key, and oss's verifier accepts its M2.
	if alg := webuitest.Get(t, bctx, "key algorithm", chromedp.Evaluate[string](`document.getElementById("sign").dataset.algorithm`)); alg != "rsa-pss-sha256" {
		t.Errorf("the page's key algorithm is %q", alg)
	}
	webuitest.Do(t, bctx, "read the document in the page",
		chromedp.WaitReady(chromedp.CSS(`#viewer[data-ready]`)), chromedp.WaitReady(chromedp.CSS(`#sign[data-ready]`)),
		chromedp.Click(chromedp.CSS(`button.view-doc`)), chromedp.WaitVisible(chromedp.CSS(`#viewer .viewer-page[data-state="rendered"] canvas`)))
	webuitest.Do(t, bctx, "scroll to its end",
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#viewer .viewer-end").scrollIntoView()`),
		chromedp.Sleep(300*time.Millisecond))
	webuitest.Do(t, bctx, "start signing", chromedp.WaitEnabled(chromedp.ID("sign-start")), chromedp.Click(chromedp.ID("sign-start")),
		chromedp.WaitVisible(chromedp.ID("sms-code")))
	signCode, _ := sys.waitSMS(t, phone, codeSMS, func(text string) string { return codeRE.FindString(text) })
	webuitest.Do(t, bctx, "type the signing code",
		chromedp.SendKeys(chromedp.ID("sms-code"), signCode), chromedp.SendKeys(chromedp.ID("sign-password"), pw),
		chromedp.Click(chromedp.ID("sign-submit")), chromedp.WaitVisible(chromedp.ID("wait")))

	// And the link offers no second account.
	webuitest.Do(t, bctx, "a second account", chromedp.Navigate(base+"/account?link="+link[strings.LastIndex(link, "/")+1:]),
		chromedp.WaitVisible(chromedp.CSS("h1")))
	if got := p.Text("h1"); !strings.Contains(got, "Sign in") {
		t.Errorf("a second account from the link: %q", got)
	}

	db, err := sqlstore.Open(context.Background(), sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(sys.dir, "esign.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sigs, err := db.ListSignatures(ctx, esign.SignatureFilter{OfferID: offer.ID})
	if err != nil || len(sigs) != 1 {
		t.Fatalf("signatures: %+v, %v", sigs, err)
	}
	if st := sigs[0].Status; st != esign.SignatureVerified && st != esign.SignatureCompleted {
		t.Errorf("the browser's signature is %s (%s)", st, sigs[0].RejectCode)
	}
	if blk, _ := pem.Decode([]byte(sigs[0].PublicKey)); blk == nil {
		t.Error("no public key stored")
	} else if k, err := x509.ParsePKIXPublicKey(blk.Bytes); err != nil {
		t.Error(err)
	} else if _, ok := k.(*rsa.PublicKey); !ok {
		t.Errorf("the browser's key is %T, want RSA (RSA-PSS by the policy)", k)
	}
	acts, err := db.ListActivities(ctx, esign.ActivityFilter{OfferID: "", Kind: "customer.created"})
	if err != nil {
		t.Fatal(err)
	}
	var seen bool
	for _, a := range acts {
		if a.Detail == `{"web":true}` {
			seen = true
			if a.IP != "127.0.0.1" || a.Location != "Budapest, HU" {
				t.Errorf("customer.created from %q at %q, want 127.0.0.1 at Budapest, HU", a.IP, a.Location)
			}
		}
	}
	if !seen {
		t.Errorf("no web customer.created activity: %+v", acts)
	}
}
