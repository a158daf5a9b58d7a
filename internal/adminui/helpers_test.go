package adminui_test

import (
	"testing"

	"esign/internal/totp"
)

func decodeSecret(t *testing.T, s string) []byte {
	t.Helper()
	b, err := totp.Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
