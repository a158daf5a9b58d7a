// Package metrics is a small Prometheus registry: counters, gauges and
// histograms with labels, exposed in the text exposition format (version
// 0.0.4). It covers what esign needs without the client_golang dependency.
package metrics

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Registry holds the metric families of one process.
type Registry struct {
	mu       sync.Mutex
	families map[string]family
	start    time.Time
}

type family interface {
	write(w io.Writer, name string)
}

// NewRegistry returns a registry that already exposes the Go runtime and
// process metrics.
func NewRegistry() *Registry {
	r := &Registry{families: map[string]family{}, start: time.Now()}
	return r
}

func (r *Registry) register(name string, f family) family {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.families[name]; ok {
		return old
	}
	r.families[name] = f
	return f
}

// Counter returns the counter family name, creating it on first use. Label
// names are fixed per family.
func (r *Registry) Counter(name, help string, labels ...string) *CounterVec {
	f := r.register(name, &CounterVec{vec: newVec(help, labels)})
	return f.(*CounterVec)
}

// Gauge returns the gauge family name.
func (r *Registry) Gauge(name, help string, labels ...string) *GaugeVec {
	f := r.register(name, &GaugeVec{vec: newVec(help, labels)})
	return f.(*GaugeVec)
}

// Histogram returns the histogram family name with the given upper bounds.
func (r *Registry) Histogram(name, help string, buckets []float64, labels ...string) *HistogramVec {
	b := slices.Clone(buckets)
	sort.Float64s(b)
	f := r.register(name, &HistogramVec{vec: newVec(help, labels), buckets: b})
	return f.(*HistogramVec)
}

// DefaultBuckets suit request latencies in seconds.
var DefaultBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// WriteText writes every family in the Prometheus text format, sorted by name.
func (r *Registry) WriteText(w io.Writer) {
	r.mu.Lock()
	names := make([]string, 0, len(r.families))
	for n := range r.families {
		names = append(names, n)
	}
	fams := make(map[string]family, len(r.families))
	for n, f := range r.families {
		fams[n] = f
	}
	r.mu.Unlock()
	sort.Strings(names)
	for _, n := range names {
		fams[n].write(w, n)
	}
	r.writeRuntime(w)
}

func (r *Registry) writeRuntime(w io.Writer) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gauge := func(name, help string, v float64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %s\n", name, help, name, name, formatFloat(v))
	}
	gauge("go_goroutines", "Number of goroutines that currently exist.", float64(runtime.NumGoroutine()))
	gauge("go_memstats_heap_alloc_bytes", "Bytes of allocated heap objects.", float64(ms.HeapAlloc))
	gauge("go_memstats_sys_bytes", "Bytes of memory obtained from the OS.", float64(ms.Sys))
	fmt.Fprintf(w, "# HELP go_gc_cycles_total Completed GC cycles.\n# TYPE go_gc_cycles_total counter\ngo_gc_cycles_total %d\n", ms.NumGC)
	gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", float64(r.start.UnixNano())/1e9)
	if rss, ok := residentMemory(); ok {
		gauge("process_resident_memory_bytes", "Resident memory size in bytes.", float64(rss))
	}
}

// Handler serves the registry at /metrics.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		r.WriteText(w)
	})
}

type vec struct {
	help   string
	labels []string
	mu     sync.RWMutex
	series map[string]*series
}

type series struct {
	labelValues []string
	bits        atomic.Uint64 // float64 value for counters and gauges
	counts      []atomic.Uint64
	sumBits     atomic.Uint64
	count       atomic.Uint64
}

func newVec(help string, labels []string) vec {
	return vec{help: help, labels: labels, series: map[string]*series{}}
}

