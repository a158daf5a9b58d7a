package httpkit

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"esign/internal/esign"
	"esign/internal/metrics"
)

var discard = slog.New(slog.DiscardHandler)

func testTimeouts() Timeouts {
	return Timeouts{ReadHeader: time.Second, Read: 5 * time.Second, Write: 5 * time.Second, Idle: time.Second, Shutdown: 5 * time.Second}
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(t.Context())
	g, err := Listen(ctx, discard, testTimeouts(), []Listener{{Name: "a", Addr: "127.0.0.1:0", Handler: h}})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- g.Serve(ctx) }()

	type result struct {
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + g.Addr("a") + "/")
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		res <- result{string(b), err}
	}()
	<-started
	cancel() // SIGINT arrives while the request is in flight
	// New connections are refused once shutdown began.
	deadline := time.Now().Add(2 * time.Second)
	for {
		c, err := (&http.Client{Timeout: 200 * time.Millisecond}).Get("http://" + g.Addr("a") + "/")
		if err != nil {
			break
		}
		c.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepts after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	r := <-res
	if r.err != nil || r.body != "done" {
		t.Fatalf("in-flight request: body %q, err %v", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestListenAddressInUse(t *testing.T) {
	g, err := Listen(t.Context(), discard, testTimeouts(), []Listener{{Name: "a", Addr: "127.0.0.1:0", Handler: http.NotFoundHandler()}})
	if err != nil {
		t.Fatal(err)
	}
	defer g.closeListeners()
	_, err = Listen(t.Context(), discard, testTimeouts(), []Listener{{Name: "admin", Addr: g.Addr("a"), Handler: http.NotFoundHandler()}})
	if err == nil || !strings.Contains(err.Error(), "listen admin on") || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("err = %v", err)
	}
}

func TestWriteErrorStatusAndBody(t *testing.T) {
	tests := []struct {
		err    error
		status int
		kind   string
		msg    string
	}{
		{esign.E("op", esign.NotFound, "offer not found"), 404, "not_found", "offer not found"},
		{esign.WithCode("op", esign.Invalid, "too_short", "username too short"), 400, "invalid", "username too short"},
		{esign.E("op", esign.Conflict), 409, "conflict", "the object was changed by someone else"},
		{errors.New("pq: password authentication failed for user secret"), 500, "internal", "an internal error occurred"},
		{esign.E("op", esign.TooMany), 429, "too_many_requests", "too many requests, try again later"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, httptest.NewRequest("GET", "/x", nil), discard, tt.err)
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			var body ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body.Error.Kind != tt.kind || body.Error.Message != tt.msg || body.Error.ID == "" {
				t.Errorf("body = %+v", body)
			}
			if strings.Contains(rec.Body.String(), "secret") {
				t.Error("internal cause leaked to the client")
			}
		})
	}
}

// TestWriteErrorRetryAfter: a 503 (an outage) and a 429 (a limit) tell the
// client when to come back — the limit's own window when the error knows
// it, rounded up to whole seconds — and no other answer does.
func TestWriteErrorRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		want   string
	}{
		{"outage", esign.E("sqlstore.GetSession", esign.Unavailable, "the database is not reachable"), 503, "5"},
		{"limit_known", esign.E("outer", &esign.Error{Kind: esign.TooMany, Code: "rate_limited", Msg: "slow", RetryAfter: 1200 * time.Millisecond}), 429, "2"},
		{"limit_unknown", esign.WithCode("op", esign.TooMany, "sms_limit", "later"), 429, "5"},
		{"invalid", esign.WithCode("op", esign.Invalid, "too_short", "short"), 400, ""},
		{"internal", errors.New("boom"), 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, httptest.NewRequest("GET", "/x", nil), discard, tt.err)
			if rec.Code != tt.status || rec.Header().Get("Retry-After") != tt.want {
				t.Errorf("status %d Retry-After %q, want %d %q", rec.Code, rec.Header().Get("Retry-After"), tt.status, tt.want)
			}
		})
	}
}

// TestWriteErrorAttemptsLeft: the attempts left of a wrapped error are in
// the body, 0 included; an error without a limit has no such field.
func TestWriteErrorAttemptsLeft(t *testing.T) {
	code := func(n int) error {
		return esign.E("outer", &esign.Error{Op: "inner", Kind: esign.Invalid, Code: "invalid_code", Msg: "wrong", AttemptsLeft: &n})
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"two_left", code(2), `"attemptsLeft":2`},
		{"none_left", code(0), `"attemptsLeft":0`},
		{"no_limit", esign.WithCode("op", esign.Invalid, "too_short", "short"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, httptest.NewRequest("POST", "/x", nil), discard, tt.err)
			body := rec.Body.String()
			if tt.want == "" && strings.Contains(body, "attemptsLeft") || !strings.Contains(body, tt.want) {
				t.Errorf("body %s, want %s", body, tt.want)
			}
		})
	}
}

