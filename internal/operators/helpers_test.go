package operators_test

import (
	"testing"
	"time"

	"esign/internal/notify"
	"esign/internal/totp"
)

func decode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := totp.Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func perHour(n int) notify.Limit { return notify.Limit{N: n, Per: time.Hour} }
