// Package customerpages drives the customer's web signing journey (css)
// in a headless Chromium for the browser tests of both deployments
// (internal/e2e on `esign all`, internal/cli on the production processes):
// the link pages, sign-in, reading the documents to their end, signing
// with the SMS code, the seal, refusal and the verify pages. Every page it
// names is checked with axe-core and photographed (adminpages.Pages.Check).
package customerpages

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"esign/internal/e2e/adminpages"
	"esign/internal/webui/webuitest"
)

// Pages is a browser on the customer UI at Base.
type Pages struct {
	*adminpages.Pages
	Base string // e.g. http://127.0.0.1:10183
}

// UnknownLink opens a short link that does not exist: its own page, no
// error trace.
func (p *Pages) UnknownLink() {
	p.T.Helper()
	webuitest.Do(p.T, p.Ctx, "open an unknown link", chromedp.Navigate(p.Base+"/s/nosuchcode12"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if got := p.Text("h1"); !strings.Contains(got, "does not work") {
		p.T.Errorf("unknown link: %q", got)
	}
	p.Check("link-unknown")
}

// RenewLink opens the expired short link code of an open offer and asks
// for a fresh one, which oss sends by SMS to the registered phone (the
// caller reads it from the development inbox).
func (p *Pages) RenewLink(code string) {
	p.T.Helper()
	webuitest.Do(p.T, p.Ctx, "open an expired link", chromedp.Navigate(p.Base+"/s/"+code), chromedp.WaitVisible(chromedp.ID("renew-link")))
	p.Check("link-expired")
	webuitest.DoAgain(p.T, p.Ctx, "ask for a fresh link", chromedp.Click(chromedp.ID("renew-link")), chromedp.WaitVisible(chromedp.CSS(".flash-success")))
	p.Check("link-renewed")
}

// Local returns link (an address of the customer UI in a notification,
// whose host is the configured public one) on p.Base.
func (p *Pages) Local(link string) string {
	p.T.Helper()
	i := strings.Index(link, "/s/")
	if i < 0 {
		p.T.Fatalf("%q is not a short link", link)
	}
	return p.Base + link[i:]
}

// FollowLink opens a short link without a session: it leads to the
// sign-in, headed for the offer offerID.
func (p *Pages) FollowLink(link, offerID string) {
	p.T.Helper()
	webuitest.Do(p.T, p.Ctx, "follow the link", chromedp.Navigate(p.Local(link)), chromedp.WaitVisible(chromedp.ID("username")))
	if loc := webuitest.Get(p.T, p.Ctx, "location", chromedp.Location()); !strings.Contains(loc, "next=%2Fo%2F"+offerID) {
		p.T.Errorf("the link leads to %s, want the sign-in headed for the offer %s", loc, offerID)
	}
}

// SignIn signs in on the open sign-in page and waits until the element
// with the id then is visible (sign: the offer; sessions-continue: the
// other browsers; contracts-h: the start page).
func (p *Pages) SignIn(username, password, then string) {
	p.T.Helper()
	webuitest.Do(p.T, p.Ctx, "sign in", chromedp.WaitVisible(chromedp.ID("username")), clear("username", "password"),
		chromedp.SendKeys(chromedp.ID("username"), username), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)), chromedp.WaitVisible(chromedp.ID(then)))
}

