// Package locale is what the bank's customization directory holds for
// languages — its layout (messages/ for the web UIs' texts, templates/ for
// the notification templates) — and the translation check behind
// "esign i18n check", which lists per surface and language the texts that
// are missing and those that are defined but never looked up.
package locale

import (
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"esign/internal/adminui"
	"esign/internal/customerui"
	"esign/internal/notify"
	"esign/internal/webui"
)

// The subdirectories of a customization directory.
const (
	MessagesDir  = "messages"
	TemplatesDir = "templates"
)

// Dir is a customization directory ("" for none).
type Dir string

// Messages returns the web UIs' message overrides (Dir/messages); none
// when the directory does not exist.
func (d Dir) Messages() webui.Overrides {
	p := filepath.Join(string(d), MessagesDir)
	if d == "" || !isDir(p) {
		return webui.Overrides{}
	}
	return webui.Overrides{FS: os.DirFS(p), Path: p}
}

// Templates returns the notification template overrides (Dir/templates);
// none when the directory does not exist.
func (d Dir) Templates() notify.Overrides {
	p := filepath.Join(string(d), TemplatesDir)
	if d == "" || !isDir(p) {
		return notify.Overrides{}
	}
	return notify.Overrides{FS: os.DirFS(p), Path: p}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// Surface is one web UI's shipped texts.
type Surface struct {
	Name string
	// Messages are the message directories merged into its catalogue.
	Messages []fs.FS
	// Templates are the template directories whose {{.T "key"}} calls
	// must find their key.
	Templates []fs.FS
}

// Surfaces returns the shipped web UIs.
func Surfaces() []Surface {
	return []Surface{
		{Name: "customer", Messages: []fs.FS{webui.BaseMessages(), customerui.Messages()}, Templates: []fs.FS{webui.BaseTemplates(), customerui.Templates()}},
		{Name: "admin", Messages: []fs.FS{webui.BaseMessages(), adminui.Messages()}, Templates: []fs.FS{webui.BaseTemplates(), adminui.Templates()}},
	}
}

// Shipped are the languages every surface ships.
var Shipped = []string{"hu", "en"}

// Finding is the result for one surface and language.
type Finding struct {
	Surface string // "customer", "admin" or "notifications"
	Lang    string
	Shipped bool // a shipped language (else added by the directory)
	Keys    int  // texts the language defines (shipped and overrides)
	// Missing are the texts the language lacks: for a shipped language
	// the keys its shipped files lack (the check fails), for an added one
	// those shown in English.
	Missing []string
	// Unused are the texts the language's files define that no shipped
	// language has: never looked up (a typo, or a text since removed).
	Unused []string
}

// Report is the whole check.
type Report struct {
	Findings []Finding
}

// Failed reports whether a shipped language lacks a text.
func (r *Report) Failed() bool {
	for _, f := range r.Findings {
		if f.Shipped && len(f.Missing) > 0 {
			return true
		}
	}
	return false
}

// Check compares the languages of every surface, the shipped files and
// those of dir, and the notification templates of dir with the shipped
// ones. A file that cannot be read or parsed is an error.
func Check(surfaces []Surface, dir Dir) (*Report, error) {
	rep := &Report{}
	ov := dir.Messages()
	var added []string
	if ov.FS != nil {
		langs, err := webui.OverrideLanguages(ov.FS)
		if err != nil {
			return nil, fmt.Errorf("locale: %s: %w", ov.Path, err)
		}
		added = langs
	}
	// One directory serves every surface: a key is unused only when no
	// surface knows it.
	refs := make([]map[string]bool, len(surfaces))
	known := map[string]bool{}
	for i, s := range surfaces {
		ref, err := reference(s)
		if err != nil {
			return nil, err
		}
		refs[i] = ref
		maps.Copy(known, ref)
	}
	for i, s := range surfaces {
		fs, err := checkSurface(s, refs[i], known, ov, added)
		if err != nil {
			return nil, err
		}
		rep.Findings = append(rep.Findings, fs...)
	}
	fs, err := checkNotifications(dir.Templates())
	if err != nil {
		return nil, err
	}
	rep.Findings = append(rep.Findings, fs...)
	return rep, nil
}

// reference returns the keys surface s requires of every language: those
// of any shipped language and those its templates use (required even
// when no language has them).
func reference(s Surface) (map[string]bool, error) {
	ref := map[string]bool{}
	for _, lang := range Shipped {
		keys, err := shippedKeys(s, lang)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			ref[k] = true
		}
	}
	for _, t := range s.Templates {
		used, err := webui.TemplateKeys(t)
		if err != nil {
			return nil, fmt.Errorf("locale: %s: %w", s.Name, err)
		}
		for k := range used {
			ref[k] = true
		}
	}
	return ref, nil
}

