// Package metrics holds the Prometheus registry of one process: counters,
// gauges and histograms with labels, the Go runtime and process collectors,
// and the /metrics handler. It wraps prometheus/client_golang with the few
// calls esign uses; each process makes its own Registry (the library's
// global default registry is not used).
package metrics

import (
	"fmt"
	"io"
	"net/http"
	"runtime/metrics"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Registry holds the metric families of one process.
type Registry struct {
	reg      *prometheus.Registry
	mu       sync.Mutex
	families map[string]any // *CounterVec, *GaugeVec or *HistogramVec
}

// NewRegistry returns a registry that already exposes the Go runtime and
// process metrics.
func NewRegistry() *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		// Served by esign before it used client_golang; kept for the
		// dashboards that use it (client_golang's own collector names
		// the same figure differently).
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "go_gc_cycles_total",
			Help: "Completed GC cycles.",
		}, gcCycles),
	)
	return &Registry{reg: reg, families: map[string]any{}}
}

// gcCycles reads the completed GC cycles from runtime/metrics, which does
// not stop the world as runtime.ReadMemStats does.
func gcCycles() float64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return float64(s[0].Value.Uint64())
}

// family returns the family name, making it with mk and registering it on
// first use. A name registered with another kind panics, as does an
// invalid name: both are programming errors.
func family[T any](r *Registry, name string, mk func() (T, prometheus.Collector)) T {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.families[name]; ok {
		f, ok := old.(T)
		if !ok {
			panic(fmt.Sprintf("metrics: %s registered as %T", name, old))
		}
		return f
	}
	f, c := mk()
	r.reg.MustRegister(c)
	r.families[name] = f
	return f
}

// Counter returns the counter family name, creating it on first use. Label
// names are fixed per family.
func (r *Registry) Counter(name, help string, labels ...string) *CounterVec {
	return family(r, name, func() (*CounterVec, prometheus.Collector) {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		return &CounterVec{v: v}, v
	})
}

// CounterFunc registers the counter name (no labels) whose value f reads
// at each scrape, for a count kept elsewhere (the database pool's
// statements). f must be safe for concurrent use and never decrease. A
// second registration of the name keeps the first f.
func (r *Registry) CounterFunc(name, help string, f func() float64) {
	family(r, name, func() (prometheus.CounterFunc, prometheus.Collector) {
		c := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
		return c, c
	})
}

// Gauge returns the gauge family name.
func (r *Registry) Gauge(name, help string, labels ...string) *GaugeVec {
	return family(r, name, func() (*GaugeVec, prometheus.Collector) {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
		return &GaugeVec{v: v}, v
	})
}

// Histogram returns the histogram family name with the given upper bounds.
// Besides these classic buckets it keeps a native (sparse, exponential)
// histogram, which Prometheus scrapes when it asks for the protobuf format
// with native histograms enabled; the text format shows only the classic
// buckets.
func (r *Registry) Histogram(name, help string, buckets []float64, labels ...string) *HistogramVec {
	b := slices.Clone(buckets)
	sort.Float64s(b)
	return family(r, name, func() (*HistogramVec, prometheus.Collector) {
		v := prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:                            name,
			Help:                            help,
			Buckets:                         b,
			NativeHistogramBucketFactor:     1.1,
			NativeHistogramMaxBucketNumber:  160,
			NativeHistogramMinResetDuration: time.Hour,
		}, labels)
		return &HistogramVec{v: v}, v
	})
}

// DefaultBuckets suit request latencies in seconds.
var DefaultBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// WriteText writes every family in the Prometheus text format (0.0.4),
// sorted by name.
func (r *Registry) WriteText(w io.Writer) error {
	mfs, err := r.reg.Gather()
	if err != nil {
		return fmt.Errorf("gather metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
	}
	return nil
}

// Handler serves the registry at /metrics in the format the scraper asks
// for: the text format by default, OpenMetrics (with exemplars) or the
// protobuf format (with native histograms).
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// CounterVec is a family of monotonically increasing counters.
type CounterVec struct{ v *prometheus.CounterVec }

// Add adds delta (≥ 0; a negative delta is ignored) to the series with the
// label values.
func (c *CounterVec) Add(delta float64, labelValues ...string) {
	if delta < 0 {
		return
	}
	c.v.WithLabelValues(labelValues...).Add(delta)
}

// Inc adds one.
func (c *CounterVec) Inc(labelValues ...string) { c.v.WithLabelValues(labelValues...).Inc() }

// Value returns the current value of a series (for tests).
func (c *CounterVec) Value(labelValues ...string) float64 {
	var m dto.Metric
	if err := c.v.WithLabelValues(labelValues...).Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

// GaugeVec is a family of values that go up and down.
type GaugeVec struct{ v *prometheus.GaugeVec }

// Set sets the series to v.
func (g *GaugeVec) Set(v float64, labelValues ...string) { g.v.WithLabelValues(labelValues...).Set(v) }

// Add adds delta (may be negative).
func (g *GaugeVec) Add(delta float64, labelValues ...string) {
	g.v.WithLabelValues(labelValues...).Add(delta)
}

// HistogramVec is a family of histograms.
type HistogramVec struct{ v *prometheus.HistogramVec }

// Observe records v in the series with the label values.
func (h *HistogramVec) Observe(v float64, labelValues ...string) {
	h.v.WithLabelValues(labelValues...).Observe(v)
}

// ObserveExemplar records v like Observe and attaches the trace id as an
// exemplar (served in the OpenMetrics and protobuf formats), so that a
// slow bucket leads to a trace. An empty traceID records no exemplar.
func (h *HistogramVec) ObserveExemplar(v float64, traceID string, labelValues ...string) {
	o := h.v.WithLabelValues(labelValues...)
	if traceID == "" {
		o.Observe(v)
		return
	}
	o.(prometheus.ExemplarObserver).ObserveWithExemplar(v, prometheus.Labels{"trace_id": traceID})
}
