package notify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func overrides(name string) Overrides {
	dir := filepath.Join("testdata", "overrides", name)
	return Overrides{FS: os.DirFS(dir), Path: dir}
}

// TestOverrideGolden: the bank's override of one e-mail template (and one
// SMS) is what is sent; what it does not redefine stays as shipped, and
// the other language is untouched.
func TestOverrideGolden(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	r, err := NewCustomRenderer(testBranding(), loc, overrides("good"))
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := NewRenderer(testBranding(), loc)
	if err != nil {
		t.Fatal(err)
	}
	p := Params{CustomerName: "Jane Doe", OfferTitle: "Mortgage & insurance", URL: "s/abc123",
		ExpiresAt: time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)}
	tests := []struct {
		kind Kind
		lang Lang
	}{{OfferAvailable, English}, {OfferAvailable, "de"}, {TwoFactorCode, "de"}}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"_"+string(tt.lang), func(t *testing.T) {
			got, err := r.Render(tt.kind, tt.lang, p)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, s := range []struct{ name, v string }{{"sms", got.SMS}, {"subject", got.Subject}, {"push_title", got.PushTitle}, {"push_body", got.PushBody}, {"text", got.Text}, {"html", got.HTML}} {
				b.WriteString("==== " + s.name + "\n" + s.v + "\n")
			}
			checkGolden(t, filepath.Join("testdata", "golden", "override", string(tt.kind)+"."+string(tt.lang)+".txt"), b.String())
		})
	}
	// Hungarian has no override: it renders as shipped.
	for _, kind := range Kinds() {
		a, err := r.Render(kind, Hungarian, p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := shipped.Render(kind, Hungarian, p)
		if a != b {
			t.Errorf("%s: Hungarian changed by an English override", kind)
		}
	}
	// English kinds the override does not redefine render as shipped.
	a, _ := r.Render(ContractReady, English, p)
	b, _ := shipped.Render(ContractReady, English, p)
	if a != b {
		t.Error("contract_ready changed though not overridden")
	}
	if got := r.Languages(); len(got) != 3 || got[2] != "de" {
		t.Errorf("languages %v, want hu en de", got)
	}
}

// TestOverrideRefused: a broken override stops the renderer at start with
// the file and line at fault.
func TestOverrideRefused(t *testing.T) {
	tests := []struct {
		dir  string
		want []string
	}{
		{"parse", []string{filepath.Join("testdata", "overrides", "parse", "text.en.tmpl"), "text.en.tmpl:3:"}},
		{"field", []string{"text.hu.tmpl:2:", "Customer"}},
		{"name", []string{filepath.Join("testdata", "overrides", "name", "sms.en.tmpl")}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			_, err := NewCustomRenderer(testBranding(), nil, overrides(tt.dir))
			if err == nil {
				t.Fatal("broken override accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from golden file; run with -update and review the diff\ngot:\n%s", golden, got)
	}
}
