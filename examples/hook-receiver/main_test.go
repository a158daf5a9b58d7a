package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"esign/customize"
	"esign/internal/hooks"
)

// TestReceiverWithRunner: the example receiver accepts esign's signed
// callouts and its answers parse; a callout signed with another key is
// refused (a failure, which fail-open lets through unchanged).
func TestReceiverWithRunner(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	mux := http.NewServeMux()
	mux.Handle("POST /signature-verified", verified(secret, func(data json.RawMessage) any {
		return map[string]any{"pdf_metadata": map[string]string{"BankCaseNumber": "CASE-1"}}
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		key  string
		want string
	}{{string(secret), "CASE-1"}, {"another key, another key, another key", ""}} {
		r := hooks.New(hooks.Config{Secret: []byte(tc.key), Callouts: map[string]hooks.Callout{
			customize.SignatureVerifiedHook: {URL: srv.URL + "/signature-verified"}}}, nil)
		md, err := r.SignatureVerified(t.Context(), customize.SignatureVerified{OfferID: "o"})
		if err != nil || md["BankCaseNumber"] != tc.want {
			t.Errorf("key %q: %v, %v", tc.key, md, err)
		}
	}
}
