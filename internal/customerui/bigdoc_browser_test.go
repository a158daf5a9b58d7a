package customerui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"esign/internal/esign"
	"esign/internal/pdf/pdftest"
	"esign/internal/webui/webuitest"
)

// TestLargeDocumentInBrowser opens an offer of a 5 MB, 40-page PDF in
// headless Chromium: PDF.js renders it from css (streamed in RPC ranges,
// with HTTP ranges of its own), the customer scrolls to its last page, the
// read-to-end evidence is recorded and signing is enabled.
func TestLargeDocumentInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	env := newRPCEnv(t, nil)
	c, _ := env.signIn(t, "Dora")
	doc := env.e.Document(t, c.ID, "big.pdf", pdftest.MinimalPadded(40, 5<<20))
	o := env.e.Offer(t, c.ID, "Big offer", doc.ID)
	var (
		mu       sync.Mutex
		requests []string // Range headers of the document's requests ("" for a whole one)
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/documents/"+doc.ID) && r.Method == http.MethodGet {
			mu.Lock()
			requests = append(requests, r.Header.Get("Range"))
			mu.Unlock()
		}
		env.h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	ctx := webuitest.Browser(t)
	webuitest.Do(t, ctx, "sign in", chromedp.Navigate(srv.URL+"/signin?next=/o/"+o.ID), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), c.Username), chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("sign")))
	webuitest.Do(t, ctx, "open the document in the viewer",
		chromedp.WaitReady(chromedp.CSS(`#viewer[data-ready]`)), chromedp.WaitReady(chromedp.CSS(`#sign[data-ready]`)),
		chromedp.Click(chromedp.CSS(`button.view-doc`)), chromedp.WaitVisible(chromedp.CSS(`#viewer .viewer-page[data-state="rendered"] canvas`)))
	if got := webuitest.Get(t, ctx, "status", chromedp.Evaluate[string](`document.getElementById("viewer-status").innerText.trim()`)); got != "40 pages" {
		t.Errorf("viewer status %q, want 40 pages", got)
	}
	webuitest.Do(t, ctx, "scroll to the last page", chromedp.WaitReady(chromedp.CSS(`#viewer-box[data-index="0"]`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#viewer .viewer-end").scrollIntoView()`),
		chromedp.WaitEnabled(chromedp.ID("sign-start")))
	webuitest.Screenshots(t, ctx, t.TempDir(), "large-document")

	as, err := env.e.DB.ListActivities(t.Context(), esign.ActivityFilter{OfferID: o.ID, Kind: "document.read_to_end"})
	if err != nil || len(as) != 1 {
		t.Fatalf("read-to-end evidence: %d, %v", len(as), err)
	}
	mu.Lock()
	defer mu.Unlock()
	whole := 0
	for _, r := range requests {
		if r == "" {
			whole++
		}
	}
	t.Logf("the document's requests: %q", requests)
	if whole != 1 {
		t.Errorf("%d whole requests of the document, want 1 (PDF.js's opening): %q", whole, requests)
	}
	if n := downloads(t, env, c.ID); n != 1 {
		t.Errorf("%d document.downloaded activities, want 1", n)
	}
}
