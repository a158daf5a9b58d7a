package adminpages

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/chromedp/chromedp"
	"software.sslmate.com/src/go-pkcs12"

	"esign/internal/pki"
	"esign/internal/webui/webuitest"
)

// ImportCert imports a new bank seal certificate (a .p12 of a fresh
// development PKI) named name on the certificates page and activates it.
func (p *Pages) ImportCert(base, name string) {
	t, ctx := p.T, p.Ctx
	t.Helper()
	p12File := filepath.Join(t.TempDir(), "bank-seal.p12")
	dev, _, err := pki.OpenDev(t.TempDir(), pki.DevOptions{Organization: "Példa Bank Zrt."})
	if err != nil {
		t.Fatal(err)
	}
	p12, err := pkcs12.Modern.Encode(dev.Signer.Key, dev.Signer.Certificate, dev.Signer.Chain, "bank-p12-password")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p12File, p12, 0o600); err != nil {
		t.Fatal(err)
	}
	webuitest.Do(t, ctx, "open the certificates", chromedp.Navigate(base+"/certs"), chromedp.WaitVisible(chromedp.ID("c-p12")))
	webuitest.Do(t, ctx, "import the .p12",
		chromedp.SetUploadFiles(chromedp.ID("c-p12"), []string{p12File}),
		chromedp.SendKeys(chromedp.ID("c-password"), "bank-p12-password"),
		chromedp.SendKeys(chromedp.ID("c-name"), name),
		chromedp.Click(chromedp.CSS(`form[action="/certs"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("cert-imported")))
	if got := p.Text("#cert-list tbody"); !strings.Contains(got, name) || !strings.Contains(got, "inactive") {
		t.Errorf("certificate list after the import: %q", got)
	}
	p.Check("cert-imported")
	// Another certificate may be active already (the production
	// deployment's): this one's row must show the badge.
	webuitest.Do(t, ctx, "activate it", chromedp.Click(chromedp.CSS(`form[action$="/activate"] button`)),
		chromedp.WaitNotPresent(chromedp.ID("cert-imported")), chromedp.WaitVisible(chromedp.CSS(".flash-success")))
	q, _ := json.Marshal(name)
	js := `[...document.querySelectorAll("#cert-list tbody tr")].some(r => r.cells[0].innerText.trim() === ` + string(q) +
		` && !!r.querySelector(".badge-ok"))`
	if !webuitest.Get(t, ctx, "read the certificate list", chromedp.Evaluate[bool](js)) {
		t.Errorf("%s is not shown active: %q", name, p.Text("#cert-list tbody"))
	}
	p.Check("certs")
}
