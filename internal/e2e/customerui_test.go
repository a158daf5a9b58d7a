package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"esign/internal/cli"
	"esign/internal/demo"
	"esign/internal/e2e/adminpages"
	"esign/internal/e2e/customerpages"
	"esign/internal/esign"
	"esign/internal/pades"
	"esign/internal/pades/padestest"
	"esign/internal/pdf/pdftest"
	"esign/internal/pki"
	"esign/internal/sqlstore"
	"esign/internal/webhookapi"
	"esign/internal/webui/webuitest"
)

// inboxSMS returns the newest SMS texts to phone in the development inbox.
func (s *system) inboxSMS(t *testing.T, phone string) []webhookapi.InboxMessage {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+s.addrs["webhook"]+webhookapi.DevInboxPath+"?channel=sms&limit=20&to="+
		strings.ReplaceAll(phone, "+", "%2B"), nil)
	user, pw, _ := strings.Cut(hookAuth, ":")
	req.SetBasicAuth(user, pw)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l webhookapi.InboxList
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		t.Fatal(err)
	}
	return l.Messages
}

// waitSMS polls the inbox until find returns something from a message
// newer than after.
func (s *system) waitSMS(t *testing.T, phone, after string, find func(text string) string) (string, string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range s.inboxSMS(t, phone) {
			if m.ID == after {
				break
			}
			if v := find(m.Text); v != "" {
				return v, m.ID
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no matching SMS to %s", phone)
	return "", ""
}

var (
	linkRE = regexp.MustCompile(`https?://\S+/s/[a-z0-9]+`)
	codeRE = regexp.MustCompile(`\b[0-9]{6}\b`)
)

// TestCustomerUI drives the customer's web signing journey of the embedded
// deployment in Chromium: the customer (onboarded once through the app,
// as esign demo does) gets an offer through the webhook API, follows the
// short link of the SMS read from the development inbox, signs in, opens
// both documents, signs with the SMS code (a wrong code first), waits for
// the seal and downloads the contract, which verifies. Also an unknown
// link and signing before reading. axe-core checks every page; with
// -update the screenshots go to docs/customer-ui.
func TestCustomerUI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole system and a browser")
	}
	sys := startAll(t, "ESIGN_TSA_ACCURACY=10ms", "ESIGN_WEBHOOK_OFFER_UPLOAD="+hookAuth, "ESIGN_WEBHOOK_CUSTOMER_BOOTSTRAP="+hookAuth,
		"ESIGN_WEBHOOK_CUSTOMER_SEND_ASSOCIATION_TOKEN="+hookAuth, "ESIGN_WEBHOOK_CUSTOMER_APPROVE="+hookAuth,
		"ESIGN_WEBHOOK_OFFER_REVOKE="+hookAuth, "ESIGN_WEBHOOK_DEV_INBOX="+hookAuth, "ESIGN_MOBILE_WEB_SESSIONS=allow")
	base := "http://" + sys.addrs["customer"]
	dir := t.TempDir()
	if *update {
		dir = filepath.Join("..", "..", "docs", "customer-ui")
	}

	// The customer installed the app once (onboarded, credentials set,
	// approved); the bank files an offer of two PDFs through the webhook
	// API, announced by SMS: esign demo --browser.
	user, pw, _ := strings.Cut(hookAuth, ":")
	ctx := t.Context()
	var out bytes.Buffer
	res, err := demo.Run(ctx, demo.Options{WebhookURL: "http://" + sys.addrs["webhook"], MobileURL: "http://" + sys.addrs["mobile"],
		InboxURL: "http://" + sys.addrs["webhook"] + webhookapi.DevInboxPath, User: user, Password: pw, OutDir: t.TempDir(),
		Browser: true, Out: &out})
	if err != nil {
		t.Fatalf("esign demo --browser: %v\n%s", err, out.String())
	}
	cust := demo.CustomerFor(demo.DefaultCustomerRef, pw)
	if !strings.Contains(out.String(), res.Link) || !strings.Contains(out.String(), cust.Username) {
		t.Errorf("esign demo --browser does not print the link and the username:\n%s", out.String())
	}
	offer := struct{ ID string }{res.OfferID}
	last := sys.inboxSMS(t, cust.Phone)[0].ID // the offer's SMS
	// The SMS carries the customer UI's public address; the test's is on
	// an ephemeral port.
	link := base + res.Link[strings.Index(res.Link, "/s/"):]
	ca, err := os.ReadFile(filepath.Join(sys.dir, "pki", pki.FileCABundle))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509Pool(t, ca)

	bctx := webuitest.Browser(t)
	downloads := t.TempDir()
	p := &adminpages.Pages{T: t, Ctx: bctx, Dir: dir}
	cp := &customerpages.Pages{Pages: p, Base: base}
	webuitest.Do(t, bctx, "allow downloads", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads})
		return err
	}))

	// An unknown link gets its own page.
	cp.UnknownLink()

	// An expired link of the open offer asks for a fresh one, which comes
	// by SMS to the registered phone and leads to the offer.
	db, err := sqlstore.Open(context.Background(), sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(sys.dir, "esign.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateShortener(ctx, &esign.Shortener{Code: "expiredlink1", TargetURL: "/o/" + offer.ID,
		ExpiresAt: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	cp.RenewLink("expiredlink1")
	fresh, last := sys.waitSMS(t, cust.Phone, last, func(text string) string { return linkRE.FindString(text) })
	if fresh == res.Link {
		t.Errorf("the fresh link is the first one: %s", fresh)
	}
	cp.FollowLink(fresh, offer.ID)

	// The link leads to the sign-in, then to the offer.
	webuitest.Do(t, bctx, "follow the SMS link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("username")))
	p.Check("signin")
	webuitest.Do(t, bctx, "sign in with a wrong password",
		chromedp.SendKeys(chromedp.ID("username"), cust.Username), chromedp.SendKeys(chromedp.ID("password"), "Wrong-password-1"),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("form-error")))
	cp.SignIn(cust.Username, cust.Password, "sign")
	if loc := webuitest.Get(t, bctx, "location", chromedp.Location()); !strings.HasSuffix(loc, "/o/"+offer.ID) {
		t.Errorf("after sign-in at %s, want the offer", loc)
	}
	if dis := webuitest.Get(t, bctx, "start disabled", chromedp.Evaluate[bool](`document.getElementById("sign-start").disabled`)); !dis {
		t.Error("signing is possible before the documents were opened")
	}
	p.Check("offer")

	// Signing before reading is refused by oss: the button forced on, the
	// page's real M1 gets not_read, told in a sentence.
	cp.SignBeforeReading()

	// Read both documents in the page (PDF.js), and download one.
	webuitest.Do(t, bctx, "read the first document in the page",
		chromedp.WaitReady(chromedp.CSS(`#viewer[data-ready]`)), chromedp.WaitReady(chromedp.CSS(`#sign[data-ready]`)),
		chromedp.Click(chromedp.CSS(`button.view-doc`)), chromedp.WaitVisible(chromedp.CSS(`#viewer .viewer-page[data-state="rendered"] canvas`)))
	if got := p.Text("#viewer-status"); got != "2 pages" {
		t.Errorf("viewer status %q, want 2 pages", got)
	}
	p.Check("viewer")
	webuitest.Do(t, bctx, "next document",
		chromedp.Click(chromedp.ID("viewer-next")), chromedp.WaitVisible(chromedp.CSS(`#viewer .viewer-page[data-state="rendered"] canvas`)))
	if got := p.Text("#viewer-h"); got != "terms.pdf" {
		t.Errorf("next document: %q", got)
	}
	// Opened is not read: signing stays off until each was read to the end.
	if dis := webuitest.Get(t, bctx, "start disabled", chromedp.Evaluate[bool](`document.getElementById("sign-start").disabled`)); !dis {
		t.Error("signing is possible once the documents were opened, before they were read to the end")
	}
	webuitest.Do(t, bctx, "scroll to the end of the second", chromedp.WaitReady(chromedp.CSS(`#viewer-box[data-index="1"]`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#viewer .viewer-end").scrollIntoView()`),
		chromedp.WaitVisible(chromedp.CSS(`.badge-ok`)))
	// Back to the first document, scrolled to its end.
	webuitest.Do(t, bctx, "read the first document to the end",
		chromedp.Click(chromedp.CSS(`button.view-doc`)))
	webuitest.Do(t, bctx, "scroll to its end", chromedp.WaitReady(chromedp.CSS(`#viewer-box[data-index="0"]`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#viewer .viewer-end").scrollIntoView()`))
	cp.UntilSignable()
	webuitest.Do(t, bctx, "download a document", chromedp.Click(chromedp.CSS(`a.doc-link`)))
	waitFiles(t, downloads, 1)
	webuitest.Do(t, bctx, "reload", chromedp.Reload(), chromedp.WaitReady(chromedp.CSS(`#sign[data-ready]`)))
	if n := webuitest.Get(t, bctx, "unread", chromedp.Evaluate[int](`document.querySelectorAll("[data-unread]").length`)); n != 0 {
		t.Errorf("%d documents not read to the end after reading both", n)
	}
	p.Check("offer-read")
	cp.StartSigning()
	code, _ := sys.waitSMS(t, cust.Phone, last, func(text string) string { return codeRE.FindString(text) })
	p.Check("code")

	// Another browser — without this one's key, as after a private window
	// closed — finds the offer being signed: it may start again, which oss
	// refuses while this signing can still finish (it supersedes only an
	// abandoned one: TestM1Supersedes).
	elsewhere := webuitest.Browser(t)
	pe := &adminpages.Pages{T: t, Ctx: elsewhere, Dir: dir}
	ce := &customerpages.Pages{Pages: pe, Base: base}
	webuitest.Do(t, elsewhere, "open the sign-in elsewhere while signing", chromedp.Navigate(base+"/signin?next=%2Fo%2F"+offer.ID))
	ce.SignIn(cust.Username, cust.Password, "sessions-continue")
	webuitest.Do(t, elsewhere, "continue to the offer", chromedp.Click(chromedp.ID("sessions-continue")),
		chromedp.WaitReady(chromedp.CSS(`#sign[data-ready]`)), chromedp.WaitVisible(chromedp.ID("sign-error")))
	if got, again := pe.Text("#sign-error"), pe.Text("#sign-start"); !strings.Contains(got, "already being signed") || again != "Start signing again" {
		t.Errorf("the offer being signed elsewhere: %q, button %q", got, again)
	}
	pe.Check("signing-elsewhere")
	webuitest.Do(t, elsewhere, "start again too early", chromedp.Evaluate[chromedp.Void](`document.getElementById("sign-error").hidden = true`),
		chromedp.Click(chromedp.ID("sign-start")), chromedp.WaitVisible(chromedp.ID("sign-error")))
	if got := pe.Text("#sign-error"); !strings.Contains(got, "wait 10 minutes") {
		t.Errorf("starting again while the other signing can finish: %q", got)
	}
	webuitest.Do(t, elsewhere, "sign out there", chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)),
		chromedp.WaitVisible(chromedp.ID("username")))

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	cp.EnterCode(wrong, cust.Password, "sign-error")
	if got := p.Text("#sign-error"); !strings.Contains(got, "not right") || !strings.Contains(got, "4 attempts left") {
		t.Errorf("wrong code: %q", got)
	}
	p.Check("code-wrong")
	// Hold the waiting page's updates (its stream from the customer
	// realtime listener, and the polling it falls back to) until its
	// screenshot is taken: the seal may be done before the page is.
	cp.Block("*://*:*/signatures/*/status", "*://*:*/signatures/*/events")
	// A reload keeps the signing: the key waits in IndexedDB.
	webuitest.Do(t, bctx, "reload while signing", chromedp.Reload(), chromedp.WaitReady(chromedp.CSS(`#sign[data-ready]`)),
		chromedp.WaitVisible(chromedp.ID("sms-code")))
	if got := p.Text("#sign-status"); !strings.Contains(got, "You started signing in this browser") {
		t.Errorf("after a reload: %q", got)
	}
	p.Check("resumed")
	cp.EnterCode(code, cust.Password, "wait")
	p.Check("wait")
	if got := webuitest.Get(t, bctx, "the stream's address", chromedp.Evaluate[string](`document.getElementById("wait").dataset.live`)); !strings.HasPrefix(got, "http://"+sys.addrs["customer_realtime"]+"/signatures/") {
		t.Errorf("the waiting page streams from %q, want the customer realtime listener %s", got, sys.addrs["customer_realtime"])
	}

	// The seal arrives over the stream (:10184): the polling stays
	// blocked. The page reconnects (a reload: the blocked attempts may
	// have sent it to the fallback) and is told the state on connecting,
	// then each change.
	cp.Block("*://*:*/signatures/*/status")
	webuitest.Do(t, bctx, "reconnect the stream", chromedp.Reload())

	// The seal: the page updates by itself.
	cp.WaitSealed()
	p.Check("sealed")

	// The contract downloads and verifies.
	pdf := cp.DownloadContract()
	rep, err := pades.Verify(ctx, bytes.NewReader(pdf), int64(len(pdf)), pades.VerifyOptions{Roots: roots})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid() {
		t.Errorf("the contract does not verify:\n%s", rep.Summary())
	}
	// … and by `esign pdf verify` against the data directory's CA.
	contractFile := filepath.Join(t.TempDir(), "contract.pdf")
	if err := os.WriteFile(contractFile, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	var verifyOut bytes.Buffer
	if code := cli.Run(ctx, cli.Env{Args: []string{"pdf", "verify", "--trust", filepath.Join(sys.dir, "pki", pki.FileCABundle), contractFile},
		Stdout: &verifyOut, Stderr: &verifyOut, Environ: sys.env}); code != 0 {
		t.Errorf("esign pdf verify: exit %d\n%s", code, verifyOut.String())
	}

	// "Verify this PDF" next to it: css verifies the stored contract with
	// the trust anchors oss pushed; the public verify page verifies an
	// upload of it, and of a tampered copy.
	// Both show the validation report's indication, as `esign pdf verify
	// --report` writes it (docs/validation-report.md).
	if got := cp.VerifyContract("verify-contract"); got != "valid" {
		t.Errorf("the sealed contract verified on its page: %q", got)
	}
	if got := cp.ETSI(); got != "TOTAL-PASSED" {
		t.Errorf("the sealed contract's indication on its page: %q", got)
	}
	cp.Contract()
	if got := cp.VerifyUpload("contract.pdf", pdf, "verify", "verify-valid"); got != "valid" {
		t.Errorf("the uploaded contract: %q", got)
	}
	if got := cp.ETSI(); got != "TOTAL-PASSED" {
		t.Errorf("the uploaded contract's indication: %q", got)
	}
	if got := cp.VerifyUpload("tampered.pdf", padestest.Tamper(t, pdf), "", "verify-tampered"); got != "invalid" {
		t.Errorf("the tampered contract: %q", got)
	}
	if got := cp.ETSI(); got != "TOTAL-FAILED/HASH_FAILURE" {
		t.Errorf("the tampered contract's indication: %q", got)
	}

	// A second offer is refused with a reason.
	var second struct {
		ID string `json:"offer_id"`
	}
	sys.hook(t, "/offer/upload", map[string]any{"customer_ref": demo.DefaultCustomerRef, "external_ref": "CARD-2026-5",
		"title": "Credit card agreement", "channel": "email", "expires_at": time.Now().Add(7 * 24 * time.Hour).UTC().Format(time.RFC3339),
		"documents": []map[string]string{{"name": "card.pdf", "content_base64": base64.StdEncoding.EncodeToString(pdftest.Minimal(1))}}}, &second)
	webuitest.Do(t, bctx, "open the start page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("contracts-h")))
	p.Check("home")
	cp.Refuse(second.ID, "The interest rate is too high.")

	// Both documents were read to the end in the viewer: the evidence.
	if as, err := db.ListActivities(ctx, esign.ActivityFilter{OfferID: offer.ID, Kind: "document.read_to_end"}); err != nil || len(as) != 2 {
		t.Errorf("read to the end: %d activities, %v", len(as), err)
	}

	// The pages' scripts threw nothing (errors.js would have reported it).
	if ls, err := db.ListClientErrorLogs(ctx, esign.ClientErrorLogFilter{Source: "css"}); err != nil || len(ls) != 0 {
		for _, l := range ls {
			t.Errorf("client error on %s: %s\n%s", l.URL, l.Message, l.Stack)
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	webuitest.Do(t, bctx, "throw in the page", chromedp.Evaluate[chromedp.Void](`setTimeout(() => { throw new Error("e2e probe") }, 0)`))
	for deadline := time.Now().Add(10 * time.Second); ; {
		ls, err := db.ListClientErrorLogs(ctx, esign.ClientErrorLogFilter{Source: "css"})
		if err != nil {
			t.Fatal(err)
		}
		if len(ls) == 1 && strings.Contains(ls[0].Message, "e2e probe") && ls[0].URL == "/o/"+second.ID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page's error was not stored: %+v", ls)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A sign-in in a second browser lists the first browser's session
	// (mobile.web_sessions=allow), which it ends from there.
	other := webuitest.Browser(t)
	p2 := &adminpages.Pages{T: t, Ctx: other, Dir: dir}
	webuitest.Do(t, other, "open the sign-in elsewhere", chromedp.Navigate(base+"/signin"))
	(&customerpages.Pages{Pages: p2, Base: base}).SignIn(cust.Username, cust.Password, "sessions-continue")
	if got := p2.Text("main"); !strings.Contains(got, "this browser") || !strings.Contains(got, "Chrome") {
		t.Errorf("the sessions page: %q", got)
	}
	p2.Check("sessions")
	webuitest.Do(t, other, "end the first browser's session", chromedp.Click(chromedp.CSS(`form[action^="/sessions/"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".flash-success")))
	if n := webuitest.Get(t, other, "sessions left", chromedp.Evaluate[int](`document.querySelectorAll("form[action^='/sessions/']").length`)); n != 0 {
		t.Errorf("%d other sessions listed after ending the first", n)
	}
	webuitest.Do(t, other, "continue", chromedp.Click(chromedp.ID("sessions-continue")), chromedp.WaitVisible(chromedp.ID("contracts-h")))
	webuitest.Do(t, bctx, "come back in the first browser", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("username")))
	if got := p.Text(".flash"); !strings.Contains(got, "Your session has ended") {
		t.Errorf("the first browser after its session was ended: %q", got)
	}

	// A browser without WebCrypto is told so.
	webuitest.Do(t, bctx, "open the unsupported page", chromedp.Navigate(base+"/unsupported"), chromedp.WaitVisible(chromedp.CSS("h1")))
	p.Check("unsupported")
}

// waitFiles waits until dir holds n finished downloads.
func waitFiles(t *testing.T, dir string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		es, _ := os.ReadDir(dir)
		done := 0
		for _, e := range es {
			if !strings.HasSuffix(e.Name(), ".crdownload") {
				done++
			}
		}
		if done >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: fewer than %d downloads", dir, n)
}

func x509Pool(t *testing.T, pem []byte) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no CA certificate")
	}
	return pool
}
