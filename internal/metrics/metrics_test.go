package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
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
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
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

// TestRuntimeNamesInGolden checks that the runtime and process metrics of
// every registry are in the golden list of served names (which the test
// of the processes, in internal/cli, keeps complete), so that a new
// client_golang release that renames one fails here first.
func TestRuntimeNamesInGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/names.golden")
	if err != nil {
		t.Fatal(err)
	}
	golden := strings.Fields(string(data))
	if !slices.IsSorted(golden) || len(slices.Compact(slices.Clone(golden))) != len(golden) {
		t.Error("testdata/names.golden is not sorted and unique")
	}
	r := NewRegistry()
	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if !slices.Contains(golden, mf.GetName()) {
			t.Errorf("%s is served but not in testdata/names.golden", mf.GetName())
		}
	}
	for _, old := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "go_memstats_sys_bytes", "go_gc_cycles_total", "process_start_time_seconds"} {
		if !slices.ContainsFunc(mfs, func(mf *dto.MetricFamily) bool { return mf.GetName() == old }) {
			t.Errorf("%s is no longer served", old)
		}
	}
}

// TestHandlerFormats checks the content negotiation of /metrics: text by
// default, OpenMetrics with exemplars, protobuf with native histograms.
func TestHandlerFormats(t *testing.T) {
	r := NewRegistry()
	h := r.Histogram("esign_test_seconds", "Latency.", DefaultBuckets, "listener")
	h.ObserveExemplar(0.003, "4bf92f3577b34da6a3ce929d0e0e4736", "x")
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	get := func(accept string) (string, string) {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		if _, err := io.Copy(&b, resp.Body); err != nil {
			t.Fatal(err)
		}
		return resp.Header.Get("Content-Type"), b.String()
	}
	ct, body := get("")
	if !strings.HasPrefix(ct, "text/plain") || !strings.Contains(body, `esign_test_seconds_bucket{listener="x",le="0.005"} 1`) {
		t.Errorf("text format: %s\n%s", ct, body)
	}
	ct, body = get("application/openmetrics-text; version=1.0.0")
	if !strings.HasPrefix(ct, "application/openmetrics-text") || !strings.Contains(body, `# {trace_id="4bf92f3577b34da6a3ce929d0e0e4736"} 0.003`) {
		t.Errorf("OpenMetrics with the exemplar: %s\n%s", ct, body)
	}
	ct, _ = get("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
	if !strings.HasPrefix(ct, "application/vnd.google.protobuf") {
		t.Fatalf("protobuf: %s", ct)
	}
	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "esign_test_seconds" {
			hist := mf.GetMetric()[0].GetHistogram()
			if hist.GetSchema() == 0 && len(hist.GetPositiveSpan()) == 0 {
				t.Errorf("no native histogram: %v", hist)
			}
			return
		}
	}
	t.Error("esign_test_seconds not gathered")
}

func TestCounterFunc(t *testing.T) {
	r := NewRegistry()
	n := 0.0
	r.CounterFunc("esign_test_statements_total", "Statements.", func() float64 { n++; return n })
	r.CounterFunc("esign_test_statements_total", "Statements.", func() float64 { return -1 })
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if want := "esign_test_statements_total 1\n"; !strings.Contains(b.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, b.String())
	}
}
