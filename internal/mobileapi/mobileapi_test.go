package mobileapi

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/httpkit"
	"esign/internal/notify"
)

// client talks to the real handler over HTTP and checks every response
// against the OpenAPI document.
type client struct {
	t   testing.TB
	url string
	doc *doc
	env *customerstest.Env
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		tb.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

func (r resp) code() string {
	var e struct {
		Error struct{ Code, Kind string }
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code
}

// attemptsLeft returns the error's attemptsLeft, or -1 without one.
func (r resp) attemptsLeft() int {
	var e struct {
		Error struct {
			AttemptsLeft *int `json:"attemptsLeft"`
		}
	}
	if json.Unmarshal(r.body, &e) != nil || e.Error.AttemptsLeft == nil {
		return -1
	}
	return *e.Error.AttemptsLeft
}

// do sends body (a string is sent as is, anything else as JSON).
func (c *client) do(method, path, token string, body any) resp {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	c.doc.checkResponse(c.t, method, path, res.StatusCode, res.Header.Get("Content-Type"), data)
	return resp{status: res.StatusCode, header: res.Header, body: data}
}

// with returns the client for a subtest.
func (c *client) with(t testing.TB) *client {
	cc := *c
	cc.t = t
	return &cc
}

func (c *client) want(r resp, status int, code string) {
	c.t.Helper()
	if r.status != status || r.code() != code {
		c.t.Fatalf("got %d %s, want %d with code %q", r.status, r.body, status, code)
	}
}

type setup struct {
	name     string
	driver   string
	sessions func(tb testing.TB) customers.SessionStore
}

// setups: the embedded deployment (SQLite, sessions in the database) and
// the production one (PostgreSQL, sessions in Redis).
var setups = []setup{
	{"sqlite", "sqlite", nil},
	{"postgres_redis", "postgres", redisSessions},
}

func redisSessions(tb testing.TB) customers.SessionStore {
	u := esigntest.ServerURL(tb, esigntest.RedisURLEnv)
	opts, err := redis.ParseURL(u)
	if err != nil {
		tb.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	tb.Cleanup(func() { rdb.Close() })
	return &customers.RedisSessions{RDB: rdb, Prefix: "esign:test:" + rand.Text() + ":"}
}

func newClient(t *testing.T, s setup, tsa customers.Timestamper) *client {
	t.Helper()
	if s.driver == "postgres" {
		esigntest.ServerURL(t, esigntest.PostgresURLEnv)
	}
	var sessions customers.SessionStore
	if s.sessions != nil {
		sessions = s.sessions(t)
	}
	env := customerstest.New(t, customerstest.OpenDB(t, s.driver), sessions, customers.Config{}, tsa)
	srv := httptest.NewServer(New(env.Svc, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	return &client{t: t, url: srv.URL, doc: loadDoc(t), env: env}
}

func eachSetup(t *testing.T, fn func(t *testing.T, c *client)) {
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) { fn(t, newClient(t, s, nil)) })
	}
}

// account is a customer with an associated device and credentials.
type account struct {
	customer    *esign.Customer
	deviceToken string
	username    string
	password    string
}

func (c *client) register() string {
	c.t.Helper()
	r := c.do("POST", "/api/app/register", "", map[string]string{"deviceId": "350000000000001", "os": "android",
		"osVersion": "15", "model": "Pixel", "fcmToken": "fcm-" + rand.Text()})
	c.want(r, 201, "")
	return r.json(c.t)["deviceToken"].(string)
}

func (c *client) associate(dev string, cust *esign.Customer) {
	c.t.Helper()
	if err := c.env.Svc.SendAssociationCode(c.t.Context(), cust.ID); err != nil {
		c.t.Fatal(err)
	}
	code := c.env.Queue.Last(c.t, notify.DeviceAssociationCode).Params.Code
	r := c.do("POST", "/api/app/associate", dev, map[string]string{"phone": cust.Phone, "token": code})
	c.want(r, 200, "")
}

func (c *client) account(name string, approve bool) *account {
	c.t.Helper()
	cust := c.env.Customer(c.t, name)
	dev := c.register()
	c.associate(dev, cust)
	a := &account{customer: cust, deviceToken: dev, username: "user" + strings.ToLower(rand.Text()[:8]), password: "Secret-pass-123"}
	c.want(c.do("POST", "/api/customer/create", dev, map[string]string{"username": a.username, "password": a.password}), 201, "")
	if approve {
		c.env.Approve(c.t, cust)
	}
	return a
}

func (c *client) login(a *account) string {
	c.t.Helper()
	r := c.do("POST", "/api/customer/login", a.deviceToken, map[string]string{"username": a.username, "password": a.password})
	c.want(r, 200, "")
	return r.json(c.t)["sessionToken"].(string)
}

func TestFlow(t *testing.T) {
	eachSetup(t, func(t *testing.T, c *client) {
		cust := c.env.Customer(t, "Kovács Éva")
		dev := c.register()
		c.associate(dev, cust)
		c.want(c.do("POST", "/api/app/update-refresh-token", dev, map[string]string{"fcmToken": "fcm-new"}), 204, "")
		c.want(c.do("POST", "/api/customer/check-username", dev, map[string]string{"username": "eva.kovacs"}), 200, "")
		c.want(c.do("POST", "/api/customer/check-password", dev, map[string]string{"password": "Secret-pass-123"}), 200, "")
		c.want(c.do("POST", "/api/customer/create", dev, map[string]string{"username": "eva.kovacs", "password": "Secret-pass-123"}), 201, "")
		c.want(c.do("POST", "/api/customer/create", dev, map[string]string{"username": "eva.other", "password": "Secret-pass-123"}), 409, "already_created")
		c.want(c.do("POST", "/api/customer/check-username", dev, map[string]string{"username": "eva.kovacs"}), 409, "unavailable")

		r := c.do("POST", "/api/customer/login", dev, map[string]string{"username": "eva.kovacs", "password": "Secret-pass-123"})
		c.want(r, 200, "")
		if r.json(t)["customer"].(map[string]any)["approved"] != false {
			t.Fatalf("pending customer reported approved: %s", r.body)
		}
		sess := r.json(t)["sessionToken"].(string)

		pdf := []byte("%PDF-1.7 loan agreement " + rand.Text())
		d := c.env.Document(t, cust.ID, "loan.pdf", pdf)
		o := c.env.Offer(t, cust.ID, "Loan", d.ID)
		// Not approved yet: no offers.
		r = c.do("GET", "/api/offers", sess, nil)
		c.want(r, 200, "")
		if n := len(r.json(t)["offers"].([]any)); n != 0 {
			t.Fatalf("pending customer sees %d offers", n)
		}
		c.want(c.do("GET", "/api/offer/"+o.ID, sess, nil), 404, "")

		c.env.Approve(t, cust)
		if c.env.Queue.Last(t, notify.RegistrationApproved).To != "fcm-new" {
			t.Fatal("approval push not sent to the app's current token")
		}
		r = c.do("GET", "/api/offers", sess, nil)
		c.want(r, 200, "")
		if offers := r.json(t)["offers"].([]any); len(offers) != 1 || offers[0].(map[string]any)["id"] != o.ID {
			t.Fatalf("offers: %s", r.body)
		}
		r = c.do("GET", "/api/offer/"+o.ID, sess, nil)
		c.want(r, 200, "")
		got := r.json(t)
		if got["state"] != "opened" || len(got["documents"].([]any)) != 1 {
			t.Fatalf("offer: %s", r.body)
		}

		r = c.do("GET", "/api/document/"+d.ID, sess, nil)
		c.want(r, 200, "")
		sum := sha256.Sum256(pdf)
		if r.header.Get("Repr-Digest") != "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":" {
			t.Fatalf("Repr-Digest %q", r.header.Get("Repr-Digest"))
		}
		if !bytes.Equal(r.body, pdf) || r.header.Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("document: %q (%s)", r.body, r.header.Get("Content-Type"))
		}
		r = c.do("POST", "/api/document/"+d.ID+"/mark-as-read", sess, nil)
		c.want(r, 200, "")
		if r.json(t)["readAt"] == nil {
			t.Fatalf("mark-as-read: %s", r.body)
		}

		r = c.do("POST", "/api/offer/"+o.ID+"/refuse", sess, map[string]string{"reason": "too expensive"})
		c.want(r, 200, "")
		if r.json(t)["state"] != "refused" {
			t.Fatalf("refuse: %s", r.body)
		}
		c.want(c.do("POST", "/api/offer/"+o.ID+"/refuse", sess, nil), 400, "offer_state")

		cd := c.env.Document(t, cust.ID, "contract.pdf", []byte("%PDF signed"))
		k := c.env.Contract(t, cust.ID, "Account", cd.ID)
		r = c.do("GET", "/api/contracts", sess, nil)
		c.want(r, 200, "")
		if n := len(r.json(t)["contracts"].([]any)); n != 1 {
			t.Fatalf("contracts: %s", r.body)
		}
		r = c.do("GET", "/api/contract/"+k.ID, sess, nil)
		c.want(r, 200, "")
		if len(r.json(t)["documents"].([]any)) != 1 {
			t.Fatalf("contract: %s", r.body)
		}
		c.want(c.do("GET", "/api/document/"+cd.ID, sess, nil), 200, "")
		for _, m := range []string{"GET", "POST"} {
			r = c.do(m, "/api/contract/"+k.ID+"/acknowledge", sess, nil)
			c.want(r, 200, "")
			if r.json(t)["status"] != "acknowledged" {
				t.Fatalf("acknowledge: %s", r.body)
			}
		}
		c.want(c.do("POST", "/api/client-error", dev, map[string]string{"message": "NullPointerException", "stack": "at x"}), 204, "")
		logs, err := c.env.DB.ListClientErrorLogs(t.Context(), esign.ClientErrorLogFilter{CustomerID: cust.ID})
		if err != nil || len(logs) != 1 || logs[0].Source != "app" {
			t.Fatalf("client error logs %v, %v", logs, err)
		}

		// Every action left an activity row.
		acts, err := c.env.DB.ListActivities(t.Context(), esign.ActivityFilter{CustomerID: cust.ID})
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]bool{}
		for _, a := range acts {
			kinds[a.Kind] = true
		}
		for _, k := range []string{"app.associated", "customer.created", "customer.login", "customer.approved", "offer.opened",
			"document.downloaded", "document.read", "offer.refused", "contract.acknowledged"} {
			if !kinds[k] {
				t.Errorf("no %s activity (have %v)", k, kinds)
			}
		}

		c.want(c.do("POST", "/api/customer/logout", sess, nil), 204, "")
		c.want(c.do("GET", "/api/offers", sess, nil), 401, "invalid_token")
		c.want(c.do("POST", "/api/app/remove-account", dev, nil), 204, "")
		c.want(c.do("POST", "/api/customer/login", dev, map[string]string{"username": "eva.kovacs", "password": "Secret-pass-123"}), 401, "invalid_token")
	})
}