// SignBeforeReading forces "Start signing" on before the documents were
// read to their end: oss refuses the page's real M1 (not_read), which the
// page tells in a sentence. The page is reloaded after.
func (p *Pages) SignBeforeReading() {
	p.T.Helper()
	webuitest.DoAgain(p.T, p.Ctx, "sign before reading", chromedp.WaitReady(chromedp.CSS(`#sign[data-ready]`)),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("sign-start").disabled = false`),
		chromedp.Click(chromedp.ID("sign-start")), chromedp.WaitVisible(chromedp.ID("sign-error")))
	if got := p.Text("#sign-error"); !strings.Contains(got, "Read every document to its last page before signing.") {
		p.T.Errorf("M1 before reading: %q", got)
	}
	webuitest.Do(p.T, p.Ctx, "reload", chromedp.Reload(), chromedp.WaitReady(chromedp.CSS(`#sign[data-ready]`)))
}

// ReadDocuments reads the open offer's two documents to their last page
// in the viewer, after which signing is enabled.
func (p *Pages) ReadDocuments() {
	p.T.Helper()
	toEnd := func(i string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(chromedp.WaitReady(chromedp.CSS(`#viewer-box[data-index="`+i+`"]`)),
			chromedp.Evaluate[chromedp.Void](`document.querySelector("#viewer .viewer-end").scrollIntoView()`))
	}
	webuitest.Do(p.T, p.Ctx, "read both documents in the page",
		chromedp.WaitReady(chromedp.CSS(`#viewer[data-ready]`)), chromedp.WaitReady(chromedp.CSS(`#sign[data-ready]`)),
		chromedp.Click(chromedp.CSS(`button.view-doc`)), toEnd("0"), chromedp.WaitVisible(chromedp.CSS(`.badge-ok`)),
		chromedp.Click(chromedp.ID("viewer-next")), toEnd("1"))
	p.UntilSignable()
}

// UntilSignable waits until "Start signing" is enabled once the open
// document was scrolled to its end. On a loaded machine the scroll can come
// before the document's pages are laid out, when its end is not yet where
// it will be: it scrolls to the end again, as a reader would, for 30 s.
func (p *Pages) UntilSignable() {
	p.T.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !webuitest.Get(p.T, p.Ctx, "signing enabled?", chromedp.Evaluate[bool](`!document.getElementById("sign-start").disabled`)) {
		if time.Now().After(deadline) {
			p.T.Fatal("signing enabled: not within 30 s of reading the documents to their end")
		}
		time.Sleep(500 * time.Millisecond)
		webuitest.Do(p.T, p.Ctx, "scroll to the end again",
			chromedp.Evaluate[chromedp.Void](`document.querySelector("#viewer .viewer-end").scrollIntoView()`))
	}
}

// clear empties the fields with the ids (a page shown again after an
// error keeps what was typed).
func clear(ids ...string) chromedp.Action[chromedp.Void] {
	q, _ := json.Marshal(ids)
	return chromedp.Evaluate[chromedp.Void](`for (const id of ` + string(q) + `) document.getElementById(id).value = ""`)
}

// StartSigning presses "Start signing" (M1: oss sends the code).
func (p *Pages) StartSigning() {
	p.T.Helper()
	webuitest.Do(p.T, p.Ctx, "start signing", chromedp.Click(chromedp.ID("sign-start")), chromedp.WaitVisible(chromedp.ID("sms-code")))
}

// EnterCode types the SMS code and the password and sends them; then is
// the id to wait for (wait: the waiting page; sign-error: a refusal).
func (p *Pages) EnterCode(code, password, then string) {
	p.T.Helper()
	webuitest.Do(p.T, p.Ctx, "type the code", clear("sms-code", "sign-password"),
		chromedp.SendKeys(chromedp.ID("sms-code"), code), chromedp.SendKeys(chromedp.ID("sign-password"), password),
		chromedp.Click(chromedp.ID("sign-submit")), chromedp.WaitVisible(chromedp.ID(then)))
}

// Block makes the browser refuse requests to the URL patterns (none: stop
// blocking), e.g. the waiting page's polling, so that only its stream
// from the realtime listener can bring the seal.
func (p *Pages) Block(patterns ...string) {
	p.T.Helper()
	ps := []*network.BlockPattern{}
	for _, pt := range patterns {
		ps = append(ps, &network.BlockPattern{URLPattern: pt, Block: true})
	}
	webuitest.Do(p.T, p.Ctx, "block URLs", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: ps})
		return err
	}))
}

// WaitSealed waits on the waiting page until it offers the sealed
// contract (it updates by itself).
func (p *Pages) WaitSealed() {
	p.T.Helper()
	sealed := false
	for deadline := time.Now().Add(90 * time.Second); !sealed && time.Now().Before(deadline); {
		time.Sleep(300 * time.Millisecond)
		// The page reloads itself when the seal is done: an evaluation
		// may meet the navigation.
		sealed, _ = chromedp.Run(p.Ctx, chromedp.Evaluate[bool](`!!document.querySelector("#wait a[download]")`))
	}
	if !sealed {
		p.T.Fatal("the contract was not offered")
	}
}

