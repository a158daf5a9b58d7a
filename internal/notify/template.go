package notify

import (
	"bytes"
	"cmp"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
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
	text  map[Lang]*texttemplate.Template
	html  map[Lang]*htmltemplate.Template
}

// The parts every kind defines in every language.
var textParts = []string{"sms", "subject", "text", "push_title", "push_body"}

// NewRenderer parses the templates and checks that every kind has every part
// in every language. Times are shown in loc (nil: UTC).
func NewRenderer(b Branding, loc *time.Location) (*Renderer, error) {
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
	for _, lang := range Langs() {
		funcs := r.funcs(lang)
		tt, err := texttemplate.New("").Funcs(funcs).Option("missingkey=error").ParseFS(templateFS, "templates/text."+string(lang)+".tmpl")
		if err != nil {
			return nil, fmt.Errorf("notify: parse text templates %s: %w", lang, err)
		}
		ht, err := htmltemplate.New("").Funcs(htmltemplate.FuncMap(funcs)).Option("missingkey=error").ParseFS(templateFS, "templates/layout.html.tmpl", "templates/html."+string(lang)+".tmpl")
		if err != nil {
			return nil, fmt.Errorf("notify: parse html templates %s: %w", lang, err)
		}
		for _, k := range Kinds() {
			for _, p := range textParts {
				if tt.Lookup(string(k)+"."+p) == nil {
					return nil, fmt.Errorf("notify: template %s.%s missing for %s", k, p, lang)
				}
			}
			if ht.Lookup(string(k)+".html") == nil {
				return nil, fmt.Errorf("notify: template %s.html missing for %s", k, lang)
			}
		}
		r.text[lang], r.html[lang] = tt, ht
	}
	return r, nil
}

func (r *Renderer) funcs(lang Lang) texttemplate.FuncMap {
	return texttemplate.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			t = t.In(r.loc)
			if lang == Hungarian {
				return t.Format("2006.01.02. 15:04")
			}
			return t.Format("2 Jan 2006 15:04")
		},
	}
}

type templateData struct {
	Brand Branding
	Lang  Lang
	Kind  Kind
	Params
}

// Render renders kind in lang. An unknown language falls back to Hungarian.
func (r *Renderer) Render(kind Kind, lang Lang, p Params) (Rendered, error) {
	if !kind.Valid() {
		return Rendered{}, fmt.Errorf("notify: render: unknown kind %q", kind)
	}
	tt, ok := r.text[lang]
	if !ok {
		lang = Hungarian
		tt = r.text[lang]
	}
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
