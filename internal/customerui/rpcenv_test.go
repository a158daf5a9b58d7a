package customerui

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"esign/internal/bus"
	"esign/internal/bus/inproc"
	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/password"
	"esign/internal/rpc"
)

// rpcEnv is css over the in-process bus in front of a real oss service
// (SQLite): the handler tests and benchmarks that need oss's own answers.
type rpcEnv struct {
	e      *customerstest.Env
	client *rpc.Client
	h      http.Handler
}

// newRPCEnv serves the RPC queues on an in-process bus and builds the UI
// over a client of them; wrap, when not nil, stands between the UI and the
// client.
func newRPCEnv(tb testing.TB, wrap func(API) API) *rpcEnv {
	tb.Helper()
	ib := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
	tb.Cleanup(func() { ib.Close() })
	return newRPCEnvOn(tb, ib, ib, wrap)
}

// newRPCEnvOn is newRPCEnv with oss's side serving on server and css's
// calling over client (two connections to RabbitMQ, as two processes).
func newRPCEnvOn(tb testing.TB, server, client bus.Bus, wrap func(API) API) *rpcEnv {
	tb.Helper()
	return newRPCEnvConfig(tb, server, client, wrap, Config{})
}

// newRPCEnvConfig is newRPCEnvOn with the UI's configuration.
func newRPCEnvConfig(tb testing.TB, server, client bus.Bus, wrap func(API) API, cfg Config) *rpcEnv {
	tb.Helper()
	e := customerstest.New(tb, customerstest.OpenDB(tb, "sqlite"), nil, customers.Config{}, nil)
	id := bus.NewID()[:8]
	q := rpc.Queues{App: "test:" + id + ":app", Customer: "test:" + id + ":customer", Offer: "test:" + id + ":offer",
		Contract: "test:" + id + ":contract", Document: "test:" + id + ":document", Timestamp: "test:" + id + ":timestamp"}
	if err := rpc.NewServer(e.Svc, rpc.ServerOptions{}).Serve(tb.Context(), server, q); err != nil {
		tb.Fatal(err)
	}
	cl := rpc.NewClient(client, q)
	var api API = cl
	if wrap != nil {
		api = wrap(cl)
	}
	u, err := New(api, slog.New(slog.DiscardHandler), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return &rpcEnv{e: e, client: cl, h: u.Handler()}
}

// testPassword is the password of signIn's customers.
const testPassword = "Test-Passw0rd"

// signIn creates an approved customer with a username and testPassword
// and signs them in, returning the customer and the session cookie.
func (r *rpcEnv) signIn(tb testing.TB, name string) (*esign.Customer, *http.Cookie) {
	tb.Helper()
	c := r.e.Customer(tb, name)
	hash, err := password.Hash(testPassword)
	if err != nil {
		tb.Fatal(err)
	}
	user := strings.ToLower(name) + "-" + bus.NewID()[:8]
	c, err = r.e.DB.UpdateCustomer(context.Background(), c.ID, esign.CustomerUpdate{Username: &user, PasswordHash: &hash})
	if err != nil {
		tb.Fatal(err)
	}
	r.e.Approve(tb, c)
	form := url.Values{"username": {user}, "password": {testPassword}}
	req := httptest.NewRequest("POST", "/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	r.h.ServeHTTP(w, req)
	if w.Code != http.StatusSeeOther || len(w.Result().Cookies()) != 1 {
		tb.Fatalf("sign-in: %d %s", w.Code, w.Body.String())
	}
	return c, w.Result().Cookies()[0]
}
