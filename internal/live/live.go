// Package live is the server-sent-events (SSE) mechanics shared by the
// realtime listeners of oss (operators, :10180) and css (customers,
// :10184): a Hub that fans events out to the connected clients, each with a
// bounded buffer and its own filter; a client that cannot keep up is
// dropped (its browser reconnects and catches up); heartbeats keep proxies
// from closing idle streams; and a catch-up step, run after the client is
// subscribed, sends what the client missed (by its Last-Event-ID) or the
// current state, so that no event falls between the two.
//
// The package knows nothing of where events come from (the bus) or who may
// see them: the caller authenticates the request and gives Serve a filter.
// It imports only the standard library.
package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Event is one server-sent event.
type Event struct {
	// ID is the resume cursor sent as the SSE "id:" line ("" sends none,
	// and the browser keeps the last one it had).
	ID string
	// Type is the SSE "event:" name (a browser listens for it by name).
	Type string
	// Data is the payload: one line (compact JSON); line breaks are sent
	// as further "data:" lines, which the browser joins again.
	Data []byte
	// OfferID and CustomerID say what the event is about; they are not
	// sent, filters use them.
	OfferID    string
	CustomerID string
	// Attrs are further routing facts for filters (not sent).
	Attrs map[string]string
}

// Options tune a Hub. The zero value means the defaults.
type Options struct {
	// Buffer is how many events may wait for one client before it is
	// dropped as too slow (default 64).
	Buffer int
	// Heartbeat is the interval of the comment lines that keep an idle
	// stream open through proxies (default 15 s); the stream's Check runs
	// at the same interval.
	Heartbeat time.Duration
	// Retry is the reconnection delay the browser is told (default 2 s).
	Retry time.Duration
	// MaxClients bounds the streams open at once (default 10,000); more
	// are refused with 503.
	MaxClients int
}

func (o Options) withDefaults() Options {
	if o.Buffer <= 0 {
		o.Buffer = 64
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	if o.Retry <= 0 {
		o.Retry = 2 * time.Second
	}
	if o.MaxClients <= 0 {
		o.MaxClients = 10000
	}
	return o
}

// Hub fans events out to its clients. It is safe for concurrent use.
type Hub struct {
	opt     Options
	mu      sync.Mutex
	clients map[*Client]struct{}
	closed  bool
	dropped int // clients dropped as too slow, since the start
}

// NewHub returns an empty hub.
func NewHub(opt Options) *Hub {
	return &Hub{opt: opt.withDefaults(), clients: map[*Client]struct{}{}}
}

// Client is one subscriber of a hub.
type Client struct {
	h      *Hub
	filter func(*Event) bool
	ch     chan *Event
	done   chan struct{}
	once   sync.Once
	reason error
}

// Reasons a client ends.
var (
	// ErrSlow: the client's buffer was full; it was dropped.
	ErrSlow = errors.New("live: the client could not keep up and was dropped")
	// ErrClosed: the hub closed (the process is stopping).
	ErrClosed = errors.New("live: the hub is closed")
	// ErrFull: the hub has MaxClients clients.
	ErrFull = errors.New("live: too many clients")
)

// Subscribe adds a client that receives every published event the filter
// accepts (nil: every event). Errors: ErrClosed, ErrFull.
func (h *Hub) Subscribe(filter func(*Event) bool) (*Client, error) {
	c := &Client{h: h, filter: filter, ch: make(chan *Event, h.opt.Buffer), done: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return nil, ErrClosed
	case len(h.clients) >= h.opt.MaxClients:
		return nil, ErrFull
	}
	h.clients[c] = struct{}{}
	return c, nil
}

// Publish hands ev to every client whose filter accepts it, without
// waiting: a client whose buffer is full is dropped (it ends with ErrSlow).
// It returns how many clients got the event.
func (h *Hub) Publish(ev *Event) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for c := range h.clients {
		if c.filter != nil && !c.filter(ev) {
			continue
		}
		select {
		case c.ch <- ev:
			n++
		default:
			h.dropped++
			h.removeLocked(c, ErrSlow)
		}
	}
	return n
}

// Clients returns how many clients are subscribed.
func (h *Hub) Clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// Dropped returns how many clients were dropped as too slow.
func (h *Hub) Dropped() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dropped
}

// Close ends every client (with ErrClosed) and refuses new ones.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for c := range h.clients {
		h.removeLocked(c, ErrClosed)
	}
}

func (h *Hub) removeLocked(c *Client, reason error) {
	delete(h.clients, c)
	c.once.Do(func() {
		c.reason = reason
		close(c.done)
	})
}

// Close unsubscribes the client.
func (c *Client) Close() {
	c.h.mu.Lock()
	defer c.h.mu.Unlock()
	c.h.removeLocked(c, nil)
}

// Events delivers the client's events.
func (c *Client) Events() <-chan *Event { return c.ch }

// Done is closed when the client ended (Close, dropped, hub closed).
func (c *Client) Done() <-chan struct{} { return c.done }

// Err says why the client ended: ErrSlow, ErrClosed, or nil (Close).
// Valid once Done is closed.
func (c *Client) Err() error { return c.reason }

