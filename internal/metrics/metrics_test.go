package metrics

import (
	"strings"
	"sync"
	"testing"
)

func TestWriteText(t *testing.T) {
	r := NewRegistry()
	c := r.Counter("esign_test_requests_total", "Requests.", "code")
	c.Inc("200")
	c.Add(2, "200")
	c.Inc("500")
	g := r.Gauge("esign_test_inflight", "In flight.")
	g.Set(3)
	g.Add(-1)
	h := r.Histogram("esign_test_seconds", "Latency.", []float64{0.1, 1})
	h.Observe(0.05)
	h.Observe(0.5)
	h.Observe(5)

	var b strings.Builder
	r.WriteText(&b)
	out := b.String()
	for _, want := range []string{
		"# TYPE esign_test_requests_total counter\n",
		`esign_test_requests_total{code="200"} 3` + "\n",
		`esign_test_requests_total{code="500"} 1` + "\n",
		"esign_test_inflight 2\n",
		`esign_test_seconds_bucket{le="0.1"} 1` + "\n",
		`esign_test_seconds_bucket{le="1"} 2` + "\n",
		`esign_test_seconds_bucket{le="+Inf"} 3` + "\n",
		"esign_test_seconds_sum 5.55\n",
		"esign_test_seconds_count 3\n",
		"go_goroutines ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestConcurrentCounter(t *testing.T) {
	r := NewRegistry()
	c := r.Counter("n_total", "N.", "k")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				c.Inc("a")
			}
		})
	}
	wg.Wait()
	if got := c.Value("a"); got != 8000 {
		t.Errorf("counter = %v, want 8000", got)
	}
}

func TestSameNameReturnsSameFamily(t *testing.T) {
	r := NewRegistry()
	a := r.Counter("x_total", "X.")
	b := r.Counter("x_total", "X.")
	a.Inc()
	if b.Value() != 1 {
		t.Error("second registration returned a different family")
	}
}
