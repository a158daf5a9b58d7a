package webui

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template/parse"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// Catalogue holds the texts of every language: flat maps from a message
// key ("offers.title") to the text, which may hold fmt verbs. A text that
// depends on a count is an object of CLDR plural forms instead of a string
// ({"one": "%d document", "other": "%d documents"}); the form is chosen by
// the language's plural rules (golang.org/x/text/feature/plural) for the
// first integer argument.
//
// The shipped languages (embedded) must have the same keys. The bank's
// override directory may replace any text of a shipped language and add
// languages; a text an added language lacks is shown in English (the
// fallback) and reported once in the log.
type Catalogue struct {
	langs    []string // offered: the shipped ones, then the added ones
	shipped  []string
	fallback string
	msgs     map[string]map[string]message
	log      *slog.Logger
	reported sync.Map // lang + "\x00" + key → struct{}: missing texts already logged
}

// message is one text, or its plural forms.
type message struct {
	text   string
	plural map[plural.Form]string
}

// pluralForms are the CLDR plural categories a plural message may define.
var pluralForms = map[string]plural.Form{"zero": plural.Zero, "one": plural.One, "two": plural.Two,
	"few": plural.Few, "many": plural.Many, "other": plural.Other}

// Fallback is the language whose text is shown when another lacks one.
const Fallback = "en"

// loadCatalogue reads <lang>.json and any <lang>.<part>.json (one file per
// area of a UI, e.g. en.offers.json) from each fsys (nil ones are skipped)
// and checks that every language has the same keys and that no key is
// defined twice. Then it applies the override files of ov (nil: none),
// named the same way, each replacing the texts it defines; a language
// that is not in langs is added.
func loadCatalogue(log *slog.Logger, langs []string, ov Overrides, fsyss ...fs.FS) (*Catalogue, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Catalogue{langs: slices.Clone(langs), shipped: slices.Clone(langs), msgs: map[string]map[string]message{}, log: log}
	for _, lang := range langs {
		m := map[string]message{}
		for _, fsys := range fsyss {
			if fsys == nil {
				continue
			}
			if err := readMessages(m, fsys, lang, "", true); err != nil {
				return nil, err
			}
		}
		c.msgs[lang] = m
	}
	first := c.msgs[langs[0]]
	for _, lang := range langs[1:] {
		if d := diff(first, c.msgs[lang]); d != "" {
			return nil, fmt.Errorf("webui: messages of %q and %q differ: %s", langs[0], lang, d)
		}
	}
	c.fallback = langs[0]
	if slices.Contains(langs, Fallback) {
		c.fallback = Fallback
	}
	if ov.FS == nil {
		return c, nil
	}
	added, err := OverrideLanguages(ov.FS)
	if err != nil {
		return nil, fmt.Errorf("webui: messages %s/%w", ov.Path, err)
	}
	for _, lang := range added {
		if !slices.Contains(c.langs, lang) {
			c.langs = append(c.langs, lang)
		}
		m := map[string]message{}
		if err := readMessages(m, ov.FS, lang, ov.Path, false); err != nil {
			return nil, err
		}
		for k, v := range m {
			if ref, ok := c.msgs[c.fallback][k]; ok {
				if err := sameVerbs(ref, v); err != nil {
					return nil, fmt.Errorf("webui: messages %s: %s %q: %w", ov.Path, lang, k, err)
				}
			}
		}
		if c.msgs[lang] == nil {
			c.msgs[lang] = map[string]message{}
		}
		for k, v := range m {
			c.msgs[lang][k] = v
		}
	}
	return c, nil
}

// OverrideLanguages returns the languages of the message files in fsys
// (<lang>.json, <lang>.<part>.json), sorted; a .json file named otherwise
// is an error.
func OverrideLanguages(fsys fs.FS) ([]string, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	var langs []string
	for _, n := range names {
		lang, _, _ := strings.Cut(n, ".")
		if !ValidLang(lang) {
			return nil, fmt.Errorf("%s: the name is not <lang>.json or <lang>.<part>.json with a language code such as de", n)
		}
		if !slices.Contains(langs, lang) {
			langs = append(langs, lang)
		}
	}
	sort.Strings(langs)
	return langs, nil
}

// ValidLang reports whether s is a primary language subtag: two or three
// lower-case letters ("de", "fil").
func ValidLang(s string) bool {
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

// readMessages adds lang's files of fsys to m; dir names fsys in errors.
// The shipped files must include <lang>.json; an override directory may
// hold only parts.
func readMessages(m map[string]message, fsys fs.FS, lang, dir string, shipped bool) error {
	parts, err := fs.Glob(fsys, lang+".*.json")
	if err != nil {
		return fmt.Errorf("webui: messages for %q: %w", lang, err)
	}
	names := parts
	if _, err := fs.Stat(fsys, lang+".json"); err == nil || shipped {
		names = append([]string{lang + ".json"}, parts...)
	}
	for _, name := range names {
		file := path.Join(dir, name)
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("webui: messages for %q: %w", lang, err)
		}
		part, err := parseMessages(data)
		if err != nil {
			return fmt.Errorf("webui: messages %s: %w", file, err)
		}
		for k, v := range part {
			if _, dup := m[k]; dup {
				return fmt.Errorf("webui: message %q defined twice for %q (%s)", k, lang, file)
			}
			m[k] = v
		}
	}
	return nil
}