// DownloadContract fetches the first sealed PDF the open page offers.
func (p *Pages) DownloadContract() []byte {
	p.T.Helper()
	b64 := webuitest.Get(p.T, p.Ctx, "download the contract", chromedp.Evaluate[string](`(async () => {
	  const r = await fetch(document.querySelector("a[download][href^='/c/']").href);
	  const b = new Uint8Array(await r.arrayBuffer()); let s = "";
	  for (const x of b) s += String.fromCharCode(x);
	  return btoa(s);
	})()`, chromedp.EvalAwaitPromise))
	pdf, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		p.T.Fatal(err)
	}
	return pdf
}

// Refuse opens the offer offerID from the start page and refuses it with
// the reason.
func (p *Pages) Refuse(offerID, reason string) {
	p.T.Helper()
	webuitest.Do(p.T, p.Ctx, "open the start page", chromedp.Navigate(p.Base+"/"), chromedp.WaitVisible(chromedp.ID("contracts-h")))
	// The start page's lists follow the live updates and may be drawn
	// again under the click: DoAgain.
	webuitest.DoAgain(p.T, p.Ctx, "open the offer to refuse", chromedp.Click(chromedp.CSS(`a[href="/o/`+offerID+`"]`)),
		chromedp.WaitVisible(chromedp.ID("reason")))
	webuitest.Do(p.T, p.Ctx, "refuse the offer", chromedp.SendKeys(chromedp.ID("reason"), reason),
		chromedp.Click(chromedp.CSS(`form[action$="/refuse"] button`)), chromedp.WaitVisible(chromedp.CSS(".flash-success")))
	if got := p.Text(".badge"); got != "refused" {
		p.T.Errorf("after refusing, the offer is %q", got)
	}
	p.Check("refused")
}

// VerifyContract follows the open page's first "Verify this PDF" (the
// sealed page or the contract page) and returns the report's indication
// (valid, invalid, unsigned); the report is checked as shot.
func (p *Pages) VerifyContract(shot string) string {
	p.T.Helper()
	webuitest.DoAgain(p.T, p.Ctx, "verify the contract", chromedp.Click(chromedp.CSS(`a.verify-link`)), chromedp.WaitVisible(chromedp.ID("report")))
	p.Check(shot)
	return p.indication()
}

// Contract goes from the open verify report of a contract back to the
// contract's page.
func (p *Pages) Contract() {
	p.T.Helper()
	webuitest.DoAgain(p.T, p.Ctx, "back to the contract", chromedp.Click(chromedp.CSS(`main a[href^="/c/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a.verify-link`)))
	p.Check("contract")
}

// VerifyUpload opens the public verify page, uploads pdf as name and
// returns the report's indication; the form is checked as form (when not
// ""), the report as shot.
func (p *Pages) VerifyUpload(name string, pdf []byte, form, shot string) string {
	p.T.Helper()
	file := filepath.Join(p.T.TempDir(), name)
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		p.T.Fatal(err)
	}
	webuitest.Do(p.T, p.Ctx, "open the verify page", chromedp.Navigate(p.Base+"/verify"), chromedp.WaitVisible(chromedp.ID("verify-file")))
	if form != "" {
		p.Check(form)
	}
	webuitest.Do(p.T, p.Ctx, "upload "+name, chromedp.SetUploadFiles(chromedp.ID("verify-file"), []string{file}),
		chromedp.Click(chromedp.ID("verify-submit")), chromedp.WaitVisible(chromedp.ID("report")))
	p.Check(shot)
	return p.indication()
}

func (p *Pages) indication() string {
	p.T.Helper()
	return webuitest.Get(p.T, p.Ctx, "the report's indication", chromedp.Evaluate[string](`document.getElementById("report").dataset.indication`))
}

// ETSI returns the open report's validation indication with its
// sub-indication, e.g. "TOTAL-FAILED/HASH_FAILURE" (docs/validation-report.md),
// after checking that the page shows it.
func (p *Pages) ETSI() string {
	p.T.Helper()
	got := webuitest.Get(p.T, p.Ctx, "the report's ETSI indication", chromedp.Evaluate[string](
		`(() => { const d = document.getElementById("report").dataset; return d.etsiSub ? d.etsi + "/" + d.etsiSub : d.etsi; })()`))
	if ind, _, _ := strings.Cut(got, "/"); !strings.Contains(p.Text("#indication"), ind) {
		p.T.Errorf("the page does not show the indication %s", ind)
	}
	return got
}
