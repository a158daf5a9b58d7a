// Package esigntest holds helpers shared by the tests of many packages:
// access to the external test servers, builders and a fixed clock.
package esigntest

import (
	"os"
	"testing"
)

// The environment variables that name the external servers the tests may use.
const (
	PostgresURLEnv = "ESIGN_TEST_POSTGRES_URL" // e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable
	AMQPURLEnv     = "ESIGN_TEST_AMQP_URL"     // e.g. amqp://guest:guest@127.0.0.1:5672/
	RedisURLEnv    = "ESIGN_TEST_REDIS_URL"    // e.g. redis://127.0.0.1:6379/0
	RequireEnv     = "ESIGN_TEST_REQUIRE"      // "1": a missing server fails the test instead of skipping it
)

// ServerURL returns the value of the environment variable name. When it is
// unset the test is skipped with a reason that names the variable, unless
// ESIGN_TEST_REQUIRE=1 (as in CI), where it fails instead, so that CI can
// never pass by skipping.
func ServerURL(tb testing.TB, name string) string {
	tb.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if os.Getenv(RequireEnv) == "1" {
		tb.Fatalf("%s is not set but %s=1: this test needs the server", name, RequireEnv)
	}
	tb.Skipf("%s is not set: skipping the test against the real server", name)
	return ""
}

// Tool returns the path of an external program the test needs (openssl,
// qpdf, pdfsig, …). When it is missing the test is skipped, or fails under
// ESIGN_TEST_REQUIRE=1.
func Tool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := lookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv(RequireEnv) == "1" {
		tb.Fatalf("%s not found on PATH but %s=1: install it (see .ci/run)", name, RequireEnv)
	}
	tb.Skipf("%s not found on PATH: skipping", name)
	return ""
}