func TestWrongOwner(t *testing.T) {
	eachSetup(t, func(t *testing.T, c *client) {
		a := c.account("Alice", true)
		b := c.account("Bob", true)
		sa := c.login(a)
		bd := c.env.Document(t, b.customer.ID, "b.pdf", []byte("%PDF b"))
		bo := c.env.Offer(t, b.customer.ID, "B's loan", bd.ID)
		bkd := c.env.Document(t, b.customer.ID, "bk.pdf", []byte("%PDF bk"))
		bk := c.env.Contract(t, b.customer.ID, "B's contract", bkd.ID)
		// A document of A's that is in no offer or contract is not reachable either.
		loose := c.env.Document(t, a.customer.ID, "loose.pdf", []byte("%PDF loose"))
		tests := []struct{ method, path string }{
			{"GET", "/api/offer/" + bo.ID},
			{"POST", "/api/offer/" + bo.ID + "/refuse"},
			{"GET", "/api/contract/" + bk.ID},
			{"GET", "/api/contract/" + bk.ID + "/acknowledge"},
			{"GET", "/api/document/" + bd.ID},
			{"POST", "/api/document/" + bd.ID + "/mark-as-read"},
			{"GET", "/api/document/" + bkd.ID},
			{"GET", "/api/document/" + loose.ID},
			{"GET", "/api/offer/" + esign.NewID()},
			{"GET", "/api/offer/not-a-uuid"},
			{"GET", "/api/document/..%2f..%2fetc%2fpasswd"},
		}
		for _, tt := range tests {
			t.Run(strings.ReplaceAll(tt.path[5:], "/", "_"), func(t *testing.T) {
				c := c.with(t)
				c.want(c.do(tt.method, tt.path, sa, nil), 404, "")
			})
		}
		// Nothing of B's changed.
		o, _ := c.env.DB.GetOffer(t.Context(), bo.ID)
		k, _ := c.env.DB.GetContract(t.Context(), bk.ID)
		d, _ := c.env.DB.GetDocument(t.Context(), bd.ID)
		if o.State != esign.OfferNotified || k.Status != esign.ContractActive || !d.ReadAt.IsZero() {
			t.Fatalf("another customer's objects changed: %v %v %v", o.State, k.Status, d.ReadAt)
		}
	})
}

