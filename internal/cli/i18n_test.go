package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestI18nCheck: esign i18n check is green for the shipped languages,
// reports an added language's gaps without failing, and refuses a broken
// file of the directory with exit 2 naming the setting and the file; a
// process refuses to start with it the same way.
func TestI18nCheck(t *testing.T) {
	code, out, errOut := run(t, t.Context(), nil, nil, "i18n", "check")
	if code != 0 || !strings.HasSuffix(out, "ok\n") || !strings.Contains(out, "customer hu (shipped)") {
		t.Fatalf("shipped: exit %d\n%s%s", code, out, errOut)
	}
	dir := t.TempDir()
	write := func(name, data string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("messages/de.json", `{"lang.de":"Deutsch","signin.title":"Anmelden"}`)
	code, out, errOut = run(t, t.Context(), []string{"ESIGN_CUSTOMIZE_DIR=" + dir}, nil, "i18n", "check")
	if code != 0 || !strings.Contains(out, "customer de (added): 2 defined") {
		t.Fatalf("German added: exit %d\n%s%s", code, out, errOut)
	}
	write("templates/text.en.tmpl", "{{define \"offer_available.sms\"}}\n{{.Brand.Nope}}{{end}}\n")
	for _, args := range [][]string{{"i18n", "check"}, {"cron"}} {
		code, _, errOut = run(t, t.Context(), []string{"ESIGN_CUSTOMIZE_DIR=" + dir, "ESIGN_DATA_DIR=" + t.TempDir()}, nil, args...)
		if code != 2 || !strings.Contains(errOut, "customize.dir") || !strings.Contains(errOut, "text.en.tmpl:2") {
			t.Errorf("%v with a broken template: exit %d, %s", args, code, errOut)
		}
	}
	if code, _, _ := run(t, t.Context(), nil, nil, "i18n"); code != 2 {
		t.Errorf("i18n without check: exit %d, want 2", code)
	}
}