// parseMessages parses one message file: an object of texts, each a
// string or an object of plural forms that includes "other".
func parseMessages(data []byte) (map[string]message, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	out := make(map[string]message, len(raw))
	for k, v := range raw {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			out[k] = message{text: s}
			continue
		}
		var forms map[string]string
		if err := json.Unmarshal(v, &forms); err != nil {
			return nil, fmt.Errorf("%q: a text is a string or an object of plural forms", k)
		}
		msg := message{plural: map[plural.Form]string{}}
		for name, text := range forms {
			f, ok := pluralForms[name]
			if !ok {
				return nil, fmt.Errorf("%q: %q is not a plural form (zero, one, two, few, many, other)", k, name)
			}
			msg.plural[f] = text
		}
		if _, ok := msg.plural[plural.Other]; !ok {
			return nil, fmt.Errorf("%q: plural forms without \"other\"", k)
		}
		out[k] = msg
	}
	return out, nil
}

// verbRE matches a fmt verb ("%s", "%d", "%[2]s", "%5.1f"), and "%%".
var verbRE = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// verbs returns the fmt verbs of s, sorted, without "%%".
func verbs(s string) []string {
	var out []string
	for _, v := range verbRE.FindAllString(s, -1) {
		if v != "%%" {
			out = append(out, v[len(v)-1:])
		}
	}
	slices.Sort(out)
	return out
}

// sameVerbs checks that every form of an override has the verbs of the
// shipped English text: a verb too few or too many would show
// "%!(EXTRA …)" or "%!d(MISSING)" to the visitor.
func sameVerbs(ref, ov message) error {
	want := verbs(ref.text)
	if ref.plural != nil {
		want = verbs(ref.plural[plural.Other])
	}
	texts := []string{ov.text}
	if ov.plural != nil {
		texts = slices.Collect(maps.Values(ov.plural))
	}
	for _, t := range texts {
		if got := verbs(t); !slices.Equal(got, want) {
			return fmt.Errorf("%q has the placeholders %v, the shipped text %v", t, got, want)
		}
	}
	return nil
}

