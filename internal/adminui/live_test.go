package adminui_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/adminui"
	"esign/internal/esign"
	"esign/internal/live"
	"esign/internal/live/livetest"
	"esign/internal/operators/operatorstest"
)

// memFeed is the durable feed in memory.
type memFeed struct {
	mu sync.Mutex
	es []adminui.LiveEntry
}

func (f *memFeed) add(e adminui.LiveEntry) adminui.LiveEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	e.Seq = int64(len(f.es) + 1)
	e.CreatedAt = time.Now().UTC()
	f.es = append(f.es, e)
	return e
}

func (f *memFeed) After(_ context.Context, after int64, max int) ([]adminui.LiveEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []adminui.LiveEntry
	for _, e := range f.es {
		if e.Seq > after && (max == 0 || len(out) < max) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *memFeed) Latest(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return int64(len(f.es)), nil
}

// liveEnv is the admin UI with its live feed: pages on one server, the
// realtime listener on another (another port of the same host).
type liveEnv struct {
	*env
	hub  *live.Hub
	feed *memFeed
	rt   *httptest.Server
}

func newLiveEnv(t *testing.T) *liveEnv {
	t.Helper()
	e := operatorstest.New(t, "sqlite", nil, newEnvConfig())
	le := &liveEnv{hub: live.NewHub(live.Options{Heartbeat: 50 * time.Millisecond}), feed: &memFeed{}}
	t.Cleanup(le.hub.Close)
	mux := http.NewServeMux()
	le.rt = httptest.NewServer(mux)
	t.Cleanup(le.rt.Close)
	var admin string
	cfg := &adminui.Live{Hub: le.hub, Feed: le.feed,
		URL:         func(*http.Request) string { return le.rt.URL },
		AllowOrigin: func(origin string, _ *http.Request) bool { return origin == admin }}
	ui, err := adminui.New(e.Ops, slog.New(slog.DiscardHandler), adminui.Config{Version: "test", Live: cfg})
	if err != nil {
		t.Fatal(err)
	}
	ui.MountLive(mux)
	srv := httptest.NewServer(ui.Handler())
	t.Cleanup(srv.Close)
	admin = srv.URL
	le.env = &env{Env: e, ui: ui, srv: srv}
	return le
}

// stream opens the event stream as c's browser does from the admin page.
func (le *liveEnv) stream(t *testing.T, c *client, query, origin, lastID string) (*http.Response, *livetest.Stream) {
	t.Helper()
	var hc *http.Client
	if c != nil {
		hc = &http.Client{Jar: c.c.Jar}
	}
	s := livetest.Open(t, hc, le.rt.URL+"/events"+query, origin, lastID)
	return s.Resp, s
}

// next returns the next event as "id data", or "end".
func next(t *testing.T, s *livetest.Stream) string {
	t.Helper()
	ev := s.MustNext(t)
	if ev.Type == "end" {
		return "end"
	}
	return ev.ID + " " + string(ev.Data)
}

// TestLiveRefusals: only a signed-in operator with offer.read, from the
// admin UI's origin, may open the stream; a refusal for the permission is
// audited.
func TestLiveRefusals(t *testing.T) {
	le := newLiveEnv(t)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(le.DB.CreateRole(context.Background(), &esign.Role{Name: "clerk"}))
	op := le.signIn(t, "olga", esign.RoleOperator)
	clerk := le.signIn(t, "clara", "clerk")
	tests := []struct {
		name       string
		c          *client
		query      string
		origin     string
		wantStatus int
	}{
		{"signed-out", nil, "", le.srv.URL, http.StatusUnauthorized},
		{"other-origin", op, "", "http://evil.example", http.StatusForbidden},
		{"other-port-of-the-host", op, "", le.rt.URL, http.StatusForbidden},
		{"no-offer-read", clerk, "", le.srv.URL, http.StatusForbidden},
		{"bad-offer-id", op, "?offer=x", le.srv.URL, http.StatusBadRequest},
		{"operator", op, "", le.srv.URL, http.StatusOK},
		{"operator-same-origin-tool", op, "", "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := le.stream(t, tt.c, tt.query, tt.origin, "")
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			acao := resp.Header.Get("Access-Control-Allow-Origin")
			if tt.wantStatus == http.StatusOK && tt.origin != "" && (acao != tt.origin || resp.Header.Get("Access-Control-Allow-Credentials") != "true") {
				t.Errorf("CORS headers %q %q", acao, resp.Header.Get("Access-Control-Allow-Credentials"))
			}
			if tt.wantStatus != http.StatusOK && acao == "*" {
				t.Error("a wildcard origin")
			}
		})
	}
	logs, err := le.Ops.ListAudit(context.Background(), esign.AuditLogFilter{Action: "access.denied", ObjectID: "GET /events (realtime)"})
	if err != nil || len(logs) != 1 {
		t.Errorf("the permission refusal in the audit log: %d entries, %v", len(logs), err)
	}
}