func TestTokens(t *testing.T) {
	eachSetup(t, func(t *testing.T, c *client) {
		a := c.account("Carol", true)
		sess := c.login(a)
		t.Run("missing_and_malformed", func(t *testing.T) {
			c := c.with(t)
			c.want(c.do("GET", "/api/offers", "", nil), 401, "missing_token")
			for _, tok := range []string{"garbage", "ess_" + strings.Repeat("A", 43), "esd_" + strings.Repeat("A", 43), a.deviceToken} {
				c.want(c.do("GET", "/api/offers", tok, nil), 401, "invalid_token")
			}
			c.want(c.do("POST", "/api/customer/login", sess, map[string]string{"username": a.username, "password": a.password}), 401, "invalid_token")
		})
		t.Run("new_login_revokes_the_previous_session", func(t *testing.T) {
			c := c.with(t)
			second := c.login(a)
			c.want(c.do("GET", "/api/offers", sess, nil), 401, "invalid_token")
			c.want(c.do("GET", "/api/offers", second, nil), 200, "")
			sess = second
		})
		t.Run("other_device_keeps_its_session", func(t *testing.T) {
			c := c.with(t)
			dev2 := c.register()
			c.associate(dev2, a.customer)
			s2 := c.login(&account{customer: a.customer, deviceToken: dev2, username: a.username, password: a.password})
			c.want(c.do("GET", "/api/offers", sess, nil), 200, "")
			c.want(c.do("GET", "/api/offers", s2, nil), 200, "")
		})
		t.Run("idle_expiry", func(t *testing.T) {
			c := c.with(t)
			c.env.Clock.Advance(14 * time.Minute)
			c.want(c.do("GET", "/api/offers", sess, nil), 200, "")
			c.env.Clock.Advance(14 * time.Minute) // used 14 min ago: still alive
			c.want(c.do("GET", "/api/offers", sess, nil), 200, "")
			c.env.Clock.Advance(15 * time.Minute)
			c.want(c.do("GET", "/api/offers", sess, nil), 401, "invalid_token")
		})
		t.Run("absolute_expiry", func(t *testing.T) {
			c := c.with(t)
			s := c.login(a)
			for range 12 * 6 {
				c.env.Clock.Advance(10 * time.Minute)
				if r := c.do("GET", "/api/offers", s, nil); r.status != 200 {
					break
				}
			}
			c.want(c.do("GET", "/api/offers", s, nil), 401, "invalid_token")
		})
		t.Run("remove_account_revokes_everything", func(t *testing.T) {
			c := c.with(t)
			s := c.login(a)
			c.want(c.do("POST", "/api/app/remove-account", a.deviceToken, nil), 204, "")
			c.want(c.do("GET", "/api/offers", s, nil), 401, "invalid_token")
			c.want(c.do("POST", "/api/app/update-refresh-token", a.deviceToken, map[string]string{"fcmToken": "x"}), 401, "invalid_token")
		})
		t.Run("blocked_customer", func(t *testing.T) {
			c := c.with(t)
			b := c.account("Dave", true)
			s := c.login(b)
			st := esign.CustomerBlocked
			if _, err := c.env.DB.UpdateCustomer(t.Context(), b.customer.ID, esign.CustomerUpdate{Status: &st}); err != nil {
				t.Fatal(err)
			}
			c.want(c.do("GET", "/api/offers", s, nil), 401, "invalid_token")
			c.want(c.do("POST", "/api/customer/login", b.deviceToken, map[string]string{"username": b.username, "password": b.password}), 401, "invalid_credentials")
		})
	})
}

