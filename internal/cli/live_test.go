package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"esign/internal/demo"
	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/live"
	"esign/internal/live/livetest"
	"esign/internal/operators"
	"esign/internal/pdf/pdftest"
	"esign/internal/sqlstore"
)

// operatorSession signs an operator of the role in by storing a session
// for it (as the sign-in with the second factor does) in the sessions
// store of env (Redis when env sets it, else the database), and returns
// the session cookie's value.
func operatorSession(t testing.TB, env []string, db *sqlstore.DB, username, role string) string {
	t.Helper()
	u := &esign.User{Username: username, Name: username, PasswordHash: "unused: signed in by the test"}
	if err := db.InTx(t.Context(), func(tx *sqlstore.Tx) error {
		if err := tx.CreateUser(t.Context(), u); err != nil {
			return err
		}
		return tx.AssignRole(t.Context(), u.ID, role)
	}); err != nil {
		t.Fatal(err)
	}
	token := operators.TokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(rand.Text()+rand.Text()))
	sum := sha256.Sum256([]byte(token))
	now := time.Now()
	s := operators.Session{TokenHash: hex.EncodeToString(sum[:]), UserID: u.ID, Stage: operators.StageFull,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	var store operators.SessionStore = &operators.DBSessions{DB: db}
	cfg, err := loadConfig(Env{Environ: env}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "ESIGN_REDIS_URL="); ok {
			opts, err := redis.ParseURL(v)
			if err != nil {
				t.Fatal(err)
			}
			rdb := redis.NewClient(opts)
			t.Cleanup(func() { rdb.Close() })
			store = &operators.RedisSessions{RDB: rdb, Prefix: operatorSessionPrefix(cfg)}
		}
	}
	if err := store.CreateSession(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	return token
}

