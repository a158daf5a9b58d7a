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
	"esign/internal/e2e/adminpages"
	"esign/internal/e2e/customerpages"
	"esign/internal/esign"
	"esign/internal/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pki"
	"esign/internal/webhookapi"
	"esign/internal/webui/webuitest"
)

// TestCustomerUIProduction drives the customer web UI of the production
// deployment: oss, pdfservice, css and the TSA as separate processes over
// PostgreSQL, RabbitMQ and Redis, css reaching oss over RabbitMQ only,
// with the page steps of the embedded deployment's test
// (internal/e2e/customerpages). `esign demo --browser` files the offer and
// prints its link; an unknown link gets its page; an expired link of the
// open offer asks for a fresh one, which comes by SMS to the registered
// phone (the development inbox) and leads to the sign-in; Chromium signs
// in, is refused signing before reading, reads both documents to the end, types a wrong SMS code and then
// the right one, waits for the seal (over css's realtime listener, the
// polling fallback blocked) and downloads the contract, which
// verifies — in Go, and on css's own verify page ("Verify this PDF", with
// the trust anchors oss pushed over the bus); a second offer is refused
// with a reason; a second browser's sign-in lists the first one's session
// and ends it.
// (internal/e2e TestCustomerUI is the embedded deployment's journey, with
// every page photographed for docs/customer-ui.md.)
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
	base := "http://" + css["customer"]
	cp := &customerpages.Pages{Pages: &adminpages.Pages{T: t, Ctx: bctx, Dir: t.TempDir()}, Base: base}

	ref := "esign-demo-" + strings.ToLower(rand.Text()[:10])
	code, stdout, stderr := run(t, t.Context(), p.env, nil, append(demoFlags(oss, "--webhook-credentials", p.credFile,
		"--customer-ref", ref, "--out", p.dir), "--browser")...)
	m := regexp.MustCompile(`Open (\S+) in a browser and sign in as (\S+) with the password (\S+)\n`).FindStringSubmatch(stdout)
	if code != 0 || m == nil {
		t.Fatalf("esign demo --browser: exit %d\n%s\n%s", code, stdout, stderr)
	}
	link, username, password := m[1], m[2], m[3]
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
	// waitSMS returns what re finds in the newest SMS newer than after,
	// and that SMS's id.
	waitSMS := func(after string, re *regexp.Regexp) (string, string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if msgs := inbox(); len(msgs) > 0 && msgs[0].ID != after {
				if v := re.FindString(msgs[0].Text); v != "" {
					return v, msgs[0].ID
				}
			}
		}
		t.Fatalf("no SMS matching %s after %s", re, after)
		return "", ""
	}
	last := inbox()[0].ID // the offer's SMS
	offerID := offerOfLink(t, cp.Local(link))

	// The link pages: an unknown code; an expired link of the open offer,
	// renewed by SMS to the registered phone.
	cp.UnknownLink()
	expired := strings.ToLower(rand.Text()[:12])
	if err := productionDB(t, p.env).CreateShortener(t.Context(), &esign.Shortener{Code: expired, TargetURL: "/o/" + offerID,
		ExpiresAt: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	cp.RenewLink(expired)
	fresh, last := waitSMS(last, regexp.MustCompile(`https?://\S+/s/[a-z0-9]+`))
	if strings.HasSuffix(fresh, link[strings.Index(link, "/s/"):]) {
		t.Errorf("the fresh link is the first one: %s", fresh)
	}
	cp.FollowLink(fresh, offerID)

	// Sign in, read, sign (a wrong code first), the seal.
	cp.SignIn(username, password, "sign")
	cp.SignBeforeReading()
	cp.ReadDocuments()
	cp.StartSigning()
	sms, _ := waitSMS(last, regexp.MustCompile(`\b[0-9]{6}\b`))
	wrong := "000000"
	if sms == wrong {
		wrong = "111111"
	}
	cp.EnterCode(wrong, password, "sign-error")
	if got := cp.Text("#sign-error"); !strings.Contains(got, "4 attempts left") {
		t.Errorf("wrong code: %q", got)
	}
	// The seal reaches the waiting page live, over css's realtime
	// listener (css hears it from oss over RabbitMQ): the polling
	// fallback is blocked.
	cp.Block("*://*:*/signatures/*/status")
	cp.EnterCode(sms, password, "wait")
	if got := webuitest.Get(t, bctx, "the stream's address", chromedp.Evaluate[string](`document.getElementById("wait").dataset.live`)); !strings.HasPrefix(got, "http://"+css["customer_realtime"]+"/signatures/") {
		t.Errorf("the waiting page streams from %q, want css's realtime listener %s", got, css["customer_realtime"])
	}
	cp.WaitSealed()
	cp.Block()
	pdf := cp.DownloadContract()
	roots := x509.NewCertPool()
	ca, err := os.ReadFile(filepath.Join(p.dataDir, "pki", pki.FileCABundle))
	if err != nil || !roots.AppendCertsFromPEM(ca) {
		t.Fatalf("CA bundle: %v", err)
	}
	rep, err := pades.Verify(context.Background(), bytes.NewReader(pdf), int64(len(pdf)), pades.VerifyOptions{Roots: roots})
	if err != nil || !rep.Valid() {
		t.Fatalf("the contract does not verify: %v\n%v", err, rep)
	}
	contractFile := filepath.Join(t.TempDir(), "contract.pdf")
	if err := os.WriteFile(contractFile, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run(t, t.Context(), p.env, nil, "pdf", "verify", contractFile); code != 0 {
		t.Errorf("esign pdf verify: exit %d\n%s%s", code, out, errs)
	}
	// css verifies it too, with the anchors oss pushed over RabbitMQ.
	if got := cp.VerifyContract("verify-contract"); got != "valid" {
		t.Errorf("the contract on css's verify page: %q", got)
	}

	// A second offer, refused with a reason.
	var second struct {
		ID string `json:"offer_id"`
	}
	hookJSON(t, "http://"+oss["webhook"]+"/offer/upload", user, pw, map[string]any{"customer_ref": ref, "external_ref": "CARD-" + ref,
		"title": "Credit card agreement", "channel": "email", "expires_at": time.Now().Add(7 * 24 * time.Hour).UTC().Format(time.RFC3339),
		"documents": []map[string]string{{"name": "card.pdf", "content_base64": base64.StdEncoding.EncodeToString(pdftest.Minimal(1))}}}, &second)
	cp.Refuse(second.ID, "The interest rate is too high.")

	// A second browser's sign-in lists the first one's session (kept in
	// Redis) and ends it.
	other := webuitest.Browser(t)
	co := &customerpages.Pages{Pages: &adminpages.Pages{T: t, Ctx: other, Dir: t.TempDir()}, Base: base}
	webuitest.Do(t, other, "open the sign-in elsewhere", chromedp.Navigate(base+"/signin"))
	co.SignIn(username, password, "sessions-continue")
	webuitest.Do(t, other, "end the first browser's session", chromedp.Click(chromedp.CSS(`form[action^="/sessions/"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".flash-success")))
	if n := webuitest.Get(t, other, "sessions left", chromedp.Evaluate[int](`document.querySelectorAll("form[action^='/sessions/']").length`)); n != 0 {
		t.Errorf("%d other sessions listed after ending the first", n)
	}
	webuitest.Do(t, bctx, "come back in the first browser", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("username")))
}

// offerOfLink returns the offer a short link of css leads to (its
// redirect to the sign-in names it).
func offerOfLink(t *testing.T, link string) string {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	id, ok := strings.CutPrefix(loc.Query().Get("next"), "/o/")
	if resp.StatusCode != http.StatusSeeOther || !ok {
		t.Fatalf("the link %s answers %d to %q", link, resp.StatusCode, loc)
	}
	return id
}
