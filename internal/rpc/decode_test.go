package rpc

import (
	"encoding/json"
	"testing"

	"esign/internal/esign"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name, body, code string
	}{
		{"ok", `{"token":"t","id":"x"}`, ""},
		{"null_is_empty", `null`, ""},
		{"empty_is_empty", ``, ""},
		{"unknown_field", `{"id":"x","customerId":"y"}`, "unknown_field"},
		{"wrong_type", `{"id":5}`, "wrong_type"},
		{"not_object", `[1]`, "wrong_type"},
		{"malformed", `{"id":`, "malformed_json"},
		{"two_values", `{"id":"x"}{"id":"y"}`, "malformed_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r IDRequest
			err := decode(json.RawMessage(tt.body), &r)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				return
			}
			if esign.ErrorKind(err) != esign.Invalid || esign.ErrorCode(err) != tt.code {
				t.Fatalf("got %v, want Invalid %s", err, tt.code)
			}
		})
	}
}

// FuzzDecode: whatever css sends, decoding fails only with Invalid and
// never panics.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"token":"t","id":"x"}`, `{"digest":"AAAA","dataSize":1}`, `null`, `{"id":`, `[]`, `{"limit":1e99}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, v := range []any{&IDRequest{}, &TimestampRequest{}, &ListRequest{}, &RegisterRequest{}} {
			if err := decode(body, v); err != nil && esign.ErrorKind(err) != esign.Invalid {
				t.Fatalf("decode(%q): %v is not Invalid", body, err)
			}
		}
	})
}