// Stream is what Serve needs of one request beyond the hub.
type Stream struct {
	// Filter selects the events of this client (nil: all).
	Filter func(*Event) bool
	// CatchUp returns the events the client missed since lastID (the
	// Last-Event-ID header, "" on a first connection), or an event with
	// the current state. It runs after the client is subscribed, so an
	// event raised meanwhile is either in its answer or delivered after
	// it; events of the answer are not sent again. Optional.
	CatchUp func(ctx context.Context, lastID string) ([]*Event, error)
	// Check runs at every heartbeat; an error ends the stream (the
	// session ended, a permission was withdrawn). Optional.
	Check func(ctx context.Context) error
}

// LastEventID returns the request's resume cursor: the Last-Event-ID
// header a reconnecting browser sends (bounded to 128 bytes).
func LastEventID(r *http.Request) string {
	id := r.Header.Get("Last-Event-ID")
	if len(id) > 128 {
		return ""
	}
	return id
}

// Serve answers r with an event stream until the request ends, the stream
// is dropped or the hub closes. The caller has authenticated the request
// and answered CORS; a failure before the stream started (hub full or
// closed, catch-up failed) answers 503 and is returned.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, s Stream) error {
	rc := http.NewResponseController(w)
	// A stream lives longer than any request timeout of the listener.
	_ = rc.SetWriteDeadline(time.Time{})
	_ = rc.SetReadDeadline(time.Time{})
	c, err := h.Subscribe(s.Filter)
	if err != nil {
		w.Header().Set("Retry-After", "5")
		http.Error(w, "the live stream is not available", http.StatusServiceUnavailable)
		return err
	}
	defer c.Close()
	ctx := r.Context()
	var backlog []*Event
	if s.CatchUp != nil {
		if backlog, err = s.CatchUp(ctx, LastEventID(r)); err != nil {
			w.Header().Set("Retry-After", "5")
			http.Error(w, "the live stream is not available", http.StatusServiceUnavailable)
			return fmt.Errorf("live: catch up: %w", err)
		}
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	sent := map[string]bool{}
	fmt.Fprintf(w, "retry: %d\n\n", h.opt.Retry.Milliseconds())
	for _, ev := range backlog {
		if ev.ID != "" {
			sent[ev.ID] = true
		}
		if err := Write(w, ev); err != nil {
			return nil
		}
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	beat := time.NewTicker(h.opt.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.Done():
			return nil
		case <-beat.C:
			if s.Check != nil {
				if err := s.Check(ctx); err != nil {
					fmt.Fprint(w, "event: end\ndata: {}\n\n")
					_ = rc.Flush()
					return nil
				}
			}
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
				return nil
			}
		case ev := <-c.Events():
			if ev.ID != "" && sent[ev.ID] {
				delete(sent, ev.ID) // each id is delivered live at most once
				continue
			}
			if err := Write(w, ev); err != nil {
				return nil
			}
			// Write what else is waiting before one flush.
			for more := true; more; {
				select {
				case ev := <-c.Events():
					if ev.ID != "" && sent[ev.ID] {
						continue
					}
					if err := Write(w, ev); err != nil {
						return nil
					}
				default:
					more = false
				}
			}
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

// Write writes ev in the SSE wire format.
func Write(w io.Writer, ev *Event) error {
	var b strings.Builder
	if ev.ID != "" {
		b.WriteString("id: ")
		b.WriteString(oneLine(ev.ID))
		b.WriteByte('\n')
	}
	if ev.Type != "" {
		b.WriteString("event: ")
		b.WriteString(oneLine(ev.Type))
		b.WriteByte('\n')
	}
	data := strings.ReplaceAll(string(ev.Data), "\r\n", "\n")
	for line := range strings.SplitSeq(data, "\n") {
		b.WriteString("data: ")
		b.WriteString(strings.ReplaceAll(line, "\r", ""))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

func oneLine(s string) string {
	return strings.NewReplacer("\n", "", "\r", "").Replace(s)
}

// SeqID formats a sequence number as an event id; ParseSeqID reads one
// back (ok false for "" or anything else).
func SeqID(n int64) string { return strconv.FormatInt(n, 10) }

// ParseSeqID reads an id made by SeqID.
func ParseSeqID(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && n >= 0
}

// Accept answers what comes before a stream's authentication: CORS (see
// CORS; a preflight is answered here) and the method (GET only, else 405).
// It reports whether the request goes on.
func Accept(w http.ResponseWriter, r *http.Request, allowed func(origin string, r *http.Request) bool) bool {
	if !CORS(w, r, allowed) {
		return false
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return false
	}
	return true
}

// CORS answers the cross-origin part of an event-stream request from a
// page of another origin of the same site (the admin UI on :10181 reading
// :10180): when the request's Origin is allowed it sets the
// Access-Control-Allow-Origin/-Credentials headers and reports true. A
// request without Origin (same origin, curl) is allowed; one from another
// origin gets 403 and false. Preflights (OPTIONS) are answered here.
func CORS(w http.ResponseWriter, r *http.Request, allowed func(origin string, r *http.Request) bool) bool {
	origin := r.Header.Get("Origin")
	h := w.Header()
	h.Add("Vary", "Origin")
	if origin == "" {
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return false
		}
		return true
	}
	if !allowed(origin, r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return false
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET")
		h.Set("Access-Control-Allow-Headers", "Last-Event-ID, Cache-Control")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	return true
}
