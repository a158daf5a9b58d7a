package csc

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"esign/internal/esign"
)

var update = flag.Bool("update", false, "record the exchanges of testdata/exchanges again from a live Server")

// exchange is one recorded HTTP request and its answer.
type exchange struct {
	Method         string            `json:"method"`
	Path           string            `json:"path"`
	RequestHeader  map[string]string `json:"request_header"`
	RequestBody    string            `json:"request_body"`
	Status         int               `json:"status"`
	ResponseHeader map[string]string `json:"response_header"`
	ResponseBody   string            `json:"response_body"`
}

var (
	recordedRequestHeaders  = []string{"Authorization", "Content-Type"}
	recordedResponseHeaders = []string{"Content-Type", "Retry-After", "Www-Authenticate"}
)

func pick(h http.Header, names []string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		if v := h.Get(n); v != "" {
			m[n] = v
		}
	}
	return m
}

// recorder is a RoundTripper that keeps every exchange.
type recorder struct {
	mu  sync.Mutex
	rt  http.RoundTripper
	log []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	res, err := r.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	rb, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(rb))
	r.mu.Lock()
	r.log = append(r.log, exchange{Method: req.Method, Path: req.URL.Path, RequestHeader: pick(req.Header, recordedRequestHeaders),
		RequestBody: string(body), Status: res.StatusCode, ResponseHeader: pick(res.Header, recordedResponseHeaders), ResponseBody: string(rb)})
	r.mu.Unlock()
	return res, nil
}

// replayer answers the recorded exchanges in order, and fails the test
// when the client's request differs from the recorded one.
type replayer struct {
	tb  testing.TB
	mu  sync.Mutex
	log []exchange
	i   int
}

func (p *replayer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.i >= len(p.log) {
		p.tb.Errorf("request %d %s %s beyond the recording", p.i, r.Method, r.URL.Path)
		http.Error(w, "beyond the recording", http.StatusTeapot)
		return
	}
	x := p.log[p.i]
	p.i++
	body, _ := io.ReadAll(r.Body)
	got := exchange{Method: r.Method, Path: r.URL.Path, RequestHeader: pick(r.Header, recordedRequestHeaders), RequestBody: string(body)}
	if got.Method != x.Method || got.Path != x.Path || got.RequestBody != x.RequestBody || fmt.Sprint(got.RequestHeader) != fmt.Sprint(x.RequestHeader) {
		p.tb.Errorf("request %d differs from the recording:\n got %s %s %v %s\nwant %s %s %v %s", p.i-1,
			got.Method, got.Path, got.RequestHeader, got.RequestBody, x.Method, x.Path, x.RequestHeader, x.RequestBody)
	}
	for k, v := range x.ResponseHeader {
		w.Header().Set(k, v)
	}
	w.WriteHeader(x.Status)
	io.WriteString(w, x.ResponseBody)
}

// session is a client's conversation with the service; its outcome (the
// signature or the error's kind and code) is what the replay compares.
type session struct {
	name   string
	server func(*ServerConfig)
	before func(*Server)
	cred   string
	opts   crypto.SignerOpts
}

var sessions = []session{
	{name: "rsa-pkcs1-scal1", cred: "rsa", opts: crypto.SHA256},
	{name: "rsa-pss-scal2", cred: "rsa-scal2", opts: &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}},
	{name: "ecdsa-p384-scal1", cred: "p384", opts: crypto.SHA384},
	{name: "credential-disabled", cred: "rsa", before: func(s *Server) { s.SetEnabled("rsa", false) }, opts: crypto.SHA256},
	{name: "rate-limited", cred: "rsa", server: func(c *ServerConfig) { c.RateLimit, c.RatePer = 2, time.Minute }, opts: crypto.SHA256},
	{name: "wrong-digest", cred: "p256", before: func(s *Server) { s.SetWrongDigest(true) }, opts: crypto.SHA256},
}

