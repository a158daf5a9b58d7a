package customerui

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"esign/internal/bus/inproc"
	"esign/internal/webui"
)

// customMessages is the messages folder of the test's customization
// directory: German added, one English text changed.
func customMessages() webui.Overrides {
	dir := filepath.Join("testdata", "custom", "messages")
	return webui.Overrides{FS: os.DirFS(dir), Path: dir}
}

// syncBuffer is a log sink safe for the handlers' goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCustomLanguages: with the override directory the sign-in page comes
// in German (chosen by Accept-Language or by the switcher, remembered in
// the cookie), the changed English text replaces the shipped one,
// Hungarian is untouched, and a text German lacks is shown in English and
// logged once, never as its key.
func TestCustomLanguages(t *testing.T) {
	var logs syncBuffer
	u, err := New(&fakeAPI{}, slog.New(slog.NewTextHandler(&logs, nil)), Config{Messages: customMessages()})
	if err != nil {
		t.Fatal(err)
	}
	h := u.Handler()
	tests := []struct {
		name    string
		hdr     map[string]string
		want    []string
		notWant []string
	}{
		{"german by accept-language", map[string]string{"Accept-Language": "de-AT,de;q=0.9,en;q=0.5"},
			[]string{`<html lang="de"`, "Anmelden, um Ihre Dokumente zu unterschreiben", "Benutzername", ">Deutsch</button>",
				"Verify a signed PDF"}, // not translated: English
			[]string{"verify.public", "signin.title"}},
		{"german by cookie", map[string]string{"Accept-Language": "hu", "Cookie": webui.LangCookie + "=de"},
			[]string{"Anmelden, um Ihre Dokumente zu unterschreiben"}, nil},
		{"english changed", map[string]string{"Accept-Language": "en"},
			[]string{"Sign in to Example Bank&#39;s e-signing", "Username", ">Deutsch</button>"}, []string{"Sign in to sign your documents"}},
		{"hungarian as shipped", map[string]string{"Accept-Language": "hu"},
			[]string{`<html lang="hu"`, "Felhasználónév"}, []string{"Benutzername"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(h, "GET", "/signin", nil, tt.hdr)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d", w.Code)
			}
			body := w.Body.String()
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(body, s) {
					t.Errorf("page shows %q", s)
				}
			}
		})
	}
	if n := strings.Count(logs.String(), "key=verify.public"); n != 1 {
		t.Errorf("missing German text logged %d times, want once:\n%s", n, logs.String())
	}

	// The switcher offers German and remembers the choice.
	body, hdr := form(url.Values{"lang": {"de"}, "return": {"/signin"}})
	w := do(h, "POST", "/language", body, hdr)
	if c := w.Result().Cookies(); w.Code != http.StatusSeeOther || len(c) != 1 || c[0].Value != "de" {
		t.Fatalf("language switch: %d %v", w.Code, c)
	}
	// German plural forms.
	cat := u.ui.Catalogue()
	for n, want := range map[int]string{1: "Noch 1 Versuch.", 3: "Noch 3 Versuche."} {
		if got := cat.T("de", "sign.attempts_left", n); got != want {
			t.Errorf("attempts_left(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestCustomLanguageHome: the signed-in start page, from the real
// services over the bus, in German.
func TestCustomLanguageHome(t *testing.T) {
	ib := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { ib.Close() })
	env := newRPCEnvConfig(t, ib, ib, nil, Config{Messages: customMessages()})
	c, cookie := env.signIn(t, "Dora")
	doc := env.e.Document(t, c.ID, "a.pdf", nil)
	env.e.Offer(t, c.ID, "Kreditvertrag", doc.ID)
	w := do(env.h, "GET", "/", nil, map[string]string{"Accept-Language": "de", "Cookie": cookie.String()})
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	for _, s := range []string{"Ihre Dokumente", "Guten Tag, Dora", "Angebote, die auf Sie warten", "Kreditvertrag", "Abmelden"} {
		if !strings.Contains(w.Body.String(), s) {
			t.Errorf("start page lacks %q", s)
		}
	}
}
