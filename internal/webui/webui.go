// Package webui is what the server-rendered web surfaces (the operators'
// admin UI, the customers' UI) share: the page layout, the static assets
// with their cache headers, the strict Content-Security-Policy with a nonce
// per request and the other security headers, cross-origin (CSRF)
// protection and body size limits, the Hungarian and English message
// catalogues (with the bank's overrides and added languages, and CLDR
// plural forms) with each visitor's language choice, flash messages, the
// session cookie helpers and error pages that show the user a safe message
// and an error id, never an internal error text.
//
// A surface builds one Renderer at start from its own templates, messages
// and static files (embedded in the binary); New parses and checks
// everything, so a broken template or a missing message stops the process
// instead of failing a request:
//
//	ui, err := webui.New(webui.Options{Templates: pages, Messages: msgs, Static: static, Log: log})
//	mux.Handle("GET /static/", ui.Static())
//	mux.Handle("GET /{$}", ui.Handle(func(w http.ResponseWriter, r *http.Request) error {
//		return ui.Render(w, r, http.StatusOK, "home.html", webui.Page{Title: "home.title", Data: data})
//	}))
//	handler := ui.Protect(mux) // security headers, nonce, CSRF, size limit
//
// Templates are html/template files; each page file defines "content" (and
// may define "head" for extra elements of <head>); files whose name starts
// with "_" are partials shared by every page (a surface's "nav" block
// lives there). The layout (templates/layout.html here) renders <html>,
// <head>, the skip link, "nav", flash messages, "content" and the footer.
// Inside templates, .T "key" args... translates; asset "name" is the
// versioned URL of a static file; .Nonce is the CSP nonce for the rare
// inline <script nonce> or <style nonce>.
package webui

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"text/template/parse"

	"esign/internal/branding"
	"esign/internal/esign"
	"esign/internal/httpkit"
)

//go:embed templates/*.html
var baseTemplates embed.FS

//go:embed static
var baseStatic embed.FS

//go:embed messages/*.json
var baseMessages embed.FS

// Options configure a Renderer.
type Options struct {
	// Templates holds the surface's *.html files at its root.
	Templates fs.FS
	// Messages holds the surface's <lang>.json catalogues at its root;
	// they are merged with this package's (errors, language names,
	// layout texts). A key defined twice stops New.
	Messages fs.FS
	// Static holds the surface's static files, served under /static/.
	// This package's own files (webui.css) are served beside them.
	Static fs.FS
	// Languages the surface ships, the first being the default.
	// Default: hu, en. Those the Overrides add are offered after them.
	Languages []string
	// Overrides, optional, is the bank's message directory: its
	// <lang>.json and <lang>.<part>.json files replace texts of a shipped
	// language or add a language (see Catalogue).
	Overrides Overrides
	// Secure marks the cookies Secure (with the __Host- prefix) and sends
	// HSTS: set it when the surface is reached over HTTPS, directly or
	// behind a TLS-terminating proxy. A request that arrives over TLS gets
	// Secure cookies and HSTS in any case.
	Secure bool
	// MaxBodyBytes caps every request body (default 1 MiB).
	MaxBodyBytes int64
	// BodyLimit, when set, is asked for the cap of each request's body:
	// a positive answer replaces MaxBodyBytes (for the routes that take
	// uploads), zero keeps it.
	BodyLimit func(*http.Request) int64
	// Product is shown in page titles (default Brand.ProductName, then
	// "esign").
	Product string
	// Brand is the bank's look: the layout links its stylesheet and shows
	// its support contact and legal footer; MountBranding serves the
	// stylesheet and the logo. The zero value: branding.Default().
	Brand branding.Brand
	// Version is shown in the footer.
	Version string
	// ConnectSrc, optional, names further origins the pages may connect
	// to (CSP connect-src), e.g. the realtime listener's origin for
	// EventSource; space-separated, "" for none.
	ConnectSrc func(*http.Request) string
	// Funcs are extra template functions of the surface.
	Funcs template.FuncMap
	Log   *slog.Logger
}

// Overrides names the bank's message directory.
type Overrides struct {
	FS   fs.FS  // nil: none
	Path string // its name, for error messages
}

// Renderer renders the pages of one surface. It is safe for concurrent
// use and holds no per-request state.
type Renderer struct {
	opt    Options
	log    *slog.Logger
	pages  map[string]*template.Template
	cat    *Catalogue
	static *assets
	brand  *brandAssets
}

