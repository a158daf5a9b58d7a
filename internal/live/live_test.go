package live

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func ev(id, offer string) *Event {
	return &Event{ID: id, Data: []byte(`{"id":"` + id + `"}`), OfferID: offer}
}

// drain returns the ids waiting for c.
func drain(c *Client) []string {
	var out []string
	for {
		select {
		case e := <-c.Events():
			out = append(out, e.ID)
		default:
			return out
		}
	}
}

func TestHubPublish(t *testing.T) {
	type client struct {
		offer    string // "": every event
		wantIDs  []string
		wantSlow bool
	}
	tests := []struct {
		name    string
		buffer  int
		events  []*Event
		clients []client
	}{
		{name: "fan-out", buffer: 4, events: []*Event{ev("1", "a"), ev("2", "b")},
			clients: []client{{wantIDs: []string{"1", "2"}}, {wantIDs: []string{"1", "2"}}}},
		{name: "filter", buffer: 4, events: []*Event{ev("1", "a"), ev("2", "b"), ev("3", "a")},
			clients: []client{{offer: "a", wantIDs: []string{"1", "3"}}, {offer: "b", wantIDs: []string{"2"}}, {offer: "c"}}},
		{name: "slow-client-dropped", buffer: 2, events: []*Event{ev("1", "a"), ev("2", "a"), ev("3", "a"), ev("4", "b")},
			clients: []client{{offer: "a", wantIDs: []string{"1", "2"}, wantSlow: true}, {offer: "b", wantIDs: []string{"4"}}}},
		{name: "filtered-out-events-do-not-fill-the-buffer", buffer: 1, events: []*Event{ev("1", "b"), ev("2", "b"), ev("3", "a")},
			clients: []client{{offer: "a", wantIDs: []string{"3"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHub(Options{Buffer: tt.buffer})
			var cs []*Client
			for _, c := range tt.clients {
				var f func(*Event) bool
				if c.offer != "" {
					f = func(e *Event) bool { return e.OfferID == c.offer }
				}
				cl, err := h.Subscribe(f)
				if err != nil {
					t.Fatal(err)
				}
				cs = append(cs, cl)
			}
			for _, e := range tt.events {
				h.Publish(e)
			}
			for i, c := range tt.clients {
				if got := drain(cs[i]); !slices.Equal(got, c.wantIDs) {
					t.Errorf("client %d got %v, want %v", i, got, c.wantIDs)
				}
				slow := false
				select {
				case <-cs[i].Done():
					slow = errors.Is(cs[i].Err(), ErrSlow)
				default:
				}
				if slow != c.wantSlow {
					t.Errorf("client %d dropped as slow: %v, want %v", i, slow, c.wantSlow)
				}
			}
			wantDropped := 0
			for _, c := range tt.clients {
				if c.wantSlow {
					wantDropped++
				}
			}
			if h.Dropped() != wantDropped {
				t.Errorf("Dropped() = %d, want %d", h.Dropped(), wantDropped)
			}
		})
	}
}

func TestHubLifecycle(t *testing.T) {
	tests := []struct {
		name    string
		do      func(h *Hub) error
		wantErr error
	}{
		{name: "closed-hub-refuses", do: func(h *Hub) error { h.Close(); _, err := h.Subscribe(nil); return err }, wantErr: ErrClosed},
		{name: "full-hub-refuses", do: func(h *Hub) error {
			if _, err := h.Subscribe(nil); err != nil {
				return err
			}
			_, err := h.Subscribe(nil)
			return err
		}, wantErr: ErrFull},
		{name: "close-ends-clients", do: func(h *Hub) error {
			c, _ := h.Subscribe(nil)
			h.Close()
			<-c.Done()
			return c.Err()
		}, wantErr: ErrClosed},
		{name: "client-close-unsubscribes", do: func(h *Hub) error {
			c, _ := h.Subscribe(nil)
			c.Close()
			c.Close() // twice is fine
			<-c.Done()
			if n := h.Clients(); n != 0 {
				return fmt.Errorf("%d clients after Close", n)
			}
			if h.Publish(ev("1", "")) != 0 {
				return errors.New("a closed client got an event")
			}
			return c.Err()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.do(NewHub(Options{MaxClients: 1})); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		want string
	}{
		{"full", Event{ID: "7", Type: "end", Data: []byte(`{}`)}, "id: 7\nevent: end\ndata: {}\n\n"},
		{"data-only", Event{Data: []byte(`{"a":1}`)}, "data: {\"a\":1}\n\n"},
		{"multi-line-data", Event{Data: []byte("a\r\nb\nc")}, "data: a\ndata: b\ndata: c\n\n"},
		{"line-breaks-in-id-and-type-removed", Event{ID: "1\n2", Type: "x\ry", Data: []byte("d")}, "id: 12\nevent: xy\ndata: d\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := Write(&b, &tt.ev); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got %q, want %q", b.String(), tt.want)
			}
		})
	}
}

func TestCORS(t *testing.T) {
	allowed := func(origin string, _ *http.Request) bool { return origin == "http://127.0.0.1:10181" }
	tests := []struct {
		name, method, origin string
		wantOK               bool
		wantStatus           int
		wantAllow            string
	}{
		{"no-origin", "GET", "", true, 200, ""},
		{"allowed-origin", "GET", "http://127.0.0.1:10181", true, 200, "http://127.0.0.1:10181"},
		{"other-origin", "GET", "http://evil.example", false, 403, ""},
		{"other-port", "GET", "http://127.0.0.1:9999", false, 403, ""},
		{"preflight", "OPTIONS", "http://127.0.0.1:10181", false, 204, "http://127.0.0.1:10181"},
		{"preflight-other-origin", "OPTIONS", "http://evil.example", false, 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/events", nil)
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			w := httptest.NewRecorder()
			ok := CORS(w, r, allowed)
			if ok != tt.wantOK || w.Code != tt.wantStatus {
				t.Errorf("ok %v status %d, want %v %d", ok, w.Code, tt.wantOK, tt.wantStatus)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != tt.wantAllow {
				t.Errorf("Allow-Origin %q, want %q", got, tt.wantAllow)
			}
			if tt.wantAllow != "" && w.Header().Get("Access-Control-Allow-Credentials") != "true" {
				t.Error("no Allow-Credentials")
			}
		})
	}
}

// reader reads an event stream's events (comments as ": ping").
type reader struct{ sc *bufio.Scanner }

func (r *reader) next(t *testing.T) string {
	t.Helper()
	var lines []string
	for r.sc.Scan() {
		l := r.sc.Text()
		if l == "" {
			if len(lines) > 0 {
				return strings.Join(lines, "|")
			}
			continue
		}
		lines = append(lines, l)
	}
	t.Fatalf("stream ended: %v", r.sc.Err())
	return ""
}

func TestServe(t *testing.T) {
	h := NewHub(Options{Heartbeat: 20 * time.Millisecond, Retry: 1500 * time.Millisecond})
	checks := make(chan error, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = h.Serve(w, r, Stream{
			Filter: func(e *Event) bool { return e.OfferID == "a" },
			CatchUp: func(_ context.Context, last string) ([]*Event, error) {
				if last != "2" {
					return nil, fmt.Errorf("Last-Event-ID %q", last)
				}
				return []*Event{ev("3", "a"), ev("4", "a")}, nil
			},
			Check: func(context.Context) error {
				select {
				case err := <-checks:
					return err
				default:
					return nil
				}
			},
		})
	}))
	defer srv.Close()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL, nil)
	req.Header.Set("Last-Event-ID", "2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("status %d, content type %q", resp.StatusCode, ct)
	}
	r := &reader{bufio.NewScanner(resp.Body)}
	for _, want := range []string{"retry: 1500", `id: 3|data: {"id":"3"}`, `id: 4|data: {"id":"4"}`} {
		if got := r.next(t); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	for h.Clients() == 0 {
		time.Sleep(time.Millisecond)
	}
	// 4 was caught up: the live copy is not sent again; b is filtered.
	h.Publish(ev("4", "a"))
	h.Publish(ev("5", "b"))
	h.Publish(ev("6", "a"))
	for got := r.next(t); got != `id: 6|data: {"id":"6"}`; got = r.next(t) {
		if got != ": ping" {
			t.Fatalf("got %q, want the event 6 (or heartbeats)", got)
		}
	}
	// A heartbeat whose check fails ends the stream with "end".
	checks <- errors.New("signed out")
	for got := r.next(t); got != "event: end|data: {}"; got = r.next(t) {
		if got != ": ping" {
			t.Fatalf("got %q, want the end event", got)
		}
	}
	if r.sc.Scan() {
		t.Fatalf("the stream goes on after end: %q", r.sc.Text())
	}
	for h.Clients() != 0 {
		time.Sleep(time.Millisecond)
	}
}