func TestBruteForce(t *testing.T) {
	eachSetup(t, func(t *testing.T, c *client) {
		a := c.account("Erika", true)
		login := func(pw string) resp {
			return c.do("POST", "/api/customer/login", a.deviceToken, map[string]string{"username": a.username, "password": pw})
		}
		unknown := c.do("POST", "/api/customer/login", a.deviceToken, map[string]string{"username": "nobody-here", "password": a.password})
		c.want(unknown, 401, "invalid_credentials")
		for range 10 {
			c.want(login("Wrong-pass-999"), 401, "invalid_credentials")
		}
		locked := login(a.password)
		c.want(locked, 401, "invalid_credentials")
		// Locked, unknown and wrong look the same apart from the error id.
		msg := func(r resp) string { return r.json(t)["error"].(map[string]any)["message"].(string) }
		if msg(locked) != msg(unknown) {
			t.Fatalf("locked %q and unknown %q differ", msg(locked), msg(unknown))
		}
		c.env.Clock.Advance(30 * time.Minute)
		c.want(login(a.password), 200, "")

		// Association codes: the fifth wrong code kills the challenge.
		cust := c.env.Customer(t, "Ferenc")
		dev := c.register()
		if err := c.env.Svc.SendAssociationCode(t.Context(), cust.ID); err != nil {
			t.Fatal(err)
		}
		code := c.env.Queue.Last(t, notify.DeviceAssociationCode).Params.Code
		bad := "000000"
		if code == bad {
			bad = "111111"
		}
		for range 5 {
			c.want(c.do("POST", "/api/app/associate", dev, map[string]string{"phone": cust.Phone, "token": bad}), 400, "invalid_code")
		}
		c.want(c.do("POST", "/api/app/associate", dev, map[string]string{"phone": cust.Phone, "token": code}), 400, "invalid_code")
	})
}

