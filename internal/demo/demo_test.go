package demo

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/httpkit"
	"esign/internal/webhookapi"
)

// TestCustomerFor: the demo customer is the same for the same reference
// and webhook password, its password changes with the webhook password,
// and its user name and password pass the customer rules.
func TestCustomerFor(t *testing.T) {
	a, b := CustomerFor("esign-demo", "pw-one-0123456789"), CustomerFor("esign-demo", "pw-one-0123456789")
	if a != b {
		t.Fatalf("%+v != %+v", a, b)
	}
	c := CustomerFor("esign-demo", "pw-two-0123456789")
	if c.Password == a.Password || c.Phone != a.Phone || c.Username != a.Username {
		t.Fatalf("other webhook password: %+v vs %+v", c, a)
	}
	if d := CustomerFor("other", "pw-one-0123456789"); d.Phone == a.Phone || d.Username == a.Username {
		t.Fatalf("other reference: %+v vs %+v", d, a)
	}
	if err := customers.CheckPassword(a.Password); err != nil {
		t.Errorf("password %q: %v", a.Password, err)
	}
	if len(a.Phone) != 12 || !strings.HasPrefix(a.Phone, "+3630") || !strings.Contains(a.Email, "@") {
		t.Errorf("contact %q %q", a.Phone, a.Email)
	}
}

var discard = slog.New(slog.DiscardHandler)

// fakeSystem answers like esign's listeners: /healthz, the inbox API with
// the given status, and every webhook endpoint disabled.
func fakeSystem(t *testing.T, inboxStatus int) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"status":"ok"}`)) })
	mux.HandleFunc("GET "+webhookapi.DevInboxPath, func(w http.ResponseWriter, r *http.Request) {
		if inboxStatus != http.StatusOK {
			httpkit.WriteError(w, r, discard, esign.E("test", map[int]esign.Kind{401: esign.Unauthorized, 404: esign.NotFound}[inboxStatus], "no"))
			return
		}
		httpkit.WriteJSON(w, http.StatusOK, webhookapi.InboxList{})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpkit.WriteError(w, r, discard, esign.E("webhookapi", esign.NotFound, "no such endpoint"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRunChecksBeforeItMakes: what keeps the demo from starting is said at
// once, before anything is made: nothing answering (start esign all), no
// credentials, no inbox API, refused credentials, disabled endpoints.
func TestRunChecksBeforeItMakes(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	tests := []struct {
		name   string
		url    string
		user   string
		is     error
		substr string
	}{
		{"nothing_answers", closed, "demo", nil, "start `esign all` first"},
		{"no_credentials", fakeSystem(t, http.StatusOK), "", ErrNoCredentials, ""},
		{"no_inbox_api", fakeSystem(t, http.StatusNotFound), "demo", nil, "no development inbox API"},
		{"inbox_refuses", fakeSystem(t, http.StatusUnauthorized), "demo", nil, "refuses the demo's credentials"},
		{"endpoint_disabled", fakeSystem(t, http.StatusOK), "demo", nil, "POST /customer/bootstrap is disabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			pw := ""
			if tt.user != "" {
				pw = "0123456789abcdef"
			}
			_, err := Run(t.Context(), Options{WebhookURL: tt.url, MobileURL: tt.url, InboxURL: tt.url + webhookapi.DevInboxPath,
				User: tt.user, Password: pw, OutDir: t.TempDir(), Out: &out})
			switch {
			case err == nil:
				t.Fatal("no error")
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Fatalf("error %v, want %v", err, tt.is)
			case !strings.Contains(err.Error(), tt.substr):
				t.Fatalf("error %q lacks %q", err, tt.substr)
			}
			if tt.name != "endpoint_disabled" && out.Len() > 0 {
				t.Errorf("output before the checks passed: %q", out.String())
			}
		})
	}
}
