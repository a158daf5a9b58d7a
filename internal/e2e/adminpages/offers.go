package adminpages

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"esign/internal/demo"
	"esign/internal/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/webui/webuitest"
)

// OffersBackOffice is the offers journey of the admin UI tests, run by a
// signed-in admin: upload an offer for a customer through the form, view its
// document in the page (PDF.js), revoke it, open the sealed contract of
// the demo's offer with its PAdES level, list the contracts, and verify
// the demo's sealed PDF uploaded on the verify page. axe checks every page.
func (p *Pages) OffersBackOffice(base, customerRef string, signed *demo.Result) {
	t, ctx := p.T, p.Ctx
	t.Helper()
	dir := t.TempDir()
	pdfPath := filepath.Join(dir, "credit-card-terms.pdf")
	if err := os.WriteFile(pdfPath, pdftest.Minimal(3), 0o600); err != nil {
		t.Fatal(err)
	}

	// Upload an offer from the offers list's "New offer".
	webuitest.Do(t, ctx, "open the new-offer form", chromedp.Navigate(base+"/offers"), chromedp.Click(chromedp.ID("new-offer")),
		chromedp.WaitVisible(chromedp.ID("offer-new")))
	webuitest.Do(t, ctx, "fill in the offer",
		chromedp.SendKeys(chromedp.ID("n-customer"), customerRef),
		chromedp.SendKeys(chromedp.ID("n-title"), "Credit card agreement"),
		chromedp.SendKeys(chromedp.ID("n-ref"), "CARD-2026-5"),
		chromedp.SetValue(chromedp.ID("n-expires"), time.Now().Add(30*24*time.Hour).UTC().Format("2006-01-02")),
		chromedp.SendKeys(chromedp.ID("n-description"), "Gold card, 12-month promotion"),
		chromedp.SetUploadFiles(chromedp.ID("n-files"), []string{pdfPath}))
	p.Check("offer-new")
	webuitest.Do(t, ctx, "upload it", chromedp.Click(chromedp.CSS(`#offer-new button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".flash-success")), chromedp.WaitVisible(chromedp.ID("timeline")))
	if got := p.Text("h1"); got != "Credit card agreement" {
		t.Errorf("uploaded offer's page %q", got)
	}
	if got := p.Text("#offer-state"); got != "notified" {
		t.Errorf("uploaded offer state %q, want notified", got)
	}

	// Its document in the page.
	webuitest.Do(t, ctx, "view the document in the page", chromedp.WaitReady(chromedp.CSS(`#viewer[data-ready]`)),
		chromedp.Click(chromedp.CSS(`button.view-doc`)),
		chromedp.WaitVisible(chromedp.CSS(`#viewer .viewer-page[data-state="rendered"] canvas`)))
	if got := p.Text("#viewer-status"); got != "3 pages" {
		t.Errorf("viewer status %q, want 3 pages", got)
	}
	if got := p.Text("#viewer-h"); got != "credit-card-terms.pdf" {
		t.Errorf("viewer shows %q", got)
	}
	p.Check("offer-viewer")

	// Revoke it.
	webuitest.Do(t, ctx, "revoke the offer", chromedp.SendKeys(chromedp.ID("revoke-reason"), "Issued by mistake"),
		chromedp.Click(chromedp.CSS(`#revoke-form button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("final-state")))
	if got := p.Text(".flash-success"); !strings.Contains(got, "revoked") {
		t.Errorf("message after revoking %q", got)
	}
	if got := p.Text("#offer-state"); got != "revoked" {
		t.Errorf("state after revoking %q", got)
	}
	p.Check("offer-revoked")

	// The demo's sealed contract on its offer's page, with its level.
	webuitest.Do(t, ctx, "open the signed offer", chromedp.Navigate(base+"/offers/"+signed.OfferID), chromedp.WaitVisible(chromedp.ID("seals")))
	if got := p.Text("#seals .seal-level"); !strings.HasPrefix(got, "PAdES B-") {
		t.Errorf("sealed contract level %q", got)
	}

	// Contracts: the list and the demo's contract.
	webuitest.Do(t, ctx, "open the contracts", chromedp.Navigate(base+"/contracts"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/contracts/`+signed.ContractID+`"]`)))
	p.Check("contracts")
	webuitest.Do(t, ctx, "open the contract", chromedp.Click(chromedp.CSS(`a[href="/contracts/`+signed.ContractID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#contract-docs .doc-actions`)))
	if got := p.Text("#contract-docs .seal-level"); !strings.HasPrefix(got, "PAdES B-") {
		t.Errorf("contract page level %q", got)
	}
	p.Check("contract")

	// Verify the demo's sealed PDF uploaded on the verify page.
	if len(signed.Files) == 0 {
		t.Fatal("the demo wrote no sealed PDF")
	}
	webuitest.Do(t, ctx, "open the verify page", chromedp.Navigate(base+"/verify"), chromedp.WaitVisible(chromedp.ID("verify-form")))
	webuitest.Do(t, ctx, "choose the sealed PDF", chromedp.SetUploadFiles(chromedp.ID("v-file"), []string{signed.Files[0]}))
	p.Check("verify")
	webuitest.Do(t, ctx, "verify it", chromedp.Click(chromedp.CSS(`#verify-form button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("verdict")))
	if got := p.Text("#verdict"); got != "valid" {
		t.Errorf("verdict on the demo's sealed contract %q", got)
	}
	if got := p.Text("main .sig-report .level"); !strings.HasPrefix(got, "PAdES B-") {
		t.Errorf("verified level %q", got)
	}
	p.Check("verify-report")
	// The JSON download saves the report as `esign pdf verify --json` prints it.
	downloads := t.TempDir()
	allow := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads})
		return chromedp.Void{}, err
	}
	webuitest.Do(t, ctx, "download the JSON report", allow, chromedp.Click(chromedp.ID("report-json")))
	file := filepath.Join(downloads, filepath.Base(signed.Files[0])+".verification.json")
	var data []byte
	for range 100 { // a download is written asynchronously
		if data, _ = os.ReadFile(file); len(data) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var rep pades.Report
	if err := json.Unmarshal(data, &rep); err != nil || !rep.Valid() || len(rep.Signatures) == 0 {
		t.Errorf("downloaded report %s: %v\n%s", file, err, data)
	}
}