func TestValidation(t *testing.T) {
	c := newClient(t, setups[0], nil)
	a := c.account("Gizella", false)
	dev := c.register()
	c.associate(dev, c.env.Customer(t, "Henrik"))
	tests := []struct {
		name, path string
		body       any
		status     int
		code       string
	}{
		{"username_too_short", "/api/customer/check-username", map[string]string{"username": "abc"}, 400, "too_short"},
		{"username_too_long", "/api/customer/check-username", map[string]string{"username": strings.Repeat("a", 65)}, 400, "too_long"},
		{"username_pattern", "/api/customer/check-username", map[string]string{"username": "a b c d"}, 400, "pattern_mismatch"},
		{"username_unavailable", "/api/customer/check-username", map[string]string{"username": a.username}, 409, "unavailable"},
		{"username_ok", "/api/customer/check-username", map[string]string{"username": "free.name"}, 200, ""},
		{"password_too_short", "/api/customer/check-password", map[string]string{"password": "Ab1"}, 400, "too_short"},
		{"password_too_long", "/api/customer/check-password", map[string]string{"password": "Ab1" + strings.Repeat("x", 200)}, 400, "too_long"},
		{"password_pattern", "/api/customer/check-password", map[string]string{"password": "alllowercase1"}, 400, "pattern_mismatch"},
		{"create_taken_username", "/api/customer/create", map[string]string{"username": a.username, "password": "Secret-pass-123"}, 409, "unavailable"},
		{"create_weak_password", "/api/customer/create", map[string]string{"username": "henrik", "password": "weak"}, 400, "too_short"},
		{"create_bad_username", "/api/customer/create", map[string]string{"username": "x", "password": "Secret-pass-123"}, 400, "too_short"},
		{"update_token_missing", "/api/app/update-refresh-token", map[string]string{}, 400, "missing_field"},
		{"associate_missing", "/api/app/associate", map[string]string{"phone": "+36301234567"}, 400, "missing_field"},
		{"client_error_missing", "/api/client-error", map[string]string{"stack": "x"}, 400, "missing_field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := c.with(t)
			c.want(c.do("POST", tt.path, dev, tt.body), tt.status, tt.code)
		})
	}
	// Nothing was stored by the refused creates.
	cs, err := c.env.DB.ListCustomers(t.Context(), esign.CustomerFilter{Username: "henrik"})
	if err != nil || len(cs) != 0 {
		t.Fatalf("refused create stored %v, %v", cs, err)
	}
	t.Run("register_missing_fields", func(t *testing.T) {
		c := c.with(t)
		c.want(c.do("POST", "/api/app/register", "", map[string]string{"os": "ios"}), 400, "missing_field")
	})
	t.Run("unapproved_cannot_refuse", func(t *testing.T) {
		c := c.with(t)
		s := c.login(a)
		o := c.env.Offer(t, a.customer.ID, "x")
		c.want(c.do("POST", "/api/offer/"+o.ID+"/refuse", s, nil), 404, "")
		c.want(c.do("GET", "/api/offers?limit=x", s, nil), 400, "invalid_query")
	})
	t.Run("expired_offer_cannot_be_refused", func(t *testing.T) {
		c := c.with(t)
		b := c.account("Kálmán", true)
		o := c.env.Offer(t, b.customer.ID, "late")
		c.env.Clock.Advance(7 * 24 * time.Hour)
		s := c.login(b)
		c.want(c.do("POST", "/api/offer/"+o.ID+"/refuse", s, nil), 400, "offer_state")
	})
	t.Run("unknown_path_and_method", func(t *testing.T) {
		c := c.with(t)
		r := c.do("GET", "/api/app/register", "", nil)
		c.want(r, 405, "method_not_allowed")
		if r.header.Get("Allow") != "POST" {
			t.Fatalf("Allow %q", r.header.Get("Allow"))
		}
		req, _ := http.NewRequest("GET", c.url+"/api/nothing", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 404 {
			t.Fatalf("unknown path: %d", res.StatusCode)
		}
	})
}

