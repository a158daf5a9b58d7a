package webui

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func overrideFS() fstest.MapFS {
	return fstest.MapFS{
		// German lacks t.nav: it falls back to English.
		"de.json":    {Data: []byte(`{"lang.de":"Deutsch","t.hello":"Hallo %s","t.title":"Startseite","t.done":"Gespeichert"}`)},
		"en.x.json":  {Data: []byte(`{"t.title":"Welcome home"}`)},
		"README.txt": {Data: []byte("not a message file")},
	}
}

// TestOverrides: an override replaces one English text and adds German,
// which the language negotiation offers; a text German lacks is shown in
// English and logged once, never as its key.
func TestOverrides(t *testing.T) {
	tmpl, msgs, static := testFS()
	var logs bytes.Buffer
	r, err := New(Options{Templates: tmpl, Messages: msgs, Static: static,
		Overrides: Overrides{FS: overrideFS(), Path: "/etc/esign/custom/messages"},
		Log:       slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h := r.Protect(r.Handle(func(w http.ResponseWriter, req *http.Request) error {
		return r.Render(w, req, http.StatusOK, "home.html", Page{Title: "t.title", Data: "Anna"})
	}))
	get := func(accept, cookie string) string {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Accept-Language", accept)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: LangCookie, Value: cookie})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	tests := []struct {
		name, accept, cookie string
		want, notWant        []string
	}{
		{"german by header", "de-DE,de;q=0.9,en;q=0.5", "", []string{`<html lang="de"`, "Hallo Anna", "Startseite", "<nav>Menu</nav>", ">Deutsch</button>"}, []string{"t.nav"}},
		{"german by choice", "hu", "de", []string{"Hallo Anna"}, nil},
		{"english overridden", "en", "", []string{"Welcome home", "Hello Anna"}, []string{"<title>Home"}},
		{"hungarian untouched", "hu", "", []string{"Kezdőlap", "Szia Anna"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := get(tt.accept, tt.cookie)
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
		})
	}
	get("de", "")
	if n := strings.Count(logs.String(), "key=t.nav"); n != 1 {
		t.Errorf("missing German text logged %d times, want once:\n%s", n, logs.String())
	}
	if got := r.Catalogue().Languages(); strings.Join(got, " ") != "hu en de" {
		t.Errorf("languages %v", got)
	}
}

func TestOverridesRefused(t *testing.T) {
	tmpl, msgs, static := testFS()
	tests := []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"bad name", fstest.MapFS{"German.json": {Data: []byte(`{}`)}}, "custom/German.json"},
		{"bad json", fstest.MapFS{"de.json": {Data: []byte(`{"a":`)}}, "custom/de.json"},
		{"twice", fstest.MapFS{"de.json": {Data: []byte(`{"a":"x"}`)}, "de.b.json": {Data: []byte(`{"a":"y"}`)}}, `"a" defined twice`},
		{"bad plural", fstest.MapFS{"de.json": {Data: []byte(`{"a":{"one":"x","several":"y","other":"z"}}`)}}, `"several" is not a plural form`},
		{"no other", fstest.MapFS{"de.json": {Data: []byte(`{"a":{"one":"x"}}`)}}, `without "other"`},
		{"verb dropped", fstest.MapFS{"de.json": {Data: []byte(`{"t.hello":"Hallo"}`)}}, `de "t.hello": "Hallo" has the placeholders [], the shipped text [s]`},
		{"verb changed", fstest.MapFS{"en.json": {Data: []byte(`{"t.hello":"Hi %d"}`)}}, `"t.hello"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Options{Templates: tmpl, Messages: msgs, Static: static, Overrides: Overrides{FS: tt.fs, Path: "custom"}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one naming %q", err, tt.want)
			}
		})
	}
}

// TestPlural: each language's CLDR rules pick the form.
func TestPlural(t *testing.T) {
	shipped := fstest.MapFS{
		"en.json": {Data: []byte(`{"docs":{"one":"%d document","other":"%d documents"},"left":{"one":"%d attempt left","other":"%d attempts left"}}`)},
		"hu.json": {Data: []byte(`{"docs":{"one":"%d dokumentum","other":"%d dokumentum"},"left":"még %d próbálkozás"}`)},
	}
	ov := fstest.MapFS{
		"pl.json": {Data: []byte(`{"docs":{"one":"%d dokument","few":"%d dokumenty","many":"%d dokumentów","other":"%d dokumentu"}}`)},
	}
	c, err := loadCatalogue(nil, []string{"hu", "en"}, Overrides{FS: ov}, shipped)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang, key string
		n         any
		want      string
	}{
		{"en", "docs", 1, "1 document"},
		{"en", "docs", 0, "0 documents"},
		{"en", "docs", int64(2), "2 documents"},
		{"en", "left", 1, "1 attempt left"},
		{"hu", "docs", 3, "3 dokumentum"},
		{"hu", "left", 1, "még 1 próbálkozás"},
		{"pl", "docs", 1, "1 dokument"},
		{"pl", "docs", 3, "3 dokumenty"},
		{"pl", "docs", 5, "5 dokumentów"},
		{"pl", "docs", 22, "22 dokumenty"},
		{"pl", "left", 2, "2 attempts left"}, // missing in Polish: English, with English rules
	}
	for _, tt := range tests {
		if got := c.T(tt.lang, tt.key, tt.n); got != tt.want {
			t.Errorf("T(%s, %s, %v) = %q, want %q", tt.lang, tt.key, tt.n, got, tt.want)
		}
	}
}

func TestForms(t *testing.T) {
	shipped := fstest.MapFS{
		"en.json": {Data: []byte(`{"n":{"one":"%d page","other":"%d pages"},"s":"x"}`)},
		"hu.json": {Data: []byte(`{"n":{"one":"%d oldal","other":"%d oldal"},"s":"y"}`)},
	}
	c, err := loadCatalogue(nil, []string{"hu", "en"}, Overrides{FS: fstest.MapFS{"de.json": {Data: []byte(`{}`)}}}, shipped)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Forms("en", "n"); got["one"] != "%d page" || got["other"] != "%d pages" || len(got) != 2 {
		t.Errorf("en forms %v", got)
	}
	if got := c.Forms("de", "n"); got["one"] != "%d page" {
		t.Errorf("de forms %v, want the English ones", got)
	}
	if got := c.Forms("hu", "s"); got["other"] != "y" || len(got) != 1 {
		t.Errorf("plain text forms %v", got)
	}
}