func TestRecoverAndRequestID(t *testing.T) {
	reg := metrics.NewRegistry()
	h := Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		io.WriteString(w, RequestID(r.Context()))
	}), Standard(discard, NewHTTPMetrics(reg), nil, "t")...)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/panic", nil))
	if rec.Code != 500 {
		t.Errorf("panic: status %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Request-Id", "abc-123")
	h.ServeHTTP(rec, req)
	if rec.Body.String() != "abc-123" || rec.Header().Get("X-Request-Id") != "abc-123" {
		t.Errorf("request id not propagated: %q", rec.Body.String())
	}
	rec = httptest.NewRecorder()
	req = httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Request-Id", "bad id\nwith newline")
	h.ServeHTTP(rec, req)
	if id := rec.Header().Get("X-Request-Id"); id == "" || strings.Contains(id, " ") {
		t.Errorf("malformed id accepted: %q", id)
	}
	var b strings.Builder
	if err := reg.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `esign_http_requests_total{code="500",listener="t",method="GET"} 1`) {
		t.Errorf("metrics:\n%s", b.String())
	}
}

func TestReadiness(t *testing.T) {
	h := &Health{Checks: map[string]Check{
		"db":  func(context.Context) error { return nil },
		"bus": func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
	}, Timeout: 50 * time.Millisecond}
	rec := httptest.NewRecorder()
	h.Ready(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d", rec.Code)
	}
	var rep healthReport
	json.Unmarshal(rec.Body.Bytes(), &rep)
	if rep.Checks["db"] != "ok" || !strings.HasPrefix(rep.Checks["bus"], "fail") {
		t.Errorf("report %+v", rep)
	}
	delete(h.Checks, "bus")
	rec = httptest.NewRecorder()
	h.Ready(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 200 {
		t.Errorf("all checks pass: status %d", rec.Code)
	}
	// A peer that is down degrades the report but keeps the process ready.
	h.Peers = map[string]Check{"css": func(context.Context) error { return errors.New("no reply") }}
	rec = httptest.NewRecorder()
	h.Ready(rec, httptest.NewRequest("GET", "/readyz", nil))
	json.Unmarshal(rec.Body.Bytes(), &rep)
	if rec.Code != 200 || rep.Status != "degraded" || rep.Checks["css"] != "fail: no reply" {
		t.Errorf("peer down: %d %+v", rec.Code, rep)
	}
}

// TestPublicHealth: a public listener's /readyz says ready or not and
// nothing else (issue 16 item 7), and it has no /metrics.
func TestPublicHealth(t *testing.T) {
	secret := errors.New("dial tcp db.internal:5432: user esign: password authentication failed")
	h := &Health{Checks: map[string]Check{"database": func(context.Context) error { return secret }},
		Peers: map[string]Check{"css": func(context.Context) error { return errors.New("no reply from css") }}}
	mux := http.NewServeMux()
	h.MountPublic(mux)
	tests := []struct {
		name   string
		fail   bool
		path   string
		status int
		body   string
	}{
		{"unready", true, "/readyz", 503, `{"status":"unavailable"}`},
		{"ready_with_peer_down", false, "/readyz", 200, `{"status":"ok"}`},
		{"live", true, "/healthz", 200, `{"status":"ok"}`},
		{"no_metrics", false, "/metrics", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.Checks["database"] = func(context.Context) error { return nil }
			if tt.fail {
				h.Checks["database"] = func(context.Context) error { return secret }
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			if got := strings.TrimSpace(rec.Body.String()); tt.body != "" && got != tt.body {
				t.Errorf("body %s, want %s", got, tt.body)
			}
			for _, leak := range []string{"db.internal", "esign", "css", "database"} {
				if strings.Contains(rec.Body.String(), leak) {
					t.Errorf("body names %q: %s", leak, rec.Body.String())
				}
			}
		})
	}
}

func TestSecureHeadersAndLimit(t *testing.T) {
	h := Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		}
	}), SecureHeaders(""), LimitBody(10))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 11))))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: status %d", rec.Code)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}
}

// TestStreamListenerTimeouts: a streaming listener (server-sent events)
// has no read or write timeout; the others keep theirs, and every one its
// header and idle timeouts.
func TestStreamListenerTimeouts(t *testing.T) {
	tm := testTimeouts()
	tests := []struct {
		name        string
		stream      bool
		read, write time.Duration
	}{
		{"plain", false, tm.Read, tm.Write},
		{"stream", true, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Listen(t.Context(), discard, tm, []Listener{{Name: tt.name, Addr: "127.0.0.1:0", Handler: http.NotFoundHandler(), Stream: tt.stream}})
			if err != nil {
				t.Fatal(err)
			}
			defer g.closeListeners()
			s := g.servers[0]
			if s.ReadTimeout != tt.read || s.WriteTimeout != tt.write || s.ReadHeaderTimeout != tm.ReadHeader || s.IdleTimeout != tm.Idle {
				t.Errorf("timeouts read %v write %v header %v idle %v", s.ReadTimeout, s.WriteTimeout, s.ReadHeaderTimeout, s.IdleTimeout)
			}
		})
	}
}
