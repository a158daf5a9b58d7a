package esigntest

import (
	"os"
	"sync"
	"testing"
	"time"
)

// EpochEnv names the environment variable that moves the instant every
// test clock starts at (RFC 3339, e.g. 2025-12-04T09:00:00Z). CI runs the
// suite a second time with it a year before the real date, which is what
// the suite sees on a machine whose clock is a year ahead: a test that
// creates data on a test clock and checks it against the real clock (or a
// server's) then fails at once instead of on some future day.
const EpochEnv = "ESIGN_TEST_EPOCH"

// DefaultEpoch is where test clocks start when ESIGN_TEST_EPOCH is unset.
var DefaultEpoch = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// Epoch returns the instant the test clocks start at: $ESIGN_TEST_EPOCH,
// or DefaultEpoch. A value that does not parse fails the test.
func Epoch(tb testing.TB) time.Time {
	tb.Helper()
	v := os.Getenv(EpochEnv)
	if v == "" {
		return DefaultEpoch
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		tb.Fatalf("%s=%q: want an RFC 3339 time such as 2025-12-04T09:00:00Z: %v", EpochEnv, v, err)
	}
	return t.UTC()
}

// Clock is a settable clock, safe for concurrent use. Inject its Now into
// everything a test builds that compares dates.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at Epoch.
func NewClock(tb testing.TB) *Clock {
	tb.Helper()
	return &Clock{t: Epoch(tb)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
