package notify

import (
	"bytes"
	"cmp"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"slices"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
	"time"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// Branding is what the configuration says about who speaks in the messages.
type Branding struct {
	ProductName  string // "e-Aláírás"
	BankName     string // "Példa Bank Zrt."
	SupportEmail string
	SupportPhone string
	BaseURL      string // customer UI, e.g. https://sign.example.hu
	LogoURL      string // absolute URL of the logo in e-mails; empty: no logo
	Color        string // primary colour of e-mails, CSS hex like #004b87
	OnPrimary    string // text on Color, CSS hex; default #ffffff
	SupportURL   string // support web page, linked from e-mails
	LegalFooter  string // legal text at the bottom of e-mails
	// PushTitle is the title of every push, {title} standing for the
	// message's own title; empty: the message's title.
	PushTitle string
}

// Params are the facts a message is made of. Which fields a kind uses is
// documented in docs/notifications.md; unused fields are ignored.
type Params struct {
	CustomerName string    `json:"customer_name,omitempty"`
	OfferTitle   string    `json:"offer_title,omitempty"`
	Code         string    `json:"code,omitempty"` // one-time code (twofa_code, device_association_code)
	URL          string    `json:"url,omitempty"`  // deep link; defaults to Branding.BaseURL
	Reason       string    `json:"reason,omitempty"`
	Title        string    `json:"title,omitempty"`   // bank_message: the bank's title
	Message      string    `json:"message,omitempty"` // bank_message: the bank's text
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
}

// Rendered is one message in every channel's form.
type Rendered struct {
	SMS       string
	Subject   string
	Text      string
	HTML      string
	PushTitle string
	PushBody  string
}

// Renderer renders the embedded templates with the configured branding. It
// is safe for concurrent use.
type Renderer struct {
	brand Branding
	loc   *time.Location
	langs []Lang
	text  map[Lang]*texttemplate.Template
	html  map[Lang]*htmltemplate.Template
}

// The parts every kind defines in every language.
var textParts = []string{"sms", "subject", "text", "push_title", "push_body"}

// Overrides is a directory of the bank's own templates (the customization
// directory's templates/ folder): text.<lang>.tmpl and html.<lang>.tmpl
// redefine any of the shipped templates ({{define "offer_available.sms"}})
// of that language, and layout.html.tmpl any part of the e-mail layout. A
// language that is not shipped (text.de.tmpl) is added, starting from the
// English templates, so that what it does not define stays English.
type Overrides struct {
	FS   fs.FS  // nil: no overrides
	Path string // the directory's name, for error messages
}

// NewRenderer parses the templates and checks that every kind has every part
// in every language. Times are shown in loc (nil: UTC).
func NewRenderer(b Branding, loc *time.Location) (*Renderer, error) {
	return NewCustomRenderer(b, loc, Overrides{})
}

// NewCustomRenderer is NewRenderer with the bank's overrides on top of the
// shipped templates. Every template of every language is rendered once
// with sample data, so that an override that does not parse or uses a
// field that does not exist is an error here, at start, naming the file
// and line.
func NewCustomRenderer(b Branding, loc *time.Location, ov Overrides) (*Renderer, error) {
	if loc == nil {
		loc = time.UTC
	}
	if b.Color == "" {
		b.Color = "#004b87"
	}
	if b.OnPrimary == "" {
		b.OnPrimary = "#ffffff"
	}
	r := &Renderer{brand: b, loc: loc, text: map[Lang]*texttemplate.Template{}, html: map[Lang]*htmltemplate.Template{}}
	langs, err := overrideLangs(ov)
	if err != nil {
		return nil, err
	}
	r.langs = langs
	for _, lang := range langs {
		if err := r.parse(lang, ov); err != nil {
			return nil, err
		}
		if err := r.trial(lang); err != nil {
			if ov.FS != nil {
				return nil, fmt.Errorf("notify: templates with the overrides of %s: %w", ov.Path, err)
			}
			return nil, err
		}
	}
	return r, nil
}

// overrideLangs returns the shipped languages followed by those the
// overrides add.
func overrideLangs(ov Overrides) ([]Lang, error) {
	langs := Langs()
	if ov.FS == nil {
		return langs, nil
	}
	names, err := fs.Glob(ov.FS, "*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("notify: templates %s: %w", ov.Path, err)
	}
	for _, n := range names {
		if n == "layout.html.tmpl" {
			continue
		}
		kind, rest, _ := strings.Cut(strings.TrimSuffix(n, ".tmpl"), ".")
		if (kind != "text" && kind != "html") || !validLang(rest) {
			return nil, fmt.Errorf("notify: template override %s: the name is not text.<lang>.tmpl, html.<lang>.tmpl or layout.html.tmpl", path.Join(ov.Path, n))
		}
		if !slices.Contains(langs, Lang(rest)) {
			langs = append(langs, Lang(rest))
		}
	}
	return langs, nil
}

// validLang reports whether s is a primary language subtag: two or three
// lower-case letters.
func validLang(s string) bool {
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for _, c := range s {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// parse builds lang's templates: the shipped ones (English for an added
// language), then the overrides.
func (r *Renderer) parse(lang Lang, ov Overrides) error {
	base := lang
	if !slices.Contains(Langs(), lang) {
		base = English
	}
	funcs := r.funcs(lang)
	tt, err := texttemplate.New("").Funcs(funcs).Option("missingkey=error").ParseFS(templateFS, "templates/text."+string(base)+".tmpl")
	if err != nil {
		return fmt.Errorf("notify: parse text templates %s: %w", lang, err)
	}
	ht, err := htmltemplate.New("").Funcs(htmltemplate.FuncMap(funcs)).Option("missingkey=error").ParseFS(templateFS, "templates/layout.html.tmpl", "templates/html."+string(base)+".tmpl")
	if err != nil {
		return fmt.Errorf("notify: parse html templates %s: %w", lang, err)
	}
	if ov.FS != nil {
		exists := func(name string) bool { _, err := fs.Stat(ov.FS, name); return err == nil }
		if n := "text." + string(lang) + ".tmpl"; exists(n) {
			if _, err := tt.ParseFS(ov.FS, n); err != nil {
				return fmt.Errorf("notify: template override %s: %w", path.Join(ov.Path, n), err)
			}
		}
		for _, n := range []string{"layout.html.tmpl", "html." + string(lang) + ".tmpl"} {
			if exists(n) {
				if _, err := ht.ParseFS(ov.FS, n); err != nil {
					return fmt.Errorf("notify: template override %s: %w", path.Join(ov.Path, n), err)
				}
			}
		}
	}
	for _, k := range Kinds() {
		for _, p := range textParts {
			if tt.Lookup(string(k)+"."+p) == nil {
				return fmt.Errorf("notify: template %s.%s missing for %s", k, p, lang)
			}
		}
		if ht.Lookup(string(k)+".html") == nil {
			return fmt.Errorf("notify: template %s.html missing for %s", k, lang)
		}
	}
	r.text[lang], r.html[lang] = tt, ht
	return nil
}

// trial renders every kind of lang with every field set, so that a
// template naming a field that does not exist fails at start. The error
// names the template's file and line (template: text.de.tmpl:3:14: …).
func (r *Renderer) trial(lang Lang) error {
	p := Params{CustomerName: "N", OfferTitle: "T", Code: "000000", URL: "s/x", Reason: "R", Title: "T", Message: "M",
		ExpiresAt: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, k := range Kinds() {
		for _, p := range []Params{p, {}} {
			if _, err := r.render(k, lang, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// Languages returns the languages the renderer has templates for: the
// shipped ones first, then those the overrides add.
func (r *Renderer) Languages() []Lang { return slices.Clone(r.langs) }

func (r *Renderer) funcs(lang Lang) texttemplate.FuncMap {
	return texttemplate.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			t = t.In(r.loc)
			switch lang {
			case Hungarian:
				return t.Format("2006.01.02. 15:04")
			case English:
				return t.Format("2 Jan 2006 15:04")
			}
			return t.Format("2006-01-02 15:04")
		},
	}
}

type templateData struct {
	Brand Branding
	Lang  Lang
	Kind  Kind
	Params
}

// Render renders kind in lang. A language without templates falls back to
// Hungarian.
func (r *Renderer) Render(kind Kind, lang Lang, p Params) (Rendered, error) {
	if !kind.Valid() {
		return Rendered{}, fmt.Errorf("notify: render: unknown kind %q", kind)
	}
	if _, ok := r.text[lang]; !ok {
		lang = Hungarian
	}
	return r.render(kind, lang, p)
}

func (r *Renderer) render(kind Kind, lang Lang, p Params) (Rendered, error) {
	tt := r.text[lang]
	p.URL = r.link(p.URL)
	data := templateData{Brand: r.brand, Lang: lang, Kind: kind, Params: p}
	var out Rendered
	dst := []*string{&out.SMS, &out.Subject, &out.Text, &out.PushTitle, &out.PushBody}
	var buf bytes.Buffer
	for i, part := range textParts {
		buf.Reset()
		if err := tt.ExecuteTemplate(&buf, string(kind)+"."+part, data); err != nil {
			return Rendered{}, fmt.Errorf("notify: render %s.%s %s: %w", kind, part, lang, err)
		}
		*dst[i] = strings.TrimSpace(buf.String())
	}
	buf.Reset()
	if err := r.html[lang].ExecuteTemplate(&buf, string(kind)+".html", data); err != nil {
		return Rendered{}, fmt.Errorf("notify: render %s.html %s: %w", kind, lang, err)
	}
	out.HTML = buf.String()
	// Subjects and push titles are single lines.
	out.Subject = oneLine(out.Subject)
	out.PushTitle = oneLine(out.PushTitle)
	if r.brand.PushTitle != "" {
		out.PushTitle = oneLine(strings.ReplaceAll(r.brand.PushTitle, "{title}", out.PushTitle))
	}
	return out, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// link resolves a relative URL ("s/CODE", a short link of the customer UI)
// against the customer UI's address; empty gives the address itself.
func (r *Renderer) link(u string) string {
	if u == "" || strings.Contains(u, "://") {
		return cmp.Or(u, r.brand.BaseURL)
	}
	return strings.TrimSuffix(r.brand.BaseURL, "/") + "/" + strings.TrimPrefix(u, "/")
}

// TemplateNames lists the templates every language has: <kind>.<part> for
// each text part and <kind>.html.
func TemplateNames() []string {
	var out []string
	for _, k := range Kinds() {
		for _, p := range textParts {
			out = append(out, string(k)+"."+p)
		}
		out = append(out, string(k)+".html")
	}
	return out
}

// OverrideDefines returns the names of the templates that lang's override
// files (text.<lang>.tmpl, html.<lang>.tmpl) define, parsed without
// executing; none when there are no such files.
func OverrideDefines(ov Overrides, lang Lang) ([]string, error) {
	var out []string
	if ov.FS == nil {
		return nil, nil
	}
	for _, n := range []string{"text." + string(lang) + ".tmpl", "html." + string(lang) + ".tmpl"} {
		data, err := fs.ReadFile(ov.FS, n)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("notify: template override %s: %w", path.Join(ov.Path, n), err)
		}
		t := parse.New(n)
		t.Mode = parse.SkipFuncCheck
		trees := map[string]*parse.Tree{}
		if _, err := t.Parse(string(data), "{{", "}}", trees); err != nil {
			return nil, fmt.Errorf("notify: template override %s: %w", path.Join(ov.Path, n), err)
		}
		for name := range trees {
			if name != n && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// OverrideLanguages returns the languages of the override files, shipped
// or not, sorted.
func OverrideLanguages(ov Overrides) ([]Lang, error) {
	all, err := overrideLangs(ov)
	if err != nil || ov.FS == nil {
		return nil, err
	}
	var out []Lang
	for _, l := range all {
		for _, n := range []string{"text." + string(l) + ".tmpl", "html." + string(l) + ".tmpl"} {
			if _, err := fs.Stat(ov.FS, n); err == nil && !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