// productionDB opens the PostgreSQL database of a production environment
// until the test ends.
func productionDB(t testing.TB, env []string) *sqlstore.DB {
	t.Helper()
	var dsn string
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "ESIGN_DATABASE_URL="); ok {
			dsn = v
		}
	}
	db, err := sqlstore.Open(context.Background(), sqlstore.Config{Driver: "postgres", DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openLive opens the feed of the realtime listener at rt as a page of the
// admin UI at admin would (its Origin, the session cookie).
func openLive(t testing.TB, rt, admin, token, lastID string) *livetest.Stream {
	t.Helper()
	return livetest.Open(t, nil, "http://"+rt+"/events", "http://"+admin, lastID, &http.Cookie{Name: "esign_admin", Value: token})
}

// liveEntry is a feed entry as the pages receive it.
type liveEntry struct {
	ID          string
	Seq         int64     `json:"seq"`
	Type        string    `json:"type"`
	OfferID     string    `json:"offerId"`
	SignatureID string    `json:"signatureId"`
	CreatedAt   time.Time `json:"createdAt"`
}

// nextEntry returns the stream's next feed entry.
func nextEntry(t testing.TB, s *livetest.Stream) liveEntry {
	t.Helper()
	ev := s.MustNext(t)
	var e liveEntry
	if err := json.Unmarshal(ev.Data, &e); err != nil {
		t.Fatalf("event data %q: %v", ev.Data, err)
	}
	e.ID = ev.ID
	return e
}

// TestLiveAcrossReplicas: two oss replicas over PostgreSQL, RabbitMQ and
// Redis. An offer uploaded through one replica reaches an operator's
// stream on the other (the feed travels over the bus), a page that
// reconnects to the first with its Last-Event-ID catches up from the
// database, and the streams refuse what they must.
func TestLiveAcrossReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two oss replicas against PostgreSQL, RabbitMQ and Redis")
	}
	amqpURL := esigntest.ServerURL(t, esigntest.AMQPURLEnv)
	pgURL := esigntest.PostgresSchemaURL(t)
	redisURL := esigntest.ServerURL(t, esigntest.RedisURLEnv)
	creds := "bank:" + rand.Text()
	env := append(testEnviron(t.TempDir()), "ESIGN_DATABASE_DRIVER=postgres", "ESIGN_DATABASE_URL="+pgURL, testKeys,
		"ESIGN_BUS_AMQP_URL="+amqpURL, "ESIGN_BUS_NAMESPACE="+testBusNamespace(t, amqpURL), "ESIGN_REDIS_URL="+redisURL,
		"ESIGN_WEBHOOK_OFFER_UPLOAD="+creds, "ESIGN_WEBHOOK_CUSTOMER_BOOTSTRAP="+creds)
	if code, _, errs := run(t, t.Context(), env, nil, "migrate", "up"); code != 0 {
		t.Fatalf("migrate up: %s", errs)
	}
	a := startProcess(t, "oss", env)
	b := startProcess(t, "oss", env)
	db, err := sqlstore.Open(t.Context(), sqlstore.Config{Driver: "postgres", DSN: pgURL})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	token := operatorSession(t, env, db, "live-operator", esign.RoleOperator)

	// Refusals: no session, another origin (replica a's admin UI is
	// another port than b's own).
	for _, tc := range []struct {
		name, admin, token string
		want               int
	}{
		{"no-session", b["admin"], "", http.StatusUnauthorized},
		{"ended-session", b["admin"], operators.TokenPrefix + "nope", http.StatusUnauthorized},
		{"other-origin", a["admin"], token, http.StatusForbidden},
		{"not-the-admin-ui", b["mobile"], token, http.StatusForbidden},
	} {
		if s := openLive(t, b["realtime"], tc.admin, tc.token, ""); s.Resp.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, s.Resp.StatusCode, tc.want)
		}
	}

	onB := openLive(t, b["realtime"], b["admin"], token, "")
	if onB.Resp.StatusCode != 200 || onB.Resp.Header.Get("Access-Control-Allow-Origin") != "http://"+b["admin"] {
		t.Fatalf("stream on b: %d %v", onB.Resp.StatusCode, onB.Resp.Header)
	}

	// The bank's systems upload an offer through replica a.
	post := func(path string, body any) map[string]any {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", "http://"+a["webhook"]+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		user, pw, _ := strings.Cut(creds, ":")
		req.SetBasicAuth(user, pw)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s: %d %v", path, resp.StatusCode, out)
		}
		return out
	}
	ref := "live-" + strings.ToLower(rand.Text()[:8])
	post("/customer/bootstrap", map[string]string{"customer_ref": ref, "name": "Kovács Anna", "phone": "+36301234567"})
	up := post("/offer/upload", map[string]any{"customer_ref": ref, "title": "Personal loan",
		"expires_at": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339),
		"documents":  []map[string]string{{"name": "loan.pdf", "content_base64": base64.StdEncoding.EncodeToString(pdftest.Minimal(1))}}})
	offerID, _ := up["offer_id"].(string)

	got := nextEntry(t, onB)
	if got.Type != "offer.uploaded" || got.OfferID != offerID || got.ID == "" {
		t.Fatalf("replica b's stream got %+v, want the upload of %s on replica a", got, offerID)
	}

	// A page that lost its connection before the upload reconnects to
	// replica a with the id it had: the upload comes from the database.
	onA := openLive(t, a["realtime"], a["admin"], token, live.SeqID(got.Seq-1))
	if again := nextEntry(t, onA); again.Seq != got.Seq || again.OfferID != offerID {
		t.Fatalf("caught up %+v, want entry %d", again, got.Seq)
	}
}

// arrival is a feed entry with the time it reached the stream's reader.
type arrival struct {
	liveEntry
	at time.Time
}

// follow reads the stream's entries into a channel, stamped on arrival,
// until the stream ends.
func follow(s *livetest.Stream) <-chan arrival {
	ch := make(chan arrival, 256)
	go func() {
		defer close(ch)
		for {
			ev, ok := s.Next()
			if !ok {
				return
			}
			a := arrival{at: time.Now()}
			if json.Unmarshal(ev.Data, &a.liveEntry) == nil {
				ch <- a
			}
		}
	}()
	return ch
}

