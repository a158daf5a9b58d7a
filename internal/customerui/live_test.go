package customerui

import (
	"bufio"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/esign"
	"esign/internal/live"
	"esign/internal/live/livetest"
	"esign/internal/rpc"
	"esign/internal/signing"
)

// liveAPI is fakeAPI with the customer's signature s1 of offer o1.
type liveAPI struct {
	fakeAPI
	mu     sync.Mutex
	status esign.SignatureStatus
}

func (f *liveAPI) SignatureCheck(ctx context.Context, c rpc.Caller, id string) (*signing.Status, error) {
	if err := f.auth(c); err != nil {
		return nil, err
	}
	if id != "s1" {
		return nil, esign.WithCode("fake", esign.NotFound, "signature_not_found", "not yours")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return &signing.Status{SignatureID: "s1", OfferID: "o1", Status: f.status}, nil
}

func (f *liveAPI) set(s esign.SignatureStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status = s
}

// newLiveUI serves the pages and, on another port, the realtime listener.
func newLiveUI(t *testing.T) (f *liveAPI, hub *live.Hub, pages, rt *httptest.Server) {
	t.Helper()
	f = &liveAPI{status: esign.SignatureVerified}
	hub = live.NewHub(live.Options{Heartbeat: time.Hour})
	t.Cleanup(hub.Close)
	mux := http.NewServeMux()
	rt = httptest.NewServer(mux)
	t.Cleanup(rt.Close)
	var origin string
	u, err := New(f, slog.New(slog.DiscardHandler), Config{Live: &Live{Hub: hub,
		URL:         func(*http.Request) string { return rt.URL },
		AllowOrigin: func(o string, _ *http.Request) bool { return o == origin }}})
	if err != nil {
		t.Fatal(err)
	}
	u.MountLive(mux)
	pages = httptest.NewServer(u.Handler())
	t.Cleanup(pages.Close)
	origin = pages.URL
	return f, hub, pages, rt
}

func openStream(t *testing.T, url, token, origin string) (*http.Response, *livetest.Stream) {
	t.Helper()
	var cookies []*http.Cookie
	if token != "" {
		cookies = append(cookies, &http.Cookie{Name: sessionCookie, Value: token})
	}
	s := livetest.Open(t, nil, url, origin, "", cookies...)
	return s.Resp, s
}

// nextData returns the next event's data.
func nextData(t *testing.T, s *livetest.Stream) string {
	t.Helper()
	return string(s.MustNext(t).Data)
}

// TestLiveRefusals: only the session owning the signature, from the
// customer UI's origin, may follow it.
func TestLiveRefusals(t *testing.T) {
	_, _, pages, rt := newLiveUI(t)
	tests := []struct {
		name, sig, token, origin string
		want                     int
	}{
		{"no-session", "s1", "", pages.URL, http.StatusUnauthorized},
		{"ended-session", "s1", "ses_another", pages.URL, http.StatusUnauthorized},
		{"not-the-customers-signature", "s2", goodToken, pages.URL, http.StatusNotFound},
		{"other-origin", "s1", goodToken, "http://evil.example", http.StatusForbidden},
		{"the-realtime-origin-itself", "s1", goodToken, rt.URL, http.StatusForbidden},
		{"the-owner", "s1", goodToken, pages.URL, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := openStream(t, rt.URL+"/signatures/"+tt.sig+"/events", tt.token, tt.origin)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == http.StatusOK && resp.Header.Get("Access-Control-Allow-Origin") != pages.URL {
				t.Errorf("Allow-Origin %q", resp.Header.Get("Access-Control-Allow-Origin"))
			}
		})
	}
}

// TestLiveSealProgress: the stream starts with the state oss reports (so a
// reconnecting page misses nothing), then brings the offer's changes only.
func TestLiveSealProgress(t *testing.T) {
	f, hub, pages, rt := newLiveUI(t)
	// The waiting page names the stream and may connect to it.
	req, _ := http.NewRequest("GET", pages.URL+"/signatures/s1", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: goodToken})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	bufio.NewReader(resp.Body).WriteTo(&b)
	resp.Body.Close()
	if !strings.Contains(b.String(), `data-live="`+rt.URL+`/signatures/s1/events"`) ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "connect-src 'self' "+rt.URL+";") {
		t.Fatalf("waiting page: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), b.String())
	}

	url := rt.URL + "/signatures/s1/events"
	_, sc := openStream(t, url, goodToken, pages.URL)
	if got := nextData(t, sc); got != `{"status":"verified"}` {
		t.Fatalf("first event %q, want the current state", got)
	}
	for hub.Clients() == 0 {
		time.Sleep(time.Millisecond)
	}
	hub.Publish(StatusEvent("7", "o2", "c2", LiveStatus{Status: esign.SignatureCompleted, ContractID: "k2"}))
	hub.Publish(StatusEvent("8", "o1", "c1", LiveStatus{Status: esign.SignatureCompleted, ContractID: "k1"}))
	if got := nextData(t, sc); got != `{"status":"completed","contractId":"k1"}` {
		t.Fatalf("got %q, want the seal of o1 only", got)
	}

	// A page that reconnects after the seal hears of it at once.
	f.set(esign.SignatureCompleted)
	_, sc = openStream(t, url, goodToken, pages.URL)
	if got := nextData(t, sc); got != `{"status":"completed"}` {
		t.Fatalf("after a reconnect: %q", got)
	}
}
