package webui_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/chromedp/chromedp"

	"esign/internal/esign"
	"esign/internal/webui"
	"esign/internal/webui/webuitest"
)

// TestLayoutInBrowser renders the layout and the error page in Chromium:
// the CSP lets the page's own script run (nonce) and axe finds no serious
// violation in what every page shares.
func TestLayoutInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx := webuitest.Browser(t)
	r, err := webui.New(webui.Options{
		Templates: fstest.MapFS{"home.html": {Data: []byte(`{{define "content"}}<h1>{{.T "t.title"}}</h1><p id="js">no script</p><script nonce="{{.Nonce}}" src="{{asset "app.js"}}"></script>{{end}}`)}},
		Messages:  fstest.MapFS{"en.json": {Data: []byte(`{"t.title":"Home"}`)}, "hu.json": {Data: []byte(`{"t.title":"Kezdőlap"}`)}},
		Static:    fstest.MapFS{"app.js": {Data: []byte(`document.getElementById("js").textContent = "script ran";`)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", r.Static())
	mux.Handle("POST /language", r.LanguageHandler())
	mux.Handle("GET /{$}", r.Handle(func(w http.ResponseWriter, req *http.Request) error {
		return r.Render(w, req, 200, "home.html", webui.Page{Title: "t.title"})
	}))
	mux.Handle("GET /bad", r.Handle(func(w http.ResponseWriter, req *http.Request) error {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, err := w.Write([]byte(`<!doctype html><html><head><title>x</title></head><body><img src="/x.png"></body></html>`))
		return err
	}))
	mux.Handle("GET /boom", r.Handle(func(w http.ResponseWriter, req *http.Request) error {
		return esign.E("test", esign.NotFound, "no such thing")
	}))
	srv := httptest.NewServer(r.Protect(mux))
	defer srv.Close()

	webuitest.Do(t, ctx, "open home", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if got := webuitest.Get(t, ctx, "read script output", chromedp.Text(chromedp.ID("js"))); got != "script ran" {
		t.Errorf("the nonce'd script did not run: %q", got)
	}
	if got := webuitest.Get(t, ctx, "read title", chromedp.Text(chromedp.CSS("h1"))); got != "Home" {
		t.Errorf("h1 = %q, want the English title (browser language en-US)", got)
	}
	webuitest.Axe(t, ctx, "home")
	webuitest.Do(t, ctx, "switch to Hungarian", chromedp.Click(chromedp.CSS(`button[value="hu"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="hu"]`)))
	if got := webuitest.Get(t, ctx, "read title", chromedp.Text(chromedp.CSS("h1"))); got != "Kezdőlap" {
		t.Errorf("h1 = %q after choosing Hungarian", got)
	}
	webuitest.Do(t, ctx, "open the error page", chromedp.Navigate(srv.URL+"/boom"), chromedp.WaitVisible(chromedp.CSS("h1")))
	webuitest.Axe(t, ctx, "error page")

	// axe does find problems: an image without a text alternative.
	webuitest.Do(t, ctx, "open a bad page", chromedp.Navigate(srv.URL+"/bad"))
	var ids []string
	for _, v := range webuitest.AxeViolations(t, ctx, "bad page") {
		ids = append(ids, v.ID+"/"+v.Impact)
	}
	if !slices.Contains(ids, "image-alt/critical") {
		t.Errorf("axe found %v on a page with an image without alt", ids)
	}
}