// TestLiveStream: the stream catches up from Last-Event-ID (or ?after=),
// then delivers the hub's events, narrowed to one offer on the offer page;
// it ends when the operator loses the permission.
func TestLiveStream(t *testing.T) {
	le := newLiveEnv(t)
	op := le.signIn(t, "otto", esign.RoleOperator)
	cust := le.Customer(t, "Kovács Anna")
	a, b := le.Offer(t, cust.ID, "Loan", le.Document(t, cust.ID, "loan.pdf", []byte("%PDF-1.7")).ID).ID, esign.NewID()
	e1 := le.feed.add(adminui.LiveEntry{Type: "offer.uploaded", OfferID: a, Title: "Loan"})
	e2 := le.feed.add(adminui.LiveEntry{Type: "offer.uploaded", OfferID: b, Title: "Lease"})
	e3 := le.feed.add(adminui.LiveEntry{Type: "signature.verified", OfferID: a, Title: "Loan"})

	// The dashboard: the feed, the stream's URL from the newest entry and
	// the realtime origin in the CSP.
	resp, body := op.do("GET", "/", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `data-live="`+le.rt.URL+`/events?after=3"`) ||
		!strings.Contains(body, `data-type="signature.verified"`) {
		t.Fatalf("dashboard: %d\n%s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' "+le.rt.URL+";") {
		t.Errorf("CSP %q does not let the page connect to the realtime listener", csp)
	}
	resp, body = op.do("GET", "/offers/"+a, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `data-live="`+le.rt.URL+`/events?after=3&amp;offer=`+a+`"`) {
		t.Errorf("offer page: %d\n%s", resp.StatusCode, body)
	}

	// A reconnect with Last-Event-ID 1 catches up on 2 and 3; the
	// dashboard's stream gets everything.
	all, sc := le.stream(t, op, "?after=3", le.srv.URL, live.SeqID(e1.Seq))
	if all.StatusCode != 200 {
		t.Fatalf("status %d", all.StatusCode)
	}
	for _, want := range []adminui.LiveEntry{e2, e3} {
		if got := next(t, sc); !strings.HasPrefix(got, live.SeqID(want.Seq)+" ") || !strings.Contains(got, want.OfferID) {
			t.Fatalf("caught up %q, want entry %d", got, want.Seq)
		}
	}
	// A page rendered from an empty feed (?after=0) catches up on all.
	_, fromStart := le.stream(t, op, "?after=0&offer="+a, le.srv.URL, "")
	if got := next(t, fromStart); !strings.HasPrefix(got, live.SeqID(e1.Seq)+" ") {
		t.Fatalf("from after=0: %q, want entry %d", got, e1.Seq)
	}
	// The offer page's stream (from ?after=) hears only of its offer.
	_, one := le.stream(t, op, "?after=3&offer="+a, le.srv.URL, "")
	for le.hub.Clients() < 3 {
		time.Sleep(time.Millisecond)
	}
	e4 := le.feed.add(adminui.LiveEntry{Type: "offer.refused", OfferID: b, Title: "Lease"})
	le.hub.Publish(e4.Event())
	e5 := le.feed.add(adminui.LiveEntry{Type: "contract.sealed", OfferID: a, Title: "Loan"})
	le.hub.Publish(e5.Event())
	for _, want := range []int64{e4.Seq, e5.Seq} {
		if got := next(t, sc); !strings.HasPrefix(got, live.SeqID(want)+" ") {
			t.Fatalf("dashboard got %q, want entry %d", got, want)
		}
	}
	if got := next(t, one); !strings.HasPrefix(got, live.SeqID(e5.Seq)+" ") || !strings.Contains(got, `"type":"contract.sealed"`) {
		t.Fatalf("offer page got %q, want entry %d", got, e5.Seq)
	}

	// The role withdrawn: the next heartbeat's check ends the streams.
	u, err := le.DB.GetUserByUsername(context.Background(), "otto")
	if err != nil {
		t.Fatal(err)
	}
	if err := le.DB.UnassignRole(context.Background(), u.ID, esign.RoleOperator); err != nil {
		t.Fatal(err)
	}
	if got := next(t, sc); got != "end" {
		t.Fatalf("after the role was withdrawn: %q, want end", got)
	}
}

// TestLivePagesWithoutFeed: without a live feed the pages have no live
// section and the CSP names no other origin.
func TestLivePagesWithoutFeed(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t, "nolive", esign.RoleOperator)
	resp, body := c.do("GET", "/", nil)
	if strings.Contains(body, "data-live") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "connect-src 'self';") {
		t.Errorf("a page without a live feed: CSP %q", resp.Header.Get("Content-Security-Policy"))
	}
}
