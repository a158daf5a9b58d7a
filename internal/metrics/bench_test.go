package metrics

import (
	"io"
	"testing"
)

func BenchmarkRequestMetrics(b *testing.B) {
	r := NewRegistry()
	c := r.Counter("esign_http_requests_total", "h", "listener", "method", "code")
	h := r.Histogram("esign_http_request_duration_seconds", "h", DefaultBuckets, "listener")
	g := r.Gauge("esign_http_requests_in_flight", "h", "listener")
	b.ReportAllocs()
	for b.Loop() {
		g.Add(1, "mobile")
		c.Inc("mobile", "GET", "200")
		h.Observe(0.0042, "mobile")
		g.Add(-1, "mobile")
	}
}

func BenchmarkScrape(b *testing.B) {
	r := NewRegistry()
	c := r.Counter("esign_http_requests_total", "h", "listener", "method", "code")
	h := r.Histogram("esign_http_request_duration_seconds", "h", DefaultBuckets, "listener")
	for _, l := range []string{"mobile", "admin", "webhook", "realtime", "ops"} {
		c.Inc(l, "GET", "200")
		h.Observe(0.01, l)
	}
	b.ReportAllocs()
	for b.Loop() {
		r.WriteText(io.Discard)
	}
}