// New parses and checks the templates, messages and static files. Errors
// name the file at fault.
func New(opt Options) (*Renderer, error) {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if len(opt.Languages) == 0 {
		opt.Languages = []string{"hu", "en"}
	}
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = 1 << 20
	}
	def := branding.Default()
	if opt.Brand.Colors == (branding.Colors{}) {
		opt.Brand.Colors = def.Colors
	}
	opt.Brand.ProductName = cmp.Or(opt.Brand.ProductName, def.ProductName)
	opt.Brand.BankName = cmp.Or(opt.Brand.BankName, opt.Brand.ProductName)
	if opt.Product == "" {
		opt.Product = opt.Brand.ProductName
	}
	r := &Renderer{opt: opt, log: opt.Log, brand: newBrandAssets(opt.Brand)}
	baseMsgs, _ := fs.Sub(baseMessages, "messages")
	cat, err := loadCatalogue(opt.Log, opt.Languages, opt.Overrides, baseMsgs, opt.Messages)
	if err != nil {
		return nil, err
	}
	r.cat = cat
	r.opt.Languages = cat.Languages()
	baseSt, _ := fs.Sub(baseStatic, "static")
	if r.static, err = loadAssets(opt.Static, baseSt); err != nil {
		return nil, err
	}
	if err := r.parse(); err != nil {
		return nil, err
	}
	return r, nil
}

// Catalogue returns the merged message catalogue.
func (r *Renderer) Catalogue() *Catalogue { return r.cat }

func (r *Renderer) funcs() template.FuncMap {
	f := template.FuncMap{
		"asset": r.static.url,
		"lower": strings.ToLower,
	}
	for k, v := range r.opt.Funcs {
		f[k] = v
	}
	return f
}

func (r *Renderer) parse() error {
	base := template.New("").Funcs(r.funcs())
	if _, err := base.ParseFS(baseTemplates, "templates/layout.html", "templates/_*.html"); err != nil {
		return fmt.Errorf("webui: parse layout: %w", err)
	}
	names, err := fs.Glob(r.opt.Templates, "*.html")
	if err != nil || len(names) == 0 {
		return fmt.Errorf("webui: no templates (%v)", err)
	}
	var pages []string
	for _, n := range names {
		if strings.HasPrefix(n, "_") {
			if _, err := base.ParseFS(r.opt.Templates, n); err != nil {
				return fmt.Errorf("webui: parse %s: %w", n, err)
			}
		} else {
			pages = append(pages, n)
		}
	}
	r.pages = map[string]*template.Template{}
	add := func(name string, fsys fs.FS, file string) error {
		t, err := base.Clone()
		if err == nil {
			_, err = t.ParseFS(fsys, file)
		}
		if err != nil {
			return fmt.Errorf("webui: parse %s: %w", file, err)
		}
		if t.Lookup("content") == nil {
			return fmt.Errorf("webui: %s defines no \"content\" template", file)
		}
		if err := r.checkKeys(file, t); err != nil {
			return err
		}
		r.pages[name] = t
		return nil
	}
	if err := add("webui-error.html", baseTemplates, "templates/error.html"); err != nil {
		return err
	}
	for _, n := range pages {
		if err := add(n, r.opt.Templates, n); err != nil {
			return err
		}
	}
	return nil
}

// checkKeys finds every {{.T "key"}} with a constant key in the page's
// templates and fails when a catalogue lacks the key.
func (r *Renderer) checkKeys(page string, t *template.Template) error {
	var missing []string
	for _, tt := range t.Templates() {
		if tt.Tree == nil {
			continue
		}
		walk(tt.Tree.Root, func(key string, _ parse.Node) {
			if !r.cat.Has(key) && !slices.Contains(missing, key) {
				missing = append(missing, key)
			}
		})
	}
	if len(missing) > 0 {
		return fmt.Errorf("webui: %s uses messages missing from the catalogues: %s", page, strings.Join(missing, ", "))
	}
	return nil
}

// walk calls fn with the constant key of every .T call below n.
func walk(n parse.Node, fn func(string, parse.Node)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, fn)
		}
	case *parse.ActionNode:
		walk(n.Pipe, fn)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walk(c, fn)
		}
	case *parse.CommandNode:
		if len(n.Args) >= 2 {
			var ident []string
			switch f := n.Args[0].(type) {
			case *parse.FieldNode:
				ident = f.Ident
			case *parse.VariableNode: // $.T
				ident = f.Ident
			}
			if len(ident) >= 1 && ident[len(ident)-1] == "T" {
				if s, ok := n.Args[1].(*parse.StringNode); ok {
					fn(s.Text, s)
				}
			}
		}
		for _, a := range n.Args {
			walk(a, fn)
		}
	case *parse.IfNode:
		walk(n.Pipe, fn)
		walk(n.List, fn)
		walk(n.ElseList, fn)
	case *parse.RangeNode:
		walk(n.Pipe, fn)
		walk(n.List, fn)
		walk(n.ElseList, fn)
	case *parse.WithNode:
		walk(n.Pipe, fn)
		walk(n.List, fn)
		walk(n.ElseList, fn)
	case *parse.TemplateNode:
		walk(n.Pipe, fn)
	}
}

