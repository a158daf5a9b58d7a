package httpkit

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Check reports whether one dependency is usable.
type Check func(ctx context.Context) error

// Health serves /healthz (the process is alive) and /readyz (its
// dependencies answer). Checks run in parallel, each bounded by Timeout.
type Health struct {
	Checks  map[string]Check
	Timeout time.Duration
}

type healthReport struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
}

// Live answers 200 while the process serves requests at all.
func (h *Health) Live(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, healthReport{Status: "ok"})
}

// Ready runs every check; 200 when all pass, else 503 with each failure. The
// failure text is the check's own summary; it must not hold secrets.
func (h *Health) Ready(w http.ResponseWriter, r *http.Request) {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	names := make([]string, 0, len(h.Checks))
	for n := range h.Checks {
		names = append(names, n)
	}
	sort.Strings(names)
	results := make([]string, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() {
			if err := h.Checks[n](ctx); err != nil {
				results[i] = "fail: " + err.Error()
			} else {
				results[i] = "ok"
			}
		})
	}
	wg.Wait()
	rep := healthReport{Status: "ok", Checks: map[string]string{}}
	status := http.StatusOK
	for i, n := range names {
		rep.Checks[n] = results[i]
		if results[i] != "ok" {
			rep.Status = "unavailable"
			status = http.StatusServiceUnavailable
		}
	}
	WriteJSON(w, status, rep)
}

// Mount registers /healthz, /readyz and /metrics on mux.
func (h *Health) Mount(mux *http.ServeMux, metricsHandler http.Handler) {
	mux.HandleFunc("GET /healthz", h.Live)
	mux.HandleFunc("GET /readyz", h.Ready)
	mux.Handle("GET /metrics", metricsHandler)
}
