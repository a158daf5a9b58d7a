package smsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/esign"
	"esign/internal/notify"
)

const testToken = "test-token-123"

// fakeSmsAPI answers like SmsApi.com's /sms.do: bearer token, form
// parameters, idx de-duplication with check_idx=1, and the error codes
// selected by the destination number.
type fakeSmsAPI struct {
	mu   sync.Mutex
	seen map[string]bool // idx values accepted
	sent []map[string]string
	next int
}

func (f *fakeSmsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost || r.URL.Path != "/sms.do" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"Authorization failed","error":"authorization_failed","errors":null}`)
		return
	}
	if err := r.ParseForm(); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	to := r.PostForm.Get("to")
	switch to {
	case "36300000013":
		fmt.Fprint(w, `{"error":13,"message":"No correct phone numbers"}`)
		return
	case "36300000103":
		fmt.Fprint(w, `{"error":103,"message":"Insufficient credits on Your account"}`)
		return
	case "36300000203":
		fmt.Fprint(w, `{"error":203,"message":"Too many requests. Please try again later"}`)
		return
	case "36300000429":
		w.WriteHeader(http.StatusTooManyRequests)
		return
	case "36300000500":
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, `<html>bad gateway</html>`)
		return
	case "36300000201":
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"error":201,"message":"System internal error"}`)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	idx := r.PostForm.Get("idx")
	if idx != "" && r.PostForm.Get("check_idx") == "1" {
		if f.seen[idx] {
			fmt.Fprint(w, `{"error":53,"message":"Not unique idx parameter"}`)
			return
		}
		f.seen[idx] = true
	}
	m := map[string]string{}
	for k := range r.PostForm {
		m[k] = r.PostForm.Get(k)
	}
	f.sent = append(f.sent, m)
	f.next++
	json.NewEncoder(w).Encode(map[string]any{
		"count": 1,
		"list": []map[string]any{{
			"id": fmt.Sprintf("17000000000%d", f.next), "points": 0.16, "number": to,
			"date_sent": time.Now().Unix(), "submitted_number": to, "status": "QUEUE", "error": nil, "idx": idx,
		}},
	})
}

func newTestClient(t *testing.T, token string) (*Client, *fakeSmsAPI) {
	t.Helper()
	f := &fakeSmsAPI{seen: map[string]bool{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := New(Config{Endpoint: srv.URL + "/sms.do", Token: token, From: "PeldaBank", HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

func TestSendSMS(t *testing.T) {
	ctx := context.Background()
	c, f := newTestClient(t, testToken)
	rc, err := c.SendSMS(ctx, notify.SMSMessage{To: "+36 30 123 4567", Text: "Aláírási kód: 123456", Key: "job-42"})
	if err != nil {
		t.Fatal(err)
	}
	if rc.Provider != "smsapi" || rc.ID != "170000000001" {
		t.Errorf("receipt = %+v", rc)
	}
	got := f.sent[0]
	for k, want := range map[string]string{"to": "36301234567", "message": "Aláírási kód: 123456", "from": "PeldaBank", "format": "json", "encoding": "utf-8", "idx": "job-42", "check_idx": "1"} {
		if got[k] != want {
			t.Errorf("form %s = %q, want %q", k, got[k], want)
		}
	}
	// A retry with the same key is refused by the provider (code 53) and reported as success.
	rc, err = c.SendSMS(ctx, notify.SMSMessage{To: "+36301234567", Text: "Aláírási kód: 123456", Key: "job-42"})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if rc.ID != "idx:job-42" || len(f.sent) != 1 {
		t.Errorf("retry receipt %+v, %d sent", rc, len(f.sent))
	}
}

func TestSendSMSErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		token     string
		to        string
		kind      esign.Kind
		code      string
		permanent bool
	}{
		{"invalid_number", testToken, "+36300000013", esign.Invalid, "smsapi_13", true},
		{"no_credits", testToken, "+36300000103", esign.Forbidden, "smsapi_103", true},
		{"bad_token", "wrong", "+36301234567", esign.Unauthorized, "smsapi_authorization_failed", true},
		{"throttled", testToken, "+36300000203", esign.TooMany, "smsapi_203", false},
		{"http_429", testToken, "+36300000429", esign.TooMany, "smsapi_http_429", false},
		{"http_502", testToken, "+36300000500", esign.Unavailable, "smsapi_http_502", false},
		{"internal_201", testToken, "+36300000201", esign.Unavailable, "smsapi_201", false},
		{"malformed_number", testToken, "+36-30-abc", esign.Invalid, "invalid_number", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newTestClient(t, tt.token)
			_, err := c.SendSMS(ctx, notify.SMSMessage{To: tt.to, Text: "hello"})
			if err == nil {
				t.Fatal("no error")
			}
			if k := esign.ErrorKind(err); k != tt.kind {
				t.Errorf("kind = %v, want %v (%v)", k, tt.kind, err)
			}
			if c := esign.ErrorCode(err); c != tt.code {
				t.Errorf("code = %q, want %q", c, tt.code)
			}
			if p := notify.Permanent(err); p != tt.permanent {
				t.Errorf("Permanent = %v, want %v", p, tt.permanent)
			}
			if len(f.sent) != 0 {
				t.Errorf("message recorded as sent")
			}
		})
	}
}

func TestSendSMSUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(Config{Endpoint: url + "/sms.do", Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SendSMS(context.Background(), notify.SMSMessage{To: "+36301234567", Text: "x"})
	if esign.ErrorKind(err) != esign.Unavailable || notify.Permanent(err) {
		t.Errorf("err = %v, want temporary unavailable", err)
	}
}

func TestNewValidates(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no_token":     {},
		"bad_endpoint": {Token: "x", Endpoint: "ftp://example"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(cfg); esign.ErrorKind(err) != esign.Invalid {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestIdx(t *testing.T) {
	if got := Idx("job-1"); got != "job-1" {
		t.Errorf("Idx(job-1) = %q", got)
	}
	long := Idx(strings.Repeat("x", 100))
	if len(long) != 32 || long == Idx(strings.Repeat("y", 100)) {
		t.Errorf("Idx(long) = %q", long)
	}
}

func FuzzParseAnswer(f *testing.F) {
	f.Add(200, []byte(`{"count":1,"list":[{"id":"1","status":"QUEUE"}]}`))
	f.Add(200, []byte(`{"error":13,"message":"x"}`))
	f.Add(401, []byte(`{"error":"authorization_failed"}`))
	f.Add(502, []byte(`<html>`))
	f.Add(200, []byte(`{"error":[1]}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		rc, err := parseAnswer("fuzz", status, body, "k")
		if err == nil && rc.ID == "" {
			t.Errorf("success without id: %q", body)
		}
	})
}
