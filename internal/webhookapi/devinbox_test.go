package webhookapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"esign/internal/notify"
	"esign/internal/notify/inbox"
)

// devInboxServer serves the API on a memory inbox holding three messages
// (SMS to two numbers, an e-mail); with on false GET /dev/inbox is off.
func devInboxServer(t *testing.T, on bool) *httptest.Server {
	t.Helper()
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	sent := 0 // a second between messages
	store := inbox.NewMemoryStore()
	s := inbox.New(store, func() time.Time { sent++; return t0.Add(time.Duration(sent) * time.Second) })
	for _, m := range []notify.SMSMessage{{To: "+36301111111", Text: "code 111111", Key: "a"}, {To: "+36302222222", Text: "code 222222"},
		{To: "+36301111111", Text: "code 333333", Key: "two-factor-x-1"}} {
		if _, err := s.SendSMS(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SendEmail(t.Context(), notify.EmailMessage{To: "a@example.com", Subject: "S", Text: "T"}); err != nil {
		t.Fatal(err)
	}
	cfg := Config{MaxBodyBytes: 1 << 20, AuthFailures: 5, AuthWindow: 10 * time.Minute, Now: func() time.Time { return t0 }}
	if on {
		cfg.DevInbox = &DevInbox{User: user, Password: pass, Store: store}
	}
	srv := httptest.NewServer(New(nil, nil, slog.New(slog.DiscardHandler), cfg))
	t.Cleanup(srv.Close)
	return srv
}

// TestDevInbox: GET /dev/inbox lists the development inbox newest first,
// filtered by channel and recipient, behind its Basic-auth credentials;
// without the setting it does not exist.
func TestDevInbox(t *testing.T) {
	get := func(t *testing.T, srv *httptest.Server, query string, auth func(*http.Request)) (int, InboxList, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+DevInboxPath+query, nil)
		auth(req)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		observed.add(DevInboxPath, res.StatusCode)
		b, _ := io.ReadAll(res.Body)
		var l InboxList
		if res.StatusCode == http.StatusOK {
			if err := json.Unmarshal(b, &l); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
		}
		return res.StatusCode, l, res.Header
	}
	right := func(r *http.Request) { r.SetBasicAuth(user, pass) }
	t.Run("disabled", func(t *testing.T) {
		if code, _, _ := get(t, devInboxServer(t, false), "", right); code != http.StatusNotFound {
			t.Fatalf("status %d", code)
		}
	})
	srv := devInboxServer(t, true)
	tests := []struct {
		name   string
		query  string
		auth   func(*http.Request)
		status int
		texts  []string
	}{
		{"no_credentials", "", func(*http.Request) {}, http.StatusUnauthorized, nil},
		{"wrong_password", "", func(r *http.Request) { r.SetBasicAuth(user, pass+"x") }, http.StatusUnauthorized, nil},
		{"all", "", right, http.StatusOK, []string{"T", "code 333333", "code 222222", "code 111111"}},
		{"sms_to", "?channel=sms&to=%2B36301111111", right, http.StatusOK, []string{"code 333333", "code 111111"}},
		{"limit", "?channel=sms&limit=1", right, http.StatusOK, []string{"code 333333"}},
		{"email", "?channel=email", right, http.StatusOK, []string{"T"}},
		{"nobody", "?to=%2B36309999999", right, http.StatusOK, nil},
		{"bad_channel", "?channel=fax", right, http.StatusBadRequest, nil},
		{"bad_limit", "?limit=101", right, http.StatusBadRequest, nil},
		{"zero_limit", "?limit=0", right, http.StatusBadRequest, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, l, h := get(t, srv, tt.query, tt.auth)
			if code != tt.status {
				t.Fatalf("status %d, want %d", code, tt.status)
			}
			if code != http.StatusOK {
				return
			}
			if h.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", h.Get("Cache-Control"))
			}
			var texts []string
			for _, m := range l.Messages {
				texts = append(texts, m.Text)
			}
			if len(texts) != len(tt.texts) {
				t.Fatalf("texts %q, want %q", texts, tt.texts)
			}
			for i := range texts {
				if texts[i] != tt.texts[i] {
					t.Fatalf("texts %q, want %q", texts, tt.texts)
				}
			}
		})
	}
	_, l, _ := get(t, srv, "?channel=sms&to=%2B36301111111&limit=1", right)
	if m := l.Messages[0]; m.Key != "two-factor-x-1" || m.Channel != "sms" || m.To != "+36301111111" || m.ID == "" || m.CreatedAt.IsZero() {
		t.Errorf("message %+v", m)
	}
}
