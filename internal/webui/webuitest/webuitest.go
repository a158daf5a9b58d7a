// Package webuitest drives the web surfaces in a real headless Chromium
// for browser tests: it starts the browser (skipping the test when
// Chromium is not installed, failing under ESIGN_TEST_REQUIRE=1), runs the
// vendored axe-core on a page and fails on serious or critical
// accessibility violations, and saves screenshots at phone and desktop
// widths for the documentation.
package webuitest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"esign/internal/esigntest"
)

//go:embed vendor/axe-core/axe.min.js
var axeJS string

// Browser starts a fresh headless Chromium (own profile directory, no
// network services of its own) and returns a context for chromedp.Run. It
// is closed when the test ends.
func Browser(t *testing.T) context.Context {
	t.Helper()
	path := esigntest.Tool(t, "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser, bound to ctx (no deadline here).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// Do runs the steps with a deadline, failing the test with what was being
// done.
func Do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// DoAgain runs steps like Do, but runs them again (up to three times in
// all) when an attempt fails because the page replaced the document
// between finding a node and acting on it ("Could not find node with
// given id": a navigation or a script re-rendering the page under the
// test). Use it for a click and what it leads to: the failed attempt did
// not click, so running it again repeats nothing.
func DoAgain(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := chromedp.Do(actx, steps...)
		cancel()
		if err == nil {
			return
		}
		if attempt == 3 || !strings.Contains(err.Error(), "Could not find node with given id") {
			t.Fatalf("%s: %v", what, err)
		}
		t.Logf("%s: the page changed under the step (%v); again", what, err)
		time.Sleep(200 * time.Millisecond)
	}
}

// Get runs one action that returns a value, with a deadline.
func Get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// Violation is one axe-core finding.
type Violation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// Axe runs axe-core (WCAG 2.x A and AA rules and best practices) on the
// current page and fails the test on a serious or critical violation;
// lesser ones are logged.
func Axe(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	for _, v := range AxeViolations(t, ctx, page) {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target)+" "+n.HTML)
		}
		msg := fmt.Sprintf("axe %s on %s: %s (%s)\n  %s", v.Impact, page, v.Help, v.ID, strings.Join(where, "\n  "))
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(msg)
		} else {
			t.Log(msg)
		}
	}
}

// AxeViolations runs axe-core on the current page and returns what it
// found. The script is injected through the DevTools protocol, which the
// page's CSP does not govern: the page itself never serves it.
func AxeViolations(t *testing.T, ctx context.Context, page string) []Violation {
	t.Helper()
	script := axeJS + `
;(async () => {
  const r = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}});
  return JSON.stringify(r.violations);
})()`
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](script, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe on %s: %v", page, err)
	}
	var vs []Violation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("axe on %s: %v", page, err)
	}
	return vs
}

// Widths are the screenshot widths: a phone and a desktop.
var Widths = []struct {
	Name  string
	Width int64
}{{"phone", 360}, {"desktop", 1280}}

// Screenshots saves full-page PNGs of the current page at each of Widths
// as <dir>/<name>-<width name>.png, and restores the desktop width. The
// directory is created.
func Screenshots(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, w := range Widths {
		opts := []chromedp.EmulateViewportOption{}
		if w.Name == "phone" {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
		}
		Do(t, ctx, "resize for "+name, chromedp.EmulateViewport(w.Width, 800, opts...),
			chromedp.Sleep(100*time.Millisecond)) // let the layout settle at the new width
		png := Get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(dir, name+"-"+w.Name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	Do(t, ctx, "reset width", chromedp.EmulateViewport(1280, 900))
}