// BenchmarkSealedEvent measures, per signing by the reference device
// client (esign demo), the time from the M2's verdict (the
// signature.verified entry, written in M2's transaction) to the
// contract.sealed entry reaching an operator's event stream: the seal job
// (TSA, pdfservice), its commit, the bus, the realtime listener; and to
// the "completed" state reaching the customer's waiting-page stream on
// css's realtime listener (css's RPC client and hub, from the same bus
// event): the customer signs in to css once the signature exists (M1) and
// follows it as the waiting page does. Reported as p50/p99 in ms, the
// verdict's own way to the operator's stream (commit → bus → stream), and
// how many signings were sealed before the page's stream was open
// (page-missed: no sample).
//
//	go test ./internal/cli -run '^$' -bench BenchmarkSealedEvent -benchtime 20x
func BenchmarkSealedEvent(b *testing.B) {
	b.Run("embedded", func(b *testing.B) {
		dir := b.TempDir()
		env := demoEnviron(b, dir, "ESIGN_TSA_ACCURACY=10ms", demoAuthFailures, webLogins)
		addrs := startProcess(b, "all", env)
		db, err := sqlstore.Open(context.Background(), sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(dir, "esign.db")})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		token := operatorSession(b, env, db, "bench-operator", esign.RoleOperator)
		out := b.TempDir()
		cred, err := readCredentials(filepath.Join(dir, demoCredentialsFile))
		if err != nil {
			b.Fatal(err)
		}
		_, pw, _ := strings.Cut(cred, ":")
		pg := &pageFollower{css: addrs, db: db, webhookPW: pw}
		benchSealed(b, addrs, env, token, pg, func(ref string) []string { return demoFlags(addrs, "--customer-ref", ref, "--out", out) })
	})
	b.Run("production", func(b *testing.B) {
		p := startProduction(b)
		p.env = append(p.env, demoAuthFailures, webLogins)
		oss := startProcess(b, "oss", p.env)
		startProcess(b, "pdfservice", p.env)
		css := startProcess(b, "css", p.env)
		db := productionDB(b, p.env)
		token := operatorSession(b, p.env, db, "bench-operator", esign.RoleOperator)
		cred, err := readCredentials(p.credFile)
		if err != nil {
			b.Fatal(err)
		}
		_, pw, _ := strings.Cut(cred, ":")
		pg := &pageFollower{css: css, db: db, webhookPW: pw}
		benchSealed(b, oss, p.env, token, pg, func(ref string) []string {
			return demoFlags(oss, "--webhook-credentials", p.credFile, "--customer-ref", ref, "--out", p.dir)
		})
	})
}

// benchSealed signs with esign demo (demoArgs: its flags for a customer
// reference; each signing has a customer of its own, whose phone's SMS
// limit is fresh) while it follows the stream.
// demoAuthFailures lifts the webhook's limit of failed authentications
// per address: each esign demo run makes one (its probe of the inbox API),
// and in production the count is in Redis, shared by every test.
const demoAuthFailures = "ESIGN_WEBHOOK_AUTH_FAILURES_PER_IP_PER_10MIN=100000"