// Page is what a handler renders: the title's message key and the page's
// own data. Principal is shown by the layout's navigation when set.
type Page struct {
	Title     string // message key
	TitleArgs []any
	Data      any
	Principal any
	// Nav is the key of the navigation entry to mark as current.
	Nav string
}

// View is the value templates see: the Page, plus the request's language,
// nonce and flash message.
type View struct {
	Page
	Lang      string
	Languages []string
	Nonce     string
	Flash     *Flash
	Product   string
	Version   string
	Path      string // the request path, for the language form's return
	Brand     BrandView
	cat       *Catalogue
}

// T translates key into the view's language; args fill the message's
// fmt verbs.
func (v *View) T(key string, args ...any) string { return v.cat.T(v.Lang, key, args...) }

// Render writes the page with status. It renders into a buffer first, so a
// failing template becomes an error page, never half a page.
func (r *Renderer) Render(w http.ResponseWriter, req *http.Request, status int, page string, p Page) error {
	t := r.pages[page]
	if t == nil {
		return esign.E("webui.Render", esign.Internal, fmt.Errorf("no page %q", page))
	}
	v := r.view(w, req, p)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return esign.E("webui.Render", esign.Internal, fmt.Errorf("render %s: %w", page, err))
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", v.Lang)
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

func (r *Renderer) view(w http.ResponseWriter, req *http.Request, p Page) *View {
	if p.Principal == nil {
		p.Principal = PrincipalFrom(req.Context())
	}
	return &View{Page: p, Lang: r.Language(req), Languages: r.opt.Languages, Nonce: Nonce(req.Context()),
		Flash: r.takeFlash(w, req), Product: r.opt.Product, Version: r.opt.Version, Path: returnPath(req), Brand: r.brand.view(), cat: r.cat}
}

// WithPrincipal records the signed-in visitor in ctx, so that pages
// rendered without an explicit Page.Principal, such as error pages, still
// show the navigation of a signed-in visitor.
func WithPrincipal(ctx context.Context, p any) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFrom returns what WithPrincipal recorded, or nil.
func PrincipalFrom(ctx context.Context) any { return ctx.Value(principalKey) }

// Handle adapts a handler that returns its error: the error is shown as
// an error page (Error).
func (r *Renderer) Handle(fn httpkit.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if err := fn(w, req); err != nil {
			r.Error(w, req, err)
		}
	})
}

// Redirect answers a form post with 303 See Other to url (post/redirect/
// get), with an optional flash message shown on the next page.
func (r *Renderer) Redirect(w http.ResponseWriter, req *http.Request, url string, f *Flash) {
	if f != nil {
		r.SetFlash(w, req, *f)
	}
	http.Redirect(w, req, url, http.StatusSeeOther)
}

// returnPath is where the language form leads back: the page with its
// query when it was a GET (a sign-in's next, a link's code), else its
// path.
func returnPath(req *http.Request) string {
	if req.Method == http.MethodGet && len(req.URL.RawQuery) <= 1024 {
		return req.URL.RequestURI()
	}
	return req.URL.Path
}

// pathClean is path.Clean that keeps a trailing slash off.
func pathClean(p string) string { return path.Clean("/" + p) }

// Tx translates key when the catalogues have it, and returns fallback
// otherwise: for keys built from data ("offer.state." + state) whose set
// may grow.
func (v *View) Tx(key, fallback string) string {
	if v.cat.Has(key) {
		return v.T(key)
	}
	return fallback
}

// PluralForms is the JSON object of key's plural forms in the view's
// language, for scripts that format a count themselves (with
// Intl.PluralRules).
func (v *View) PluralForms(key string) string {
	b, err := json.Marshal(v.cat.Forms(v.Lang, key))
	if err != nil {
		return "{}"
	}
	return string(b)
}

// LangName is the name of lang in itself, for the language switcher.
func (v *View) LangName(lang string) string { return v.cat.LangName(lang) }

// PageTitle is the translated title.
func (v *View) PageTitle() string { return v.T(v.Title, v.TitleArgs...) }

// LanguageHandler handles the layout's language form (POST /language):
// it remembers the choice and returns to the page the form was on.
func (r *Renderer) LanguageHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.SetLanguage(w, req, req.PostFormValue("lang"))
		http.Redirect(w, req, LocalPath(req.PostFormValue("return")), http.StatusSeeOther)
	})
}

// LocalPath returns p when it is a path on this origin ("/offers?x=1"),
// else "/": a redirect target taken from a form never leaves the site.
func LocalPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return "/"
	}
	return p
}
