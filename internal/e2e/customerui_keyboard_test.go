package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"esign/internal/demo"
	"esign/internal/webhookapi"
	"esign/internal/webui/webuitest"
)

// keyboard drives a page with the keys a keyboard-only customer uses:
// Tab to move, Enter and Space to act, and typing into fields.
type keyboard struct {
	t   *testing.T
	ctx context.Context
}

// press sends keys to whatever has the focus.
func (k keyboard) press(what, keys string) {
	k.t.Helper()
	webuitest.Do(k.t, k.ctx, what, chromedp.KeyEvent(keys))
}

// tabTo presses Tab until the element matching sel has the focus, which
// must be visible (an outline); it fails when 60 presses do not reach it
// (unreachable, or a focus trap).
func (k keyboard) tabTo(sel string) {
	k.t.Helper()
	for range 60 {
		if webuitest.Get(k.t, k.ctx, "focus on "+sel, chromedp.Evaluate[bool](`!!document.activeElement && document.activeElement.matches(`+
			jsString(sel)+`)`)) {
			if o := webuitest.Get(k.t, k.ctx, "outline", chromedp.Evaluate[string](`getComputedStyle(document.activeElement).outlineStyle`)); o == "none" {
				k.t.Errorf("the focus on %s is not visible", sel)
			}
			return
		}
		k.press("Tab", kb.Tab)
	}
	focused := webuitest.Get(k.t, k.ctx, "focused", chromedp.Evaluate[string](`document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : ""`))
	k.t.Fatalf("Tab does not reach %s (focus on %s)", sel, focused)
}

// readToEnd scrolls the open document with Space (the focus is on the
// viewer's heading) until the server recorded it read to the end.
func (k keyboard) readToEnd(read int) {
	k.t.Helper()
	for range 60 {
		if webuitest.Get(k.t, k.ctx, "documents read", chromedp.Evaluate[int](`document.querySelectorAll(".docs .badge-ok").length`)) >= read {
			return
		}
		k.press("Space", " ")
		webuitest.Do(k.t, k.ctx, "let it scroll", chromedp.Sleep(100*time.Millisecond))
	}
	k.t.Fatalf("Space does not reach the end of document %d", read)
}

func jsString(s string) string {
	var b bytes.Buffer
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// TestCustomerUIKeyboard goes through the journey with the keyboard
// alone — sign-in, both documents read to the end in the viewer, signing
// with the SMS code, the sealed contract's download reached — at phone
// width, where the page is longest.
func TestCustomerUIKeyboard(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole system and a browser")
	}
	sys := startAll(t, "ESIGN_TSA_ACCURACY=10ms", "ESIGN_WEBHOOK_OFFER_UPLOAD="+hookAuth, "ESIGN_WEBHOOK_CUSTOMER_BOOTSTRAP="+hookAuth,
		"ESIGN_WEBHOOK_CUSTOMER_SEND_ASSOCIATION_TOKEN="+hookAuth, "ESIGN_WEBHOOK_CUSTOMER_APPROVE="+hookAuth,
		"ESIGN_WEBHOOK_DEV_INBOX="+hookAuth)
	base := "http://" + sys.addrs["customer"]
	user, pw, _ := strings.Cut(hookAuth, ":")
	var out bytes.Buffer
	res, err := demo.Run(t.Context(), demo.Options{WebhookURL: "http://" + sys.addrs["webhook"], MobileURL: "http://" + sys.addrs["mobile"],
		InboxURL: "http://" + sys.addrs["webhook"] + webhookapi.DevInboxPath, User: user, Password: pw, OutDir: t.TempDir(),
		Browser: true, Out: &out})
	if err != nil {
		t.Fatalf("esign demo --browser: %v\n%s", err, out.String())
	}
	cust := demo.CustomerFor(demo.DefaultCustomerRef, pw)
	last := sys.inboxSMS(t, cust.Phone)[0].ID

	bctx := webuitest.Browser(t)
	k := keyboard{t: t, ctx: bctx}
	webuitest.Do(t, bctx, "phone width", chromedp.EmulateViewport(360, 740))
	webuitest.Do(t, bctx, "follow the link", chromedp.Navigate(base+res.Link[strings.Index(res.Link, "/s/"):]),
		chromedp.WaitVisible(chromedp.ID("username")))
	k.tabTo("#username")
	k.press("type the username", cust.Username)
	k.tabTo("#password")
	k.press("type the password", cust.Password)
	k.press("Enter", kb.Enter)
	webuitest.Do(t, bctx, "the offer", chromedp.WaitVisible(chromedp.ID("sign")), chromedp.WaitReady(chromedp.CSS(`#viewer[data-ready]`)),
		chromedp.WaitReady(chromedp.CSS(`#sign[data-ready]`)))

	k.tabTo("button.view-doc")
	k.press("Enter", kb.Enter)
	webuitest.Do(t, bctx, "the first document", chromedp.WaitReady(chromedp.CSS(`#viewer-box[data-index="0"]`)))
	k.readToEnd(1)
	k.tabTo("#viewer-next")
	k.press("Enter", kb.Enter)
	webuitest.Do(t, bctx, "the second document", chromedp.WaitReady(chromedp.CSS(`#viewer-box[data-index="1"]`)))
	k.readToEnd(2)
	if got := webuitest.Get(t, bctx, "status", chromedp.Text(chromedp.ID("sign-status"))); !strings.Contains(got, "you can sign now") {
		t.Errorf("reading the last document to the end is not announced: %q", got)
	}

	k.tabTo("#sign-start")
	k.press("Space", " ")
	webuitest.Do(t, bctx, "the code form", chromedp.WaitVisible(chromedp.ID("sms-code")))
	if !webuitest.Get(t, bctx, "focus on the code", chromedp.Evaluate[bool](`document.activeElement.id === "sms-code"`)) {
		t.Error("the focus does not move to the code field after M1")
	}
	code, _ := sys.waitSMS(t, cust.Phone, last, func(text string) string { return codeRE.FindString(text) })
	k.press("type the code", code)
	k.tabTo("#sign-password")
	k.press("type the password", cust.Password)
	k.press("Enter", kb.Enter)
	webuitest.Do(t, bctx, "the waiting page", chromedp.WaitVisible(chromedp.ID("wait")))
	sealed := false
	for deadline := time.Now().Add(90 * time.Second); !sealed && time.Now().Before(deadline); {
		time.Sleep(300 * time.Millisecond)
		sealed, _ = chromedp.Run(bctx, chromedp.Evaluate[bool](`!!document.querySelector("#wait a[download]")`)) // the page reloads itself
	}
	if !sealed {
		t.Fatal("the contract was not offered")
	}
	k.tabTo("#wait a[download]")
	webuitest.Axe(t, bctx, "keyboard-sealed")
}
