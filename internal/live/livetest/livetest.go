// Package livetest is a client of server-sent event streams for tests: it
// opens a stream as a browser's EventSource would and reads its events.
package livetest

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"esign/internal/live"
)

// Timeout bounds a stream of a test: one that never brings what the test
// waits for fails it instead of hanging it.
const Timeout = 5 * time.Minute

// Stream is an open event stream.
type Stream struct {
	Resp *http.Response
	sc   *bufio.Scanner
}

// Open requests the stream at url with the Origin (when not empty), the
// Last-Event-ID (when not empty) and the cookies, as a page would; the
// stream closes when the test ends. c nil means http.DefaultClient.
func Open(tb testing.TB, c *http.Client, url, origin, lastID string, cookies ...*http.Cookie) *Stream {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	tb.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { resp.Body.Close() })
	return &Stream{Resp: resp, sc: bufio.NewScanner(resp.Body)}
}

// Next returns the next event (comments and the retry line skipped), or
// ok false once the stream ended. It may be called from any goroutine.
func (s *Stream) Next() (ev live.Event, ok bool) {
	var data []string
	started := false
	for s.sc.Scan() {
		l := s.sc.Text()
		switch {
		case l == "":
			if started {
				ev.Data = []byte(strings.Join(data, "\n"))
				return ev, true
			}
		case strings.HasPrefix(l, "id: "):
			ev.ID, started = l[4:], true
		case strings.HasPrefix(l, "event: "):
			ev.Type, started = l[7:], true
		case strings.HasPrefix(l, "data: "):
			data, started = append(data, l[6:]), true
		}
	}
	return ev, false
}

// MustNext is Next that fails the test when the stream ended.
func (s *Stream) MustNext(tb testing.TB) live.Event {
	tb.Helper()
	ev, ok := s.Next()
	if !ok {
		tb.Fatalf("the stream ended: %v", s.sc.Err())
	}
	return ev
}