// shippedKeys returns the keys of lang's shipped files of s.
func shippedKeys(s Surface, lang string) ([]string, error) {
	var out []string
	for _, m := range s.Messages {
		keys, err := webui.ReadKeys(m, lang, s.Name)
		if err != nil {
			return nil, fmt.Errorf("locale: %s: %w", s.Name, err)
		}
		out = append(out, keys...)
	}
	return out, nil
}

// checkSurface compares the languages of s with ref, its required keys;
// known are the keys of every surface.
func checkSurface(s Surface, ref, known map[string]bool, ov webui.Overrides, added []string) ([]Finding, error) {
	shipped := map[string][]string{}
	for _, lang := range Shipped {
		keys, err := shippedKeys(s, lang)
		if err != nil {
			return nil, err
		}
		shipped[lang] = keys
	}
	var out []Finding
	langs := slices.Clone(Shipped)
	for _, l := range added {
		if !slices.Contains(langs, l) {
			langs = append(langs, l)
		}
	}
	for _, lang := range langs {
		f := Finding{Surface: s.Name, Lang: lang, Shipped: slices.Contains(Shipped, lang)}
		have := map[string]bool{}
		for _, k := range shipped[lang] {
			have[k] = true
		}
		if f.Shipped {
			f.Missing = absent(ref, have)
		}
		if ov.FS != nil {
			keys, err := webui.ReadKeys(ov.FS, lang, ov.Path)
			if err != nil {
				return nil, fmt.Errorf("locale: %w", err)
			}
			for _, k := range keys {
				if !ref[k] && !isLangName(k) {
					if !known[k] {
						f.Unused = append(f.Unused, k)
					}
					continue // another surface's text
				}
				have[k] = true
			}
		}
		if !f.Shipped {
			f.Missing = absent(ref, have)
		}
		f.Keys = len(have)
		out = append(out, f)
	}
	return out, nil
}

// isLangName reports whether k names a language ("lang.de"): the
// switcher looks up the name of every offered language.
func isLangName(k string) bool {
	l, ok := strings.CutPrefix(k, "lang.")
	return ok && webui.ValidLang(l)
}

// absent returns the keys of ref that have lacks, sorted.
func absent(ref, have map[string]bool) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(ref)) {
		if !have[k] {
			out = append(out, k)
		}
	}
	return out
}

// checkNotifications lists, for each language the template directory
// overrides or adds, the templates an added language leaves in English
// and the defined templates no message uses. It also builds the renderer
// the way the processes do, so that a broken override fails the check.
func checkNotifications(ov notify.Overrides) ([]Finding, error) {
	if ov.FS == nil {
		return nil, nil
	}
	if _, err := notify.NewCustomRenderer(notify.Branding{BankName: "check", BaseURL: "https://check.invalid"}, nil, ov); err != nil {
		return nil, fmt.Errorf("locale: %w", err)
	}
	langs, err := notify.OverrideLanguages(ov)
	if err != nil {
		return nil, fmt.Errorf("locale: %w", err)
	}
	names := notify.TemplateNames()
	var out []Finding
	for _, lang := range langs {
		defined, err := notify.OverrideDefines(ov, lang)
		if err != nil {
			return nil, fmt.Errorf("locale: %w", err)
		}
		f := Finding{Surface: "notifications", Lang: string(lang), Shipped: slices.Contains(notify.Langs(), lang), Keys: len(defined)}
		for _, n := range names {
			if !f.Shipped && !slices.Contains(defined, n) {
				f.Missing = append(f.Missing, n)
			}
		}
		for _, d := range defined {
			if !slices.Contains(names, d) && !slices.Contains(partials, d) {
				f.Unused = append(f.Unused, d)
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// partials are the shipped templates the messages include.
var partials = []string{"greeting", "signature", "greeting_html", "header", "footer", "code"}

// Write prints the report: one line per surface and language, then the
// missing and unused keys indented below it.
func (r *Report) Write(w io.Writer) error {
	var b strings.Builder
	for _, f := range r.Findings {
		kind := "shipped"
		if !f.Shipped {
			kind = "added"
		}
		fmt.Fprintf(&b, "%s %s (%s): %d defined, %d missing, %d unused\n", f.Surface, f.Lang, kind, f.Keys, len(f.Missing), len(f.Unused))
		for _, k := range f.Missing {
			fmt.Fprintf(&b, "\tmissing %s\n", k)
		}
		for _, k := range f.Unused {
			fmt.Fprintf(&b, "\tunused  %s\n", k)
		}
	}
	if r.Failed() {
		b.WriteString("FAIL: a shipped language lacks texts\n")
	} else {
		b.WriteString("ok\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
