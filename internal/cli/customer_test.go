package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"esign/internal/demo"
	"esign/internal/pades"
	"esign/internal/pki"
	"esign/internal/webhookapi"
	"esign/internal/webui/webuitest"
)

// TestCustomerUIProduction signs in the customer web UI of the production
// deployment: oss, pdfservice, css and the TSA as separate processes over
// PostgreSQL, RabbitMQ and Redis, css reaching oss over RabbitMQ only.
// `esign demo --browser` files the offer and prints its link; Chromium
// signs in, reads both documents to the end, signs with the SMS code from
// the development inbox and downloads the sealed contract, which
// verifies; a second browser's sign-in lists the first one's session and
// ends it.
// (The embedded deployment's journey, with every page checked, is
// internal/e2e TestCustomerUI.)
func TestCustomerUIProduction(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four processes against PostgreSQL, RabbitMQ and Redis, and a browser")
	}
	p := startProduction(t)
	p.env = append(p.env, "ESIGN_MOBILE_WEB_SESSIONS=allow") // the second browser below lists the first
	oss := startProcess(t, "oss", p.env)
	startProcess(t, "pdfservice", p.env)
	css := startProcess(t, "css", p.env)
	bctx := webuitest.Browser(t)

	ref := "esign-demo-" + strings.ToLower(rand.Text()[:10])
	code, stdout, stderr := run(t, t.Context(), p.env, nil, append(demoFlags(oss, "--webhook-credentials", p.credFile,
		"--customer-ref", ref, "--out", p.dir), "--browser")...)
	m := regexp.MustCompile(`Open (\S+) in a browser and sign in as (\S+) with the password (\S+)\n`).FindStringSubmatch(stdout)
	if code != 0 || m == nil {
		t.Fatalf("esign demo --browser: exit %d\n%s\n%s", code, stdout, stderr)
	}
	link, username, password := m[1], m[2], m[3]
	base := "http://" + css["customer"]
	link = base + link[strings.Index(link, "/s/"):]
	cred, err := readCredentials(p.credFile)
	if err != nil {
		t.Fatal(err)
	}
	user, pw, _ := strings.Cut(cred, ":")
	phone := demo.CustomerFor(ref, pw).Phone
	inbox := func() []webhookapi.InboxMessage {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+oss["webhook"]+webhookapi.DevInboxPath+"?channel=sms&limit=5&to="+url.QueryEscape(phone), nil)
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
	last := inbox()[0].ID // the offer's SMS

	webuitest.Do(t, bctx, "follow the link and sign in", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), username), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("sign")))
	// Each document read to its end in the viewer: signing needs it.
	toEnd := func(i string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(chromedp.WaitReady(chromedp.CSS(`#viewer-box[data-index="`+i+`"]`)),
			chromedp.Evaluate[chromedp.Void](`document.querySelector("#viewer .viewer-end").scrollIntoView()`))
	}
	webuitest.Do(t, bctx, "read both documents in the page",
		chromedp.WaitReady(chromedp.CSS(`#viewer[data-ready]`)), chromedp.WaitReady(chromedp.CSS(`#sign[data-ready]`)),
		chromedp.Click(chromedp.CSS(`button.view-doc`)), toEnd("0"), chromedp.WaitVisible(chromedp.CSS(`.badge-ok`)),
		chromedp.Click(chromedp.ID("viewer-next")), toEnd("1"), chromedp.WaitEnabled(chromedp.ID("sign-start")),
		chromedp.Click(chromedp.ID("sign-start")), chromedp.WaitVisible(chromedp.ID("sms-code")))
	var sms string
	for deadline := time.Now().Add(30 * time.Second); sms == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if msgs := inbox(); msgs[0].ID != last {
			sms = regexp.MustCompile(`\b[0-9]{6}\b`).FindString(msgs[0].Text)
		}
	}
	if sms == "" {
		t.Fatal("no signing code in the inbox")
	}
	webuitest.Do(t, bctx, "sign with the code",
		chromedp.SendKeys(chromedp.ID("sms-code"), sms), chromedp.SendKeys(chromedp.ID("sign-password"), password),
		chromedp.Click(chromedp.ID("sign-submit")), chromedp.WaitVisible(chromedp.ID("wait")))
	sealed := false
	for deadline := time.Now().Add(90 * time.Second); !sealed && time.Now().Before(deadline); {
		time.Sleep(300 * time.Millisecond)
		sealed, _ = chromedp.Run(bctx, chromedp.Evaluate[bool](`!!document.querySelector("#wait a[download]")`))
	}
	if !sealed {
		t.Fatal("the contract was not offered")
	}
	b64 := webuitest.Get(t, bctx, "download the contract", chromedp.Evaluate[string](`(async () => {
	  const b = new Uint8Array(await (await fetch(document.querySelector("#wait a[download]").href)).arrayBuffer());
	  let s = ""; for (const x of b) s += String.fromCharCode(x); return btoa(s);
	})()`, chromedp.EvalAwaitPromise))
	pdf, _ := base64.StdEncoding.DecodeString(b64)
	roots := x509.NewCertPool()
	ca, err := os.ReadFile(filepath.Join(p.dataDir, "pki", pki.FileCABundle))
	if err != nil || !roots.AppendCertsFromPEM(ca) {
		t.Fatalf("CA bundle: %v", err)
	}
	rep, err := pades.Verify(context.Background(), bytes.NewReader(pdf), int64(len(pdf)), pades.VerifyOptions{Roots: roots})
	if err != nil || !rep.Valid() {
		t.Fatalf("the contract does not verify: %v\n%v", err, rep)
	}

	// A second browser's sign-in lists the first one's session (kept in
	// Redis) and ends it.
	other := webuitest.Browser(t)
	webuitest.Do(t, other, "sign in elsewhere", chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), username), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("sessions-continue")),
		chromedp.Click(chromedp.CSS(`form[action^="/sessions/"] button`)), chromedp.WaitVisible(chromedp.CSS(".flash-success")))
	if n := webuitest.Get(t, other, "sessions left", chromedp.Evaluate[int](`document.querySelectorAll("form[action^='/sessions/']").length`)); n != 0 {
		t.Errorf("%d other sessions listed after ending the first", n)
	}
	webuitest.Do(t, bctx, "come back in the first browser", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("username")))
}