// run plays the session with c: info, credentials/list, the credential's
// information and one signature.
func (s session) run(ctx context.Context, c *Client) string {
	if _, err := c.Info(ctx); err != nil {
		return "info: " + outcome(err)
	}
	if _, err := c.ListCredentials(ctx); err != nil {
		return "list: " + outcome(err)
	}
	k, err := c.Open(ctx, s.cred)
	if err != nil {
		return "open: " + outcome(err)
	}
	sig, err := k.SignContext(ctx, digestOf(s.opts.HashFunc(), "esign recorded exchange"), s.opts)
	if err != nil {
		return "sign: " + outcome(err)
	}
	return "signature " + b64(sig)
}

func outcome(err error) string {
	var e *esign.Error
	code := ""
	if asEsign(err, &e) {
		code = e.Code
	}
	return fmt.Sprintf("%v %s retry=%v", esign.ErrorKind(err), code, esign.ErrorRetryAfter(err).Round(time.Minute))
}

type recording struct {
	Outcome   string     `json:"outcome"`
	Exchanges []exchange `json:"exchanges"`
}

// TestRecordedExchanges replays recorded sessions with the server against
// the client: the client must send the same bytes and reach the same
// outcome from fixed, spec-shaped answers (go test -run
// TestRecordedExchanges -update records them again).
func TestRecordedExchanges(t *testing.T) {
	ctx := context.Background()
	for _, s := range sessions {
		t.Run(s.name, func(t *testing.T) {
			file := filepath.Join("testdata", "exchanges", s.name+".json")
			if *update {
				srv, hs := testServer(t, s.server)
				if s.before != nil {
					s.before(srv)
				}
				rec := &recorder{rt: http.DefaultTransport}
				c := testClient(t, hs.URL, func(c *ClientConfig) { c.HTTP = &http.Client{Transport: rec} })
				out := recording{Outcome: s.run(ctx, c), Exchanges: rec.log}
				b, _ := json.MarshalIndent(out, "", "  ")
				os.MkdirAll(filepath.Dir(file), 0o755)
				if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var rec recording
			if err := json.Unmarshal(b, &rec); err != nil {
				t.Fatal(err)
			}
			p := &replayer{tb: t, log: rec.Exchanges}
			hs := httptest.NewServer(p)
			defer hs.Close()
			c := testClient(t, hs.URL, nil)
			if got := s.run(ctx, c); got != rec.Outcome {
				t.Errorf("outcome %q, recorded %q", got, rec.Outcome)
			}
			if p.i != len(p.log) {
				t.Errorf("%d of %d recorded requests made", p.i, len(p.log))
			}
		})
	}
}

// FuzzParse: the parsers of the service's answers never panic, and what
// they accept is what the client relies on.
func FuzzParse(f *testing.F) {
	for _, s := range sessions {
		b, err := os.ReadFile(filepath.Join("testdata", "exchanges", s.name+".json"))
		if err != nil {
			continue
		}
		var rec recording
		json.Unmarshal(b, &rec)
		for _, x := range rec.Exchanges {
			f.Add([]byte(x.ResponseBody))
		}
	}
	f.Add([]byte(`{"signatures":["AAAA"]}`))
	f.Add([]byte(`{"error":"invalid_request","error_description":"x"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var info InfoResponse
		_ = parseInfo(body, &info)
		var tok TokenResponse
		if parseToken(body, &tok) == nil && (tok.AccessToken == "" || bytes.ContainsAny([]byte(tok.AccessToken), "\r\n")) {
			t.Fatal("accepted a token that is no header value")
		}
		if sigs, err := parseSignHash(body, 1); err == nil && (len(sigs) != 1 || len(sigs[0]) == 0) {
			t.Fatal("accepted a signHash answer without one signature")
		}
		e := parseError(body)
		if len(e.Error) > 200 || len(e.Description) > 200 {
			t.Fatal("error text not cut")
		}
		var ci CredentialInfo
		if decodeStrict(body, &ci) == nil {
			if chain, err := parseChain(&ci); err == nil && len(chain) == 0 {
				t.Fatal("empty chain accepted")
			}
		}
		var ar AuthorizeResponse
		_ = decodeStrict(body, &ar)
	})
}