func benchSealed(b *testing.B, addrs map[string]string, env []string, token string, pg *pageFollower, demoArgs func(ref string) []string) {
	s := openLive(b, addrs["realtime"], addrs["admin"], token, "")
	if s.Resp.StatusCode != 200 {
		b.Fatalf("stream: %d", s.Resp.StatusCode)
	}
	events := follow(s)
	var sealed, verdict, page []time.Duration
	missed := 0
	for b.Loop() {
		ref := "esign-bench-" + strings.ToLower(rand.Text()[:10])
		signed := make(chan string, 1)
		go func() {
			code, out, errs := run(b, context.Background(), env, nil, demoArgs(ref)...)
			signed <- fmt.Sprintf("exit %d\n%s\n%s", code, out, errs)
		}()
		pageAt := pg.follow(b, ref, signed)
		if r := <-signed; !strings.HasPrefix(r, "exit 0") {
			b.Fatalf("esign demo: %s", r)
		}
		var verified arrival
		for done := false; !done; {
			select {
			case a, ok := <-events:
				if !ok {
					b.Fatal("the stream ended")
				}
				switch a.Type {
				case "signature.verified":
					verified = a
				case "contract.sealed":
					if verified.OfferID != a.OfferID {
						b.Fatalf("sealed %s without its verdict", a.OfferID)
					}
					sealed = append(sealed, a.at.Sub(verified.CreatedAt))
					verdict = append(verdict, verified.at.Sub(verified.CreatedAt))
					done = true
				}
			case <-time.After(30 * time.Second):
				b.Fatal("no contract.sealed on the stream")
			}
		}
		select {
		case at := <-pageAt:
			if at.IsZero() {
				missed++
			} else {
				page = append(page, at.Sub(verified.CreatedAt))
			}
		case <-time.After(30 * time.Second):
			b.Fatal("the completed state did not reach the customer's stream")
		}
	}
	pct := func(ds []time.Duration, p float64) float64 {
		ds = slices.Clone(ds)
		slices.Sort(ds)
		return float64(ds[min(len(ds)-1, int(float64(len(ds))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(sealed, .5), "sealed-p50-ms")
	b.ReportMetric(pct(sealed, .99), "sealed-p99-ms")
	b.ReportMetric(pct(verdict, .5), "verified-p50-ms")
	b.ReportMetric(pct(verdict, .99), "verified-p99-ms")
	if len(page) > 0 {
		b.ReportMetric(pct(page, .5), "page-p50-ms")
		b.ReportMetric(pct(page, .99), "page-p99-ms")
	}
	b.ReportMetric(float64(missed), "page-missed")
}

// webLogins lifts the limit of credential checks per client address: the
// benchmark signs a customer in to css for every signing, all from
// 127.0.0.1.
const webLogins = "ESIGN_MOBILE_LOGIN_PER_APP_PER_10MIN=100000"

// pageFollower follows a signing on css's customer realtime listener as
// the waiting page does.
type pageFollower struct {
	css       map[string]string // css's listeners (customer, customer_realtime)
	db        *sqlstore.DB
	webhookPW string // the demo customers' passwords derive from it
}

// follow waits for the signature of the demo customer ref (it exists from
// M1 on), signs the customer in to css and opens the signature's stream.
// The channel gets the arrival of the "completed" state as an event
// from the bus, or the zero time when the stream opened on a signature
// already completed (no sample). signed is the demo's result: when it
// ends before a signature appeared, follow fails the benchmark with it.
func (pg *pageFollower) follow(b *testing.B, ref string, signed chan string) <-chan time.Time {
	b.Helper()
	var sig *esign.Signature
	for deadline := time.Now().Add(90 * time.Second); sig == nil; time.Sleep(5 * time.Millisecond) {
		select {
		case r := <-signed:
			signed <- r
			if !strings.HasPrefix(r, "exit 0") {
				b.Fatalf("esign demo: %s", r)
			}
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("no signature of %s", ref)
		}
		cs, err := pg.db.ListCustomers(context.Background(), esign.CustomerFilter{ExternalRef: ref})
		if err != nil || len(cs) == 0 {
			continue
		}
		if gs, err := pg.db.ListSignatures(context.Background(), esign.SignatureFilter{CustomerID: cs[0].ID}); err == nil && len(gs) > 0 {
			sig = gs[0]
		}
	}
	cust := demo.CustomerFor(ref, pg.webhookPW)
	form := url.Values{"username": {cust.Username}, "password": {cust.Password}}
	req, _ := http.NewRequest("POST", "http://"+pg.css["customer"]+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "esign_customer" && c.Value != "" {
			session = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil {
		b.Fatalf("web sign-in: %d %v", resp.StatusCode, resp.Cookies())
	}
	s := livetest.Open(b, nil, "http://"+pg.css["customer_realtime"]+"/signatures/"+sig.ID+"/events", "http://"+pg.css["customer"], "", session)
	if s.Resp.StatusCode != 200 {
		b.Fatalf("the customer's stream: %d", s.Resp.StatusCode)
	}
	ch := make(chan time.Time, 1)
	go func() {
		defer s.Resp.Body.Close()
		for {
			ev, ok := s.Next()
			if !ok {
				ch <- time.Time{}
				return
			}
			at := time.Now()
			var st struct {
				Status string `json:"status"`
			}
			if json.Unmarshal(ev.Data, &st) == nil && st.Status == string(esign.SignatureCompleted) {
				if ev.ID == "" { // the state oss reported on connecting: sealed before
					at = time.Time{}
				}
				ch <- at
				return
			}
		}
	}()
	return ch
}

// TestLiveCustomerAcrossCSS: the production deployment with two css
// replicas. While the reference device client signs, the customer signs in
// to the web UI on one css replica and follows the signature on the other
// replica's realtime listener: the stream starts with the state oss
// reports over RPC, then the seal arrives over the bus.
func TestLiveCustomerAcrossCSS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the production deployment with two css replicas")
	}
	p := startProduction(t)
	p.env = append(p.env, demoAuthFailures)
	oss := startProcess(t, "oss", p.env)
	startProcess(t, "pdfservice", p.env)
	cssA := startProcess(t, "css", p.env)
	cssB := startProcess(t, "css", p.env)
	db := productionDB(t, p.env)
	credentials, err := os.ReadFile(p.credFile)
	if err != nil {
		t.Fatal(err)
	}
	_, webhookPW, _ := strings.Cut(strings.TrimSpace(string(credentials)), ":")
	ref := "esign-live-" + strings.ToLower(rand.Text()[:10])
	cust := demo.CustomerFor(ref, webhookPW)

	signed := make(chan string, 1)
	go func() {
		code, out, errs := run(t, context.Background(), p.env, nil,
			demoFlags(oss, "--webhook-credentials", p.credFile, "--customer-ref", ref, "--out", t.TempDir())...)
		signed <- fmt.Sprintf("exit %d\n%s\n%s", code, out, errs)
	}()
	// The signature exists from M1 on.
	var sig *esign.Signature
	for deadline := time.Now().Add(90 * time.Second); sig == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no signature of %s: %s", ref, <-signed)
		}
		cs, err := db.ListCustomers(t.Context(), esign.CustomerFilter{ExternalRef: ref})
		if err != nil || len(cs) == 0 {
			continue
		}
		if gs, err := db.ListSignatures(t.Context(), esign.SignatureFilter{CustomerID: cs[0].ID}); err == nil && len(gs) > 0 {
			sig = gs[0]
		}
	}

	// The customer signs in on css a …
	form := url.Values{"username": {cust.Username}, "password": {cust.Password}}
	req, _ := http.NewRequest("POST", "http://"+cssA["customer"]+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "esign_customer" && c.Value != "" {
			session = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil {
		t.Fatalf("web sign-in on css a: %d %v", resp.StatusCode, resp.Cookies())
	}
	// … and follows the signature on css b's realtime listener, from
	// css b's customer UI (another origin is refused).
	follow := func(origin string) *livetest.Stream {
		return livetest.Open(t, nil, "http://"+cssB["customer_realtime"]+"/signatures/"+sig.ID+"/events", origin, "", session)
	}
	if s := follow("http://" + cssA["customer"]); s.Resp.StatusCode != http.StatusForbidden {
		t.Errorf("css a's origin on css b's listener: %d, want 403", s.Resp.StatusCode)
	}
	stream := follow("http://" + cssB["customer"])
	if stream.Resp.StatusCode != 200 {
		t.Fatalf("stream on css b: %d", stream.Resp.StatusCode)
	}
	type status struct {
		id         string
		Status     string `json:"status"`
		ContractID string `json:"contractId"`
	}
	var seen []status
	for {
		ev, ok := stream.Next()
		if !ok {
			t.Fatalf("the stream ended after %+v", seen)
		}
		s := status{id: ev.ID}
		if err := json.Unmarshal(ev.Data, &s); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, s)
		if s.Status == string(esign.SignatureCompleted) {
			break
		}
	}
	if seen[0].id != "" {
		t.Errorf("the stream did not start with the state from oss: %+v", seen)
	}
	last := seen[len(seen)-1]
	if len(seen) < 2 || last.id == "" || last.ContractID == "" {
		t.Errorf("the seal did not arrive as an event over the bus: %+v", seen)
	}
	if r := <-signed; !strings.HasPrefix(r, "exit 0") {
		t.Fatalf("esign demo: %s", r)
	}
	if g, err := db.GetSignature(t.Context(), sig.ID); err != nil || g.Status != esign.SignatureCompleted {
		t.Errorf("signature %v %v", g, err)
	}
}