// TestBadInput sends broken bodies to every endpoint that takes one: each
// gets 400 with a code and nothing is stored.
func TestBadInput(t *testing.T) {
	c := newClient(t, setups[0], nil)
	a := c.account("Ilona", true)
	sess := c.login(a)
	o := c.env.Offer(t, a.customer.ID, "Loan")
	bodies := []struct {
		name, body, code string
	}{
		{"malformed", `{"deviceId": "x",`, "malformed_json"},
		{"not_json", `deviceId=x`, "malformed_json"},
		{"wrong_type", `{"deviceId": 42, "os": true}`, "wrong_type"},
		{"array", `[1,2]`, "wrong_type"},
		{"unknown_field", `{"deviceId": "x", "os": "ios", "admin": true}`, "unknown_field"},
		{"two_objects", `{} {}`, "malformed_json"},
		{"duplicate_field", `{"deviceId": "x", "os": "ios", "deviceId": "y"}`, "duplicate_field"},
		{"empty", ``, "empty_body"},
		{"oversized", `{"deviceId": "` + strings.Repeat("x", MaxJSONBody) + `"}`, "body_too_large"},
	}
	endpoints := []struct{ path, token string }{
		{"/api/app/register", ""},
		{"/api/app/associate", a.deviceToken},
		{"/api/app/update-refresh-token", a.deviceToken},
		{"/api/customer/check-username", a.deviceToken},
		{"/api/customer/check-password", a.deviceToken},
		{"/api/customer/create", a.deviceToken},
		{"/api/customer/login", a.deviceToken},
		{"/api/customer/2f-auth", sess},
		{"/api/offer/" + o.ID + "/refuse", sess},
		{"/api/timestamp", sess},
		{"/api/client-error", a.deviceToken},
	}
	count := func() int {
		apps, err := c.env.DB.ListApps(t.Context(), esign.AppFilter{})
		if err != nil {
			t.Fatal(err)
		}
		logs, err := c.env.DB.ListClientErrorLogs(t.Context(), esign.ClientErrorLogFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(apps)*1000 + len(logs)
	}
	before := count()
	for _, ep := range endpoints {
		for _, b := range bodies {
			if b.name == "empty" && strings.HasSuffix(ep.path, "/refuse") {
				continue // the reason is optional: no body is a valid refusal
			}
			t.Run(strings.ReplaceAll(ep.path[5:], "/", "_")+"/"+b.name, func(t *testing.T) {
				c := c.with(t)
				code := b.code
				if b.name == "wrong_type" && ep.path != "/api/app/register" {
					code = "unknown_field" // other endpoints do not have these fields
				}
				c.want(c.do("POST", ep.path, ep.token, b.body), 400, code)
			})
		}
	}
	if after := count(); after != before {
		t.Fatalf("bad input stored rows: %d → %d", before, after)
	}
	if got, _ := c.env.DB.GetOffer(t.Context(), o.ID); got.State != esign.OfferNotified {
		t.Fatalf("bad input changed the offer: %s", got.State)
	}
	for name, ct := range map[string]string{"wrong_content_type": "text/plain", "no_content_type": "", "bad_content_type": "application/json;;"} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", c.url+"/api/app/register", strings.NewReader(`{"deviceId":"x","os":"ios"}`))
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body httpkit.ErrorBody
			json.NewDecoder(res.Body).Decode(&body)
			if res.StatusCode != 400 || body.Error.Code != "unsupported_media_type" {
				t.Fatalf("status %d code %q, want 400 unsupported_media_type", res.StatusCode, body.Error.Code)
			}
		})
	}
}