func TestServeRefusals(t *testing.T) {
	tests := []struct {
		name   string
		hub    func() *Hub
		stream Stream
	}{
		{"hub-closed", func() *Hub { h := NewHub(Options{}); h.Close(); return h }, Stream{}},
		{"catch-up-fails", func() *Hub { return NewHub(Options{}) },
			Stream{CatchUp: func(context.Context, string) ([]*Event, error) { return nil, errors.New("db down") }}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.hub()
			w := httptest.NewRecorder()
			if err := h.Serve(w, httptest.NewRequest("GET", "/", nil), tt.stream); err == nil {
				t.Error("no error")
			}
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
				t.Errorf("status %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
			}
			if h.Clients() != 0 {
				t.Error("a refused stream stays subscribed")
			}
		})
	}
}

func TestServeEndsWhenHubCloses(t *testing.T) {
	h := NewHub(Options{})
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		_ = h.Serve(w, r, Stream{})
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := &reader{bufio.NewScanner(resp.Body)}
	r.next(t) // retry
	h.Close()
	<-done
}

func TestParseSeqID(t *testing.T) {
	tests := []struct {
		in   string
		n    int64
		isOK bool
	}{{"0", 0, true}, {"42", 42, true}, {"", 0, false}, {"-1", -1, false}, {"x", 0, false}, {SeqID(1 << 40), 1 << 40, true}}
	for _, tt := range tests {
		if n, ok := ParseSeqID(tt.in); ok != tt.isOK || (ok && n != tt.n) {
			t.Errorf("ParseSeqID(%q) = %d, %v", tt.in, n, ok)
		}
	}
}
