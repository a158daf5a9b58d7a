package locale

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/webui"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestShippedComplete: the shipped languages of both UIs have every text
// their templates use and each other's texts (esign i18n check is green).
func TestShippedComplete(t *testing.T) {
	rep, err := Check(Surfaces(), "")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() {
		var b bytes.Buffer
		rep.Write(&b)
		t.Fatalf("a shipped language lacks texts:\n%s", b.String())
	}
	if len(rep.Findings) != 4 {
		t.Errorf("%d findings, want customer and admin × hu and en", len(rep.Findings))
	}
}

func testSurface() Surface {
	sub := func(dir string) fs.FS { return os.DirFS(filepath.Join("testdata", "surface", dir)) }
	return Surface{Name: "test", Messages: []fs.FS{sub("messages")}, Templates: []fs.FS{sub("templates")}}
}

// TestCheckGolden: the check of a customization directory with German
// added, English changed and template overrides, over a surface whose
// Hungarian lacks a text and whose template uses a key no language has.
func TestCheckGolden(t *testing.T) {
	rep, err := Check([]Surface{testSurface()}, Dir(filepath.Join("testdata", "custom")))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Failed() {
		t.Error("the shipped gaps passed the check")
	}
	// An added language's gaps alone do not fail it.
	rep2, err := Check(Surfaces(), Dir(filepath.Join("testdata", "custom")))
	if err != nil || rep2.Failed() {
		t.Errorf("the shipped UIs with German added: failed %v, %v", rep2 != nil && rep2.Failed(), err)
	}
	var b bytes.Buffer
	if err := rep.Write(&b); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join("testdata", "check.golden"), b.String())
}

// TestTemplateKeyMissing: a template that uses a key a shipped language
// lacks fails the check, as does a key only one shipped language has.
func TestTemplateKeyMissing(t *testing.T) {
	rep, err := Check([]Surface{testSurface()}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Failed() {
		t.Fatal("missing keys passed the check")
	}
	want := map[string]string{"hu": "page.nowhere page.only_en", "en": "page.nowhere"}
	for _, f := range rep.Findings {
		if got := strings.Join(f.Missing, " "); got != want[f.Lang] {
			t.Errorf("%s missing %q, want %q", f.Lang, got, want[f.Lang])
		}
	}
}

// TestShippedTemplatesScanned: the static scan finds the keys of real
// templates with their places, so that a template's new key is checked.
func TestShippedTemplatesScanned(t *testing.T) {
	s := Surfaces()[0]
	found := 0
	for _, tf := range s.Templates {
		keys, err := webui.TemplateKeys(tf)
		if err != nil {
			t.Fatal(err)
		}
		if where := keys["signin.title"]; len(where) > 0 && !strings.HasPrefix(where[0], "signin.html:") {
			t.Errorf("signin.title found at %v", where)
		}
		found += len(keys)
	}
	if found < 100 {
		t.Errorf("only %d keys found in the customer UI's templates", found)
	}
}

func TestCheckRefusesBrokenFiles(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"message json", map[string]string{"messages/de.json": `{"a":`}, "de.json"},
		{"message name", map[string]string{"messages/deutsch.json": `{}`}, "deutsch.json"},
		{"template parse", map[string]string{"templates/text.en.tmpl": "{{define \"offer_available.sms\"}}\n{{if}}{{end}}"}, "text.en.tmpl:2"},
		{"template field", map[string]string{"templates/text.hu.tmpl": `{{define "offer_available.sms"}}{{.Nope}}{{end}}`}, "text.hu.tmpl:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tt.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Check(Surfaces(), Dir(dir))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %v, want one naming %s in %s", err, tt.want, dir)
			}
		})
	}
}

func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs; run go test ./internal/locale -update and review the diff\ngot:\n%s", golden, got)
	}
}