func diff[V any](a, b map[string]V) string {
	var out []string
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// Has reports whether key exists (in every shipped language: New checks
// that they agree).
func (c *Catalogue) Has(key string) bool {
	_, ok := c.msgs[c.shipped[0]][key]
	return ok
}

// Keys returns the sorted keys.
func (c *Catalogue) Keys() []string { return slices.Sorted(maps.Keys(c.msgs[c.shipped[0]])) }

// Languages returns the offered languages: the shipped ones, then those
// the overrides add.
func (c *Catalogue) Languages() []string { return slices.Clone(c.langs) }

// Lookup returns key's text in lang as written in the files (the "other"
// form of a plural one) and whether lang itself has it.
func (c *Catalogue) Lookup(lang, key string) (string, bool) {
	m, ok := c.msgs[lang][key]
	if !ok {
		return "", false
	}
	if m.plural != nil {
		return m.plural[plural.Other], true
	}
	return m.text, true
}

// T returns key's text in lang with args formatted in. A text lang lacks
// is taken from the fallback language (English) and reported once in the
// log; a key no language has (a programming error the start-up check of
// templates and the tests catch) comes back as itself, reported too.
func (c *Catalogue) T(lang, key string, args ...any) string {
	if c.msgs[lang] == nil {
		lang = c.langs[0]
	}
	m, ok := c.msgs[lang][key]
	if !ok {
		m, ok = c.msgs[c.fallback][key]
		if !ok {
			c.report(lang, key, "webui: unknown message key")
			return key
		}
		c.report(lang, key, "webui: message missing, shown in "+c.fallback)
		lang = c.fallback
	}
	s := m.text
	if m.plural != nil {
		s = m.plural[plural.Other]
		if n, ok := count(args); ok {
			if f, ok := m.plural[plural.Cardinal.MatchPlural(language.Make(lang), n, 0, 0, 0, 0)]; ok {
				s = f
			}
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Forms returns key's plural forms in lang by CLDR category ("one",
// "other"), falling back to English like T; a text without plural forms
// is its "other" form.
func (c *Catalogue) Forms(lang, key string) map[string]string {
	if c.msgs[lang] == nil {
		lang = c.langs[0]
	}
	m, ok := c.msgs[lang][key]
	if !ok {
		if m, ok = c.msgs[c.fallback][key]; !ok {
			c.report(lang, key, "webui: unknown message key")
			return map[string]string{"other": key}
		}
		c.report(lang, key, "webui: message missing, shown in "+c.fallback)
	}
	if m.plural == nil {
		return map[string]string{"other": m.text}
	}
	out := make(map[string]string, len(m.plural))
	for name, f := range pluralForms {
		if s, ok := m.plural[f]; ok {
			out[name] = s
		}
	}
	return out
}

// report logs a missing text once per language and key.
func (c *Catalogue) report(lang, key, msg string) {
	if _, seen := c.reported.LoadOrStore(lang+"\x00"+key, struct{}{}); !seen {
		c.log.Warn(msg, "lang", lang, "key", key)
	}
}

// count returns the first integer of args, which selects a plural form.
func count(args []any) (int, bool) {
	for _, a := range args {
		var n int64
		switch v := a.(type) {
		case int:
			n = int64(v)
		case int64:
			n = v
		case int32:
			n = int64(v)
		case uint:
			n = int64(v)
		case uint64:
			n = int64(v)
		case uint32:
			n = int64(v)
		default:
			continue
		}
		if n < 0 {
			n = -n
		}
		return int(n), true
	}
	return 0, false
}

// LangName is the name of lang in itself ("Deutsch"): the text of
// "lang.<lang>" in lang, else in the fallback language, else the code.
func (c *Catalogue) LangName(lang string) string {
	for _, l := range []string{lang, c.fallback} {
		if s, ok := c.Lookup(l, "lang."+lang); ok {
			return s
		}
	}
	return lang
}

// LangCookie is the name of the cookie that holds the visitor's language.
const LangCookie = "lang"

// Language returns the request's language: the lang cookie when it names
// an offered language, else the best match of Accept-Language, else the
// default (the first of Options.Languages).
func (r *Renderer) Language(req *http.Request) string {
	if c, err := req.Cookie(LangCookie); err == nil && slices.Contains(r.opt.Languages, c.Value) {
		return c.Value
	}
	if l := matchAcceptLanguage(req.Header.Get("Accept-Language"), r.opt.Languages); l != "" {
		return l
	}
	return r.opt.Languages[0]
}

// SetLanguage remembers the visitor's choice for a year. Unknown languages
// are ignored.
func (r *Renderer) SetLanguage(w http.ResponseWriter, req *http.Request, lang string) {
	if !slices.Contains(r.opt.Languages, lang) {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.secure(req)})
}

// matchAcceptLanguage picks the offered language with the highest q in an
// Accept-Language header ("hu-HU,hu;q=0.9,en;q=0.8"); "" when none fits.
func matchAcceptLanguage(header string, offered []string) string {
	best, bestQ := "", 0.0
	for part := range strings.SplitSeq(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if q > bestQ && slices.Contains(offered, base) {
			best, bestQ = base, q
		}
	}
	return best
}

// BaseMessages returns this package's own message files (the layout's
// texts, error pages, language names), which every surface's catalogue
// includes.
func BaseMessages() fs.FS {
	sub, _ := fs.Sub(baseMessages, "messages")
	return sub
}

// BaseTemplates returns the layout and error page templates every
// surface's pages are rendered in.
func BaseTemplates() fs.FS {
	sub, _ := fs.Sub(baseTemplates, "templates")
	return sub
}

// ReadKeys returns the sorted keys that lang's files in fsys define
// (<lang>.json and <lang>.<part>.json; neither need exist); dir names
// fsys in errors. A key defined twice or a malformed file is an error.
func ReadKeys(fsys fs.FS, lang, dir string) ([]string, error) {
	m := map[string]message{}
	if err := readMessages(m, fsys, lang, dir, false); err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(m)), nil
}

// TemplateKeys returns the constant keys of the {{.T "key"}} calls in the
// *.html templates of fsys (parsed, not executed, so a surface's own
// functions need not be known), each with the places that use it
// ("offer.html:12").
func TemplateKeys(fsys fs.FS) (map[string][]string, error) {
	names, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		trees := map[string]*parse.Tree{}
		t := parse.New(name)
		t.Mode = parse.SkipFuncCheck
		if _, err := t.Parse(string(data), "{{", "}}", trees); err != nil {
			return nil, fmt.Errorf("webui: parse %s: %w", name, err)
		}
		for _, tree := range trees {
			walk(tree.Root, func(key string, n parse.Node) {
				loc, _ := tree.ErrorContext(n)
				file, line, _ := strings.Cut(loc, ":")
				line, _, _ = strings.Cut(line, ":")
				where := file + ":" + line
				if !slices.Contains(out[key], where) {
					out[key] = append(out[key], where)
				}
			})
		}
	}
	return out, nil
}