func TestDuplicateKey(t *testing.T) {
	tests := []struct {
		json, key string
	}{
		{`{"a":1,"b":2}`, ""},
		{`{"a":1,"a":2}`, "a"},
		{`{"a":{"b":1,"b":2}}`, "b"},
		{`{"a":{"b":1},"b":2}`, ""},
		{`{"a":[{"x":1},{"x":2}],"b":[1,"a"]}`, ""},
		{`{"a":[{"x":1,"x":2}]}`, "x"},
		{`{"a":{},"a":[]}`, "a"},
		{`[{"k":1},{"k":1,"k":2}]`, "k"},
		{`{"a":{"b":{}},"c":1,"c":2}`, "c"},
		{`{"a\u0062":1,"ab":2}`, "ab"},
		{`{"a":1,`, ""},
	}
	for _, tt := range tests {
		k, dup := duplicateKey([]byte(tt.json))
		if k != tt.key || dup != (tt.key != "") {
			t.Errorf("duplicateKey(%s) = %q, %v; want %q", tt.json, k, dup, tt.key)
		}
	}
}

// FuzzDecode feeds arbitrary bodies to the strict decoder: it never panics,
// and every refusal is Invalid with a code.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"deviceId":"x","os":"ios"}`, `{`, `[]`, `{"deviceId":1}`, `{"a":1}`, `null`, `{} {}`, "\x00", `{"dataSize": 1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r registerReq
		err := decodeJSON(bytes.NewReader(data), &r)
		if err == nil {
			if !json.Valid(data) {
				t.Fatalf("accepted invalid JSON %q", data)
			}
			return
		}
		if esign.ErrorKind(err) != esign.Invalid || esign.ErrorCode(err) == "" {
			t.Fatalf("error %v has kind %v and code %q", err, esign.ErrorKind(err), esign.ErrorCode(err))
		}
		var ts timestampReq
		_ = decodeJSON(bytes.NewReader(data), &ts)
	})
}

func TestTimestamp(t *testing.T) {
	tc := newTSA(t)
	c := newClient(t, setups[0], tc)
	a := c.account("Judit", true)
	sess := c.login(a)
	data := []byte("M1 bytes")
	sum := sha256.Sum256(data)
	for name, tok := range map[string]string{"session": sess, "device": a.deviceToken} {
		t.Run(name, func(t *testing.T) {
			c := c.with(t)
			r := c.do("POST", "/api/timestamp", tok, map[string]any{"digest": base64.StdEncoding.EncodeToString(sum[:]),
				"hashAlgorithm": "SHA-256", "dataSize": len(data)})
			c.want(r, 200, "")
			der, err := base64.StdEncoding.DecodeString(r.json(t)["token"].(string))
			if err != nil {
				t.Fatal(err)
			}
			verifyToken(t, tc, der, sum[:])
		})
	}
	c.want(c.do("POST", "/api/timestamp/", sess, map[string]any{"digest": base64.StdEncoding.EncodeToString(sum[:]),
		"hashAlgorithm": "SHA-256", "dataSize": 8}), 200, "")
	toks, err := c.env.DB.ListTimestampTokens(t.Context(), esign.TimestampTokenFilter{Purpose: esign.TimestampAPI})
	if err != nil || len(toks) != 3 {
		t.Fatalf("stored tokens %d, %v", len(toks), err)
	}
	bad := []struct {
		name string
		body map[string]any
		code string
	}{
		{"unknown_algorithm", map[string]any{"digest": base64.StdEncoding.EncodeToString(sum[:]), "hashAlgorithm": "MD5", "dataSize": 8}, "unknown_algorithm"},
		{"digest_length", map[string]any{"digest": base64.StdEncoding.EncodeToString(sum[:20]), "hashAlgorithm": "SHA-256", "dataSize": 8}, "digest_length"},
		{"not_base64", map[string]any{"digest": "!!!", "hashAlgorithm": "SHA-256", "dataSize": 8}, "invalid_digest"},
		{"negative_size", map[string]any{"digest": base64.StdEncoding.EncodeToString(sum[:]), "hashAlgorithm": "SHA-256", "dataSize": -1}, "data_size"},
		{"missing_size", map[string]any{"digest": base64.StdEncoding.EncodeToString(sum[:]), "hashAlgorithm": "SHA-256"}, "missing_field"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			c := c.with(t)
			c.want(c.do("POST", "/api/timestamp", sess, b.body), 400, b.code)
		})
	}
	c.want(c.do("POST", "/api/timestamp", "", map[string]any{}), 401, "missing_token")
}

