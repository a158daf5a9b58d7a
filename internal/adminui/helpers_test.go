package adminui_test

import (
	"strconv"
	"testing"

	"esign/internal/jobs"

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

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func jobsFilter(states ...string) jobs.JobFilter { return jobs.JobFilter{States: states} }
