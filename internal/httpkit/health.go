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
// A failing check in Checks makes the process unready (503); a failing one
// in Peers is reported ("degraded") but keeps it ready, so that a load
// balancer does not take oss out because a css replica is down.
type Health struct {
	Checks  map[string]Check
	Peers   map[string]Check
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
// failure text is the check's own summary; it must not hold secrets, but it
// may name hosts and users, so Ready belongs on an operations listener.
func (h *Health) Ready(w http.ResponseWriter, r *http.Request) {
	status, rep := h.report(r)
	WriteJSON(w, status, rep)
}

// ReadyBare runs every check like Ready but answers only 200
// {"status":"ok"} or 503 {"status":"unavailable"}: what a load balancer
// needs, nothing about the dependencies.
func (h *Health) ReadyBare(w http.ResponseWriter, r *http.Request) {
	status, _ := h.report(r)
	rep := healthReport{Status: "ok"}
	if status != http.StatusOK {
		rep.Status = "unavailable"
	}
	WriteJSON(w, status, rep)
}

func (h *Health) report(r *http.Request) (int, healthReport) {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	required, peers := runChecks(ctx, h.Checks), runChecks(ctx, h.Peers)
	rep := healthReport{Status: "ok", Checks: map[string]string{}}
	status := http.StatusOK
	for n, res := range peers {
		rep.Checks[n] = res
		if res != "ok" {
			rep.Status = "degraded"
		}
	}
	for n, res := range required {
		rep.Checks[n] = res
		if res != "ok" {
			rep.Status = "unavailable"
			status = http.StatusServiceUnavailable
		}
	}
	return status, rep
}

func runChecks(ctx context.Context, checks map[string]Check) map[string]string {
	names := make([]string, 0, len(checks))
	for n := range checks {
		names = append(names, n)
	}
	sort.Strings(names)
	results := make([]string, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() {
			if err := checks[n](ctx); err != nil {
				results[i] = "fail: " + err.Error()
			} else {
				results[i] = "ok"
			}
		})
	}
	wg.Wait()
	out := make(map[string]string, len(names))
	for i, n := range names {
		out[n] = results[i]
	}
	return out
}

// Mount registers /healthz, the detailed /readyz and /metrics on mux: the
// operations listener.
func (h *Health) Mount(mux *http.ServeMux, metricsHandler http.Handler) {
	mux.HandleFunc("GET /healthz", h.Live)
	mux.HandleFunc("GET /readyz", h.Ready)
	mux.Handle("GET /metrics", metricsHandler)
}

// MountPublic registers /healthz and the bare /readyz on mux: a listener
// that others than the operators reach.
func (h *Health) MountPublic(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", h.Live)
	mux.HandleFunc("GET /readyz", h.ReadyBare)
}