func TestTwoFactor(t *testing.T) {
	eachSetup(t, func(t *testing.T, c *client) {
		a := c.account("Lajos", true)
		sess := c.login(a)
		d := c.env.Document(t, a.customer.ID, "loan.pdf", []byte("%PDF loan"))
		o := c.env.Offer(t, a.customer.ID, "Loan", d.ID)
		ctx := t.Context()
		newSignature := func() (*esign.Signature, string) {
			g := &esign.Signature{OfferID: o.ID, CustomerID: a.customer.ID, PublicKey: "-----BEGIN PUBLIC KEY-----", Username: a.username}
			if err := c.env.DB.CreateSignature(ctx, g); err != nil {
				t.Fatal(err)
			}
			if err := c.env.Svc.SendTwoFactorCode(ctx, g.ID); err != nil {
				t.Fatal(err)
			}
			n := c.env.Queue.Last(t, notify.TwoFactorCode)
			if n.To != a.customer.Phone {
				t.Fatalf("2FA code sent to %q", n.To)
			}
			return g, n.Params.Code
		}
		body := func(g *esign.Signature, user, pw, code string) map[string]string {
			return map[string]string{"signatureId": g.ID, "username": user, "password": pw, "smsToken": code}
		}
		g, code := newSignature()
		t.Run("wrong_password", func(t *testing.T) {
			c := c.with(t)
			c.want(c.do("POST", "/api/customer/2f-auth", sess, body(g, a.username, "Wrong-pass-999", code)), 401, "invalid_credentials")
		})
		t.Run("wrong_username", func(t *testing.T) {
			c := c.with(t)
			c.want(c.do("POST", "/api/customer/2f-auth", sess, body(g, "someone", a.password, code)), 401, "invalid_credentials")
		})
		t.Run("wrong_code", func(t *testing.T) {
			c := c.with(t)
			r := c.do("POST", "/api/customer/2f-auth", sess, body(g, a.username, a.password, customerstest.WrongCode(code)))
			c.want(r, 400, "invalid_code")
			if n := r.attemptsLeft(); n != 4 {
				t.Fatalf("attemptsLeft %d, want 4: %s", n, r.body)
			}
		})
		t.Run("missing_field", func(t *testing.T) {
			c := c.with(t)
			c.want(c.do("POST", "/api/customer/2f-auth", sess, map[string]string{"signatureId": g.ID}), 400, "missing_field")
		})
		t.Run("success_does_not_spend", func(t *testing.T) {
			// The code stays for the M2 of the signature (docs/protocol.md).
			c := c.with(t)
			c.want(c.do("POST", "/api/customer/2f-auth", sess, body(g, a.username, a.password, code)), 200, "")
			c.want(c.do("POST", "/api/customer/2f-auth", sess, body(g, a.username, a.password, code)), 200, "")
		})
		t.Run("attempts_exhausted", func(t *testing.T) {
			c := c.with(t)
			g4, code4 := newSignature()
			for want := 4; want >= 0; want-- {
				r := c.do("POST", "/api/customer/2f-auth", sess, body(g4, a.username, a.password, customerstest.WrongCode(code4)))
				c.want(r, 400, "invalid_code")
				if n := r.attemptsLeft(); n != want {
					t.Fatalf("attemptsLeft %d, want %d: %s", n, want, r.body)
				}
			}
			r := c.do("POST", "/api/customer/2f-auth", sess, body(g4, a.username, a.password, code4))
			c.want(r, 400, "invalid_code")
			if n := r.attemptsLeft(); n != 0 {
				t.Fatalf("attemptsLeft %d, want 0: %s", n, r.body)
			}
		})
		t.Run("other_customer", func(t *testing.T) {
			c := c.with(t)
			b := c.account("Mária", true)
			c.want(c.do("POST", "/api/customer/2f-auth", c.login(b), body(g, b.username, b.password, code)), 404, "")
		})
		t.Run("documents_changed", func(t *testing.T) {
			c := c.with(t)
			g2, code2 := newSignature()
			extra := c.env.Document(t, a.customer.ID, "annex.pdf", []byte("%PDF annex"))
			if err := c.env.DB.AddOfferDocument(ctx, o.ID, extra.ID); err != nil {
				t.Fatal(err)
			}
			c.want(c.do("POST", "/api/customer/2f-auth", sess, body(g2, a.username, a.password, code2)), 400, "invalid_code")
		})
		t.Run("not_waiting", func(t *testing.T) {
			c := c.with(t)
			g3, code3 := newSignature()
			st := esign.SignatureRejected
			if _, err := c.env.DB.UpdateSignature(ctx, g3.ID, esign.SignatureUpdate{Status: &st}); err != nil {
				t.Fatal(err)
			}
			c.want(c.do("POST", "/api/customer/2f-auth", sess, body(g3, a.username, a.password, code3)), 400, "signature_state")
		})
	})
}
