package webui

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Catalogue holds the texts of every language: flat maps from a message
// key ("offers.title") to the text, which may hold fmt verbs.
type Catalogue struct {
	langs []string
	msgs  map[string]map[string]string
}

// loadCatalogue reads <lang>.json and any <lang>.<part>.json (one file per
// area of a UI, e.g. en.offers.json) from each fsys (nil ones are skipped)
// and checks that every language has the same keys and that no key is
// defined twice.
func loadCatalogue(langs []string, fsyss ...fs.FS) (*Catalogue, error) {
	c := &Catalogue{langs: langs, msgs: map[string]map[string]string{}}
	for _, lang := range langs {
		m := map[string]string{}
		for _, fsys := range fsyss {
			if fsys == nil {
				continue
			}
			parts, err := fs.Glob(fsys, lang+".*.json")
			if err != nil {
				return nil, fmt.Errorf("webui: messages for %q: %w", lang, err)
			}
			for _, name := range append([]string{lang + ".json"}, parts...) {
				data, err := fs.ReadFile(fsys, name)
				if err != nil {
					return nil, fmt.Errorf("webui: messages for %q: %w", lang, err)
				}
				var part map[string]string
				if err := json.Unmarshal(data, &part); err != nil {
					return nil, fmt.Errorf("webui: messages %s: %w", name, err)
				}
				for k, v := range part {
					if _, dup := m[k]; dup {
						return nil, fmt.Errorf("webui: message %q defined twice for %q (%s)", k, lang, name)
					}
					m[k] = v
				}
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
	return c, nil
}

func diff(a, b map[string]string) string {
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

// Has reports whether key exists (in every language: New checks that the
// languages agree).
func (c *Catalogue) Has(key string) bool {
	_, ok := c.msgs[c.langs[0]][key]
	return ok
}

// Keys returns the sorted keys.
func (c *Catalogue) Keys() []string { return slices.Sorted(maps.Keys(c.msgs[c.langs[0]])) }

// T returns key's text in lang with args formatted in; an unknown key
// comes back as itself, so that a missing text is visible, not silent.
func (c *Catalogue) T(lang, key string, args ...any) string {
	m := c.msgs[lang]
	if m == nil {
		m = c.msgs[c.langs[0]]
	}
	s, ok := m[key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
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
