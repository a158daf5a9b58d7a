package adminui_test

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"esign/internal/adminui"
	"esign/internal/esign"
	"esign/internal/operators/operatorstest"
	"esign/internal/webui"
)

// TestCustomLanguage: a language the customization directory adds is
// offered to operators and as a customer's language.
func TestCustomLanguage(t *testing.T) {
	e := operatorstest.New(t, "sqlite", nil, newEnvConfig())
	msgs := fstest.MapFS{"de.json": {Data: []byte(`{"lang.de":"Deutsch","customer.locale":"Sprache"}`)}}
	ui, err := adminui.New(e.Ops, slog.New(slog.DiscardHandler), adminui.Config{Version: "test", Messages: webui.Overrides{FS: msgs, Path: "custom/messages"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ui.Handler())
	t.Cleanup(srv.Close)
	env := &env{Env: e, ui: ui, srv: srv}
	c := env.signIn(t, "lang1", esign.RoleOperator)
	c.lang = "de"
	_, body := c.do("GET", "/customers", nil)
	for _, want := range []string{`<option value="de">Deutsch (de)</option>`, `<option value="hu-HU">Magyar (hu-HU)</option>`, `<html lang="de"`, "Sprache"} {
		if !strings.Contains(body, want) {
			t.Errorf("customer list lacks %q", want)
		}
	}
}