func (v *vec) get(values []string, nbuckets int) *series {
	if len(values) != len(v.labels) {
		panic(fmt.Sprintf("metrics: %d label values for %d labels", len(values), len(v.labels)))
	}
	key := strings.Join(values, "\xff")
	v.mu.RLock()
	s, ok := v.series[key]
	v.mu.RUnlock()
	if ok {
		return s
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.series[key]; ok {
		return s
	}
	s = &series{labelValues: slices.Clone(values), counts: make([]atomic.Uint64, nbuckets)}
	v.series[key] = s
	return s
}

func (v *vec) sorted() []*series {
	v.mu.RLock()
	out := make([]*series, 0, len(v.series))
	for _, s := range v.series {
		out = append(out, s)
	}
	v.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		return strings.Join(out[i].labelValues, "\xff") < strings.Join(out[j].labelValues, "\xff")
	})
	return out
}

func (v *vec) labelString(s *series, extra ...string) string {
	if len(v.labels) == 0 && len(extra) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range v.labels {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", l, escapeLabel(s.labelValues[i]))
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", extra[i], extra[i+1])
	}
	b.WriteByte('}')
	return b.String()
}

// escapeLabel leaves only characters that %q renders as Prometheus expects.
func escapeLabel(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, s)
}

func addFloat(a *atomic.Uint64, delta float64) {
	for {
		old := a.Load()
		if a.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+delta)) {
			return
		}
	}
}

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// CounterVec is a family of monotonically increasing counters.
type CounterVec struct{ vec }

// Add adds delta (≥ 0) to the series with the label values.
func (c *CounterVec) Add(delta float64, labelValues ...string) {
	if delta < 0 {
		return
	}
	addFloat(&c.get(labelValues, 0).bits, delta)
}

// Inc adds one.
func (c *CounterVec) Inc(labelValues ...string) { c.Add(1, labelValues...) }

// Value returns the current value of a series (for tests).
func (c *CounterVec) Value(labelValues ...string) float64 {
	return math.Float64frombits(c.get(labelValues, 0).bits.Load())
}

func (c *CounterVec) write(w io.Writer, name string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", name, c.help, name)
	for _, s := range c.sorted() {
		fmt.Fprintf(w, "%s%s %s\n", name, c.labelString(s), formatFloat(math.Float64frombits(s.bits.Load())))
	}
}

// GaugeVec is a family of values that go up and down.
type GaugeVec struct{ vec }

// Set sets the series to v.
func (g *GaugeVec) Set(v float64, labelValues ...string) {
	g.get(labelValues, 0).bits.Store(math.Float64bits(v))
}

// Add adds delta (may be negative).
func (g *GaugeVec) Add(delta float64, labelValues ...string) {
	addFloat(&g.get(labelValues, 0).bits, delta)
}

func (g *GaugeVec) write(w io.Writer, name string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n", name, g.help, name)
	for _, s := range g.sorted() {
		fmt.Fprintf(w, "%s%s %s\n", name, g.labelString(s), formatFloat(math.Float64frombits(s.bits.Load())))
	}
}

// HistogramVec is a family of histograms with fixed buckets.
type HistogramVec struct {
	vec
	buckets []float64
}

// Observe records v in the series with the label values.
func (h *HistogramVec) Observe(v float64, labelValues ...string) {
	s := h.get(labelValues, len(h.buckets))
	if i := sort.SearchFloat64s(h.buckets, v); i < len(h.buckets) {
		s.counts[i].Add(1)
	}
	addFloat(&s.sumBits, v)
	s.count.Add(1)
}

func (h *HistogramVec) write(w io.Writer, name string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, h.help, name)
	for _, s := range h.sorted() {
		var cum uint64
		for i, le := range h.buckets {
			cum += s.counts[i].Load()
			fmt.Fprintf(w, "%s_bucket%s %d\n", name, h.labelString(s, "le", formatFloat(le)), cum)
		}
		fmt.Fprintf(w, "%s_bucket%s %d\n", name, h.labelString(s, "le", "+Inf"), s.count.Load())
		fmt.Fprintf(w, "%s_sum%s %s\n", name, h.labelString(s), formatFloat(math.Float64frombits(s.sumBits.Load())))
		fmt.Fprintf(w, "%s_count%s %d\n", name, h.labelString(s), s.count.Load())
	}
}
