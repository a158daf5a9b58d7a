package rpc_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"strings"
	"testing"
	"time"

	"esign/internal/bus"
	"esign/internal/bus/amqp"
	"esign/internal/bus/amqp/amqptest"
	"esign/internal/bus/bustest"
	"esign/internal/bus/inproc"
	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/notify"
	"esign/internal/rpc"
	"esign/internal/tsa"
	"esign/internal/tsa/tsatest"
)

// transports runs fn over the in-process bus and, when ESIGN_TEST_AMQP_URL
// is set, over RabbitMQ (server and client on separate connections, as oss
// and css would be).
func transports(t *testing.T, fn func(t *testing.T, server, client bus.Bus)) {
	t.Run("inproc", func(t *testing.T) {
		b := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
		t.Cleanup(func() { b.Close() })
		fn(t, b, b)
	})
	t.Run("amqp", func(t *testing.T) {
		s, c := amqpPair(t, "esign-test-rpc")
		fn(t, s, c)
	})
}

// uniqueQueues keeps parallel runs (and other tests on the same broker)
// apart.
func uniqueQueues(t *testing.T) rpc.Queues {
	return rpc.Queues{App: bustest.Name(t, "app"), Customer: bustest.Name(t, "customer"), Offer: bustest.Name(t, "offer"),
		Contract: bustest.Name(t, "contract"), Document: bustest.Name(t, "document"), Timestamp: bustest.Name(t, "timestamp")}
}

// newTSA starts the development PKI's RFC 3161 TSA on loopback.
func newTSA(t *testing.T) *tsa.Client {
	t.Helper()
	return tsatest.Start(t, 0).Client
}

func wantErr(tb testing.TB, err error, k esign.Kind, code string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want %v (%s)", k, code)
	}
	if esign.ErrorKind(err) != k || (code != "" && esign.ErrorCode(err) != code) {
		tb.Fatalf("got %v (kind %v, code %q), want kind %v code %q", err, esign.ErrorKind(err), esign.ErrorCode(err), k, code)
	}
}

// customer is an onboarded, approved customer with a session, its offer,
// contract and documents.
type customer struct {
	c                     *esign.Customer
	device, session       rpc.Caller
	username, password    string
	offer                 *esign.Offer
	contract              *esign.Contract
	offerDoc, contractDoc *esign.Document
	docBytes              []byte
}

// onboard drives registration → association → credentials → approval →
// login through the client.
func onboard(t testing.TB, e *customerstest.Env, cl *rpc.Client, name string) *customer {
	t.Helper()
	ctx := t.Context()
	reg, err := cl.Register(ctx, rpc.RegisterRequest{Caller: rpc.Caller{IP: "192.0.2.1", UserAgent: "rpc-test"}, DeviceID: "350000000000001", OS: "android",
		FCMToken: "fcm-" + rand.Text()})
	if err != nil {
		t.Fatal(err)
	}
	if reg.AppID == "" || !bytes.HasPrefix([]byte(reg.DeviceToken), []byte(customers.DeviceTokenPrefix)) {
		t.Fatalf("register: %+v", reg)
	}
	cu := &customer{c: e.Customer(t, name), device: rpc.Caller{Token: reg.DeviceToken, IP: "192.0.2.1"}}
	if err := e.Svc.SendAssociationCode(ctx, cu.c.ID); err != nil {
		t.Fatal(err)
	}
	code := e.Queue.Last(t, notify.DeviceAssociationCode).Params.Code
	as, err := cl.Associate(ctx, cu.device, cu.c.Phone, code)
	if err != nil || as.HasCredentials {
		t.Fatalf("associate: %+v, %v", as, err)
	}
	cu.username, cu.password = "user-"+rand.Text()[:10], "Secret-Passw0rd"
	if err := cl.CreateCredentials(ctx, cu.device, cu.username, cu.password); err != nil {
		t.Fatal(err)
	}
	e.Approve(t, cu.c)
	in, err := cl.Login(ctx, cu.device, cu.username, cu.password)
	if err != nil || in.Customer.ID != cu.c.ID || !in.Customer.Approved || in.SessionToken == "" {
		t.Fatalf("login: %+v, %v", in, err)
	}
	cu.session = rpc.Caller{Token: in.SessionToken}
	cu.docBytes = []byte("%PDF-1.7 " + name)
	cu.offerDoc = e.Document(t, cu.c.ID, "offer.pdf", cu.docBytes)
	cu.offer = e.Offer(t, cu.c.ID, "Offer of "+name, cu.offerDoc.ID)
	cu.contractDoc = e.Document(t, cu.c.ID, "contract.pdf", cu.docBytes)
	cu.contract = e.Contract(t, cu.c.ID, "Contract of "+name, cu.contractDoc.ID)
	return cu
}

func TestRPC(t *testing.T) {
	ts := newTSA(t)
	transports(t, func(t *testing.T, server, client bus.Bus) {
		e := customerstest.New(t, customerstest.OpenDB(t, "sqlite"), nil, customers.Config{}, ts)
		q := uniqueQueues(t)
		sysCfg := bus.SystemConfig{Version: 7, Settings: map[string]string{"k": "v"}}
		srv := rpc.NewServer(e.Svc, rpc.ServerOptions{MaxInlineDocument: 1024,
			SystemConfig: func(context.Context) (bus.SystemConfig, error) { return sysCfg, nil }})
		if err := srv.Serve(t.Context(), server, q); err != nil {
			t.Fatal(err)
		}
		cl := rpc.NewClient(client, q)
		a, b := onboard(t, e, cl, "Alice"), onboard(t, e, cl, "Bob")
		big := e.Document(t, a.c.ID, "big.pdf", bytes.Repeat([]byte("x"), 2048))
		bigOffer := e.Offer(t, a.c.ID, "Big", big.ID)

		tests := []struct {
			name string
			run  func(t *testing.T, ctx context.Context)
		}{
			{"system_config", func(t *testing.T, ctx context.Context) {
				got, err := cl.SystemConfig(ctx)
				if err != nil || got.Version != 7 || got.Settings["k"] != "v" {
					t.Fatalf("got %+v, %v", got, err)
				}
			}},
			{"unknown_method", func(t *testing.T, ctx context.Context) {
				wantErr(t, client.Call(ctx, q.Offer, "offer.steal", struct{}{}, nil), esign.NotFound, "no_such_method")
			}},
			{"register_missing_field", func(t *testing.T, ctx context.Context) {
				_, err := cl.Register(ctx, rpc.RegisterRequest{OS: "ios"})
				wantErr(t, err, esign.Invalid, "missing_field")
			}},
			{"unknown_field", func(t *testing.T, ctx context.Context) {
				err := client.Call(ctx, q.Offer, rpc.MethodListOffers, map[string]any{"token": a.session.Token, "customerId": b.c.ID}, nil)
				wantErr(t, err, esign.Invalid, "unknown_field")
			}},
			{"wrong_type", func(t *testing.T, ctx context.Context) {
				err := client.Call(ctx, q.Offer, rpc.MethodListOffers, map[string]any{"token": a.session.Token, "limit": "ten"}, nil)
				wantErr(t, err, esign.Invalid, "wrong_type")
			}},
			{"associate_wrong_code", func(t *testing.T, ctx context.Context) {
				reg, err := cl.Register(ctx, rpc.RegisterRequest{DeviceID: "1", OS: "ios"})
				if err != nil {
					t.Fatal(err)
				}
				_, err = cl.Associate(ctx, rpc.Caller{Token: reg.DeviceToken}, a.c.Phone, "000000")
				wantErr(t, err, esign.Invalid, "invalid_code")
			}},
			{"check_username", func(t *testing.T, ctx context.Context) {
				if err := cl.CheckUsername(ctx, a.device, "free-name-"+rand.Text()[:6]); err != nil {
					t.Fatal(err)
				}
				wantErr(t, cl.CheckUsername(ctx, a.device, "ab"), esign.Invalid, "too_short")
				wantErr(t, cl.CheckUsername(ctx, a.device, a.username), esign.Conflict, "unavailable")
			}},
			{"check_password", func(t *testing.T, ctx context.Context) {
				if err := cl.CheckPassword(ctx, a.device, "Good-Passw0rd"); err != nil {
					t.Fatal(err)
				}
				wantErr(t, cl.CheckPassword(ctx, a.device, "x"), esign.Invalid, "too_short")
			}},
			{"web_login", func(t *testing.T, ctx context.Context) {
				web := rpc.Caller{IP: "198.51.100.9", UserAgent: "browser"}
				_, err := cl.WebLogin(ctx, web, b.username, "Wrong-Passw0rd")
				wantErr(t, err, esign.Unauthorized, "invalid_credentials")
				_, err = cl.WebLogin(ctx, web, "nobody-"+rand.Text()[:6], b.password)
				wantErr(t, err, esign.Unauthorized, "invalid_credentials")
				first, err := cl.WebLogin(ctx, web, b.username, b.password)
				if err != nil || first.Customer.ID != b.c.ID || !first.Customer.Approved {
					t.Fatalf("web login: %+v, %v", first, err)
				}
				s1 := rpc.Caller{Token: first.SessionToken}
				me, err := cl.Me(ctx, s1)
				if err != nil || me.Username != b.username || me.ID != b.c.ID {
					t.Fatalf("me: %+v, %v", me, err)
				}
				if _, err := cl.GetOffer(ctx, s1, b.offer.ID); err != nil {
					t.Fatalf("the web session cannot read the offer: %v", err)
				}
				// A new web sign-in ends the older web session, not the app's.
				second, err := cl.WebLogin(ctx, web, b.username, b.password)
				if err != nil {
					t.Fatal(err)
				}
				_, err = cl.Me(ctx, s1)
				wantErr(t, err, esign.Unauthorized, "invalid_token")
				if _, err := cl.Me(ctx, rpc.Caller{Token: second.SessionToken}); err != nil {
					t.Fatal(err)
				}
				if _, err := cl.Me(ctx, b.session); err != nil {
					t.Fatalf("the app's session ended with a web sign-in: %v", err)
				}
			}},
			{"web_client_error", func(t *testing.T, ctx context.Context) {
				in, err := cl.WebLogin(ctx, rpc.Caller{IP: "198.51.100.10"}, a.username, a.password)
				if err != nil {
					t.Fatal(err)
				}
				web := rpc.Caller{Token: in.SessionToken, UserAgent: "browser"}
				if err := cl.ReportClientError(ctx, web, "TypeError: x is undefined", "at sign.js:1", "/o/1"); err != nil {
					t.Fatal(err)
				}
				ls, err := e.DB.ListClientErrorLogs(ctx, esign.ClientErrorLogFilter{Source: "css", CustomerID: a.c.ID})
				if err != nil || len(ls) != 1 || ls[0].Message != "TypeError: x is undefined" || ls[0].UserAgent != "browser" {
					t.Fatalf("client errors of the web UI: %+v, %v", ls, err)
				}
				for i := 1; i < customers.DefaultConfig().ClientErrorsPerApp.N; i++ {
					if err := cl.ReportClientError(ctx, web, "again", "", ""); err != nil {
						t.Fatal(err)
					}
				}
				wantErr(t, cl.ReportClientError(ctx, web, "one too many", "", ""), esign.TooMany, "rate_limited")
			}},
			{"web_sessions", func(t *testing.T, ctx context.Context) {
				in, err := cl.WebLogin(ctx, rpc.Caller{IP: "198.51.100.11", UserAgent: "Firefox/140"}, b.username, b.password)
				if err != nil {
					t.Fatal(err)
				}
				web := rpc.Caller{Token: in.SessionToken}
				ws, err := cl.WebSessions(ctx, web)
				if err != nil || len(ws) != 1 || !ws[0].Current || ws[0].UserAgent != "Firefox/140" || ws[0].ID == "" ||
					strings.Contains(in.SessionToken, ws[0].ID) {
					t.Fatalf("web sessions %+v, %v", ws, err)
				}
				wantErr(t, cl.EndWebSession(ctx, web, ws[0].ID), esign.Invalid, "current")
				wantErr(t, cl.EndWebSession(ctx, web, "no-such-session"), esign.NotFound, "")
				_, err = cl.WebSessions(ctx, b.session)
				wantErr(t, err, esign.Forbidden, "web_only")
			}},
			{"renew_link", func(t *testing.T, ctx context.Context) {
				code := "old-" + rand.Text()[:8]
				if err := e.DB.CreateShortener(ctx, &esign.Shortener{Code: code, TargetURL: "/o/" + b.offer.ID,
					ExpiresAt: e.Clock.Now().Add(-time.Minute)}); err != nil {
					t.Fatal(err)
				}
				_, err := cl.ResolveLink(ctx, rpc.Caller{IP: "198.51.100.12"}, code)
				wantErr(t, err, esign.NotFound, "link_expired")
				if err := cl.RenewLink(ctx, rpc.Caller{IP: "198.51.100.12"}, code); err != nil {
					t.Fatal(err)
				}
				if n := e.Queue.Last(t, notify.OfferAvailable); n.To != b.c.Phone || n.Data["offerId"] != b.offer.ID {
					t.Fatalf("fresh link sent %+v", n)
				}
				wantErr(t, cl.RenewLink(ctx, rpc.Caller{IP: "198.51.100.12"}, "no-such-code"), esign.NotFound, "")
				wantErr(t, cl.RenewLink(ctx, rpc.Caller{}, ""), esign.Invalid, "missing_field")
			}},
			{"read_to_end", func(t *testing.T, ctx context.Context) {
				for range 2 { // recorded once
					if err := cl.ReadToEnd(ctx, a.session, a.offer.ID, a.offerDoc.ID); err != nil {
						t.Fatal(err)
					}
				}
				as, err := e.DB.ListActivities(ctx, esign.ActivityFilter{OfferID: a.offer.ID, Kind: "document.read_to_end"})
				if err != nil || len(as) != 1 || !strings.Contains(as[0].Detail, a.offerDoc.ID) {
					t.Fatalf("read to end: %+v, %v", as, err)
				}
				wantErr(t, cl.ReadToEnd(ctx, a.session, a.offer.ID, a.contractDoc.ID), esign.NotFound, "")
				wantErr(t, cl.ReadToEnd(ctx, b.session, a.offer.ID, a.offerDoc.ID), esign.NotFound, "")
				wantErr(t, cl.ReadToEnd(ctx, a.session, a.offer.ID, ""), esign.Invalid, "missing_field")
			}},
			{"resolve_link", func(t *testing.T, ctx context.Context) {
				now := e.Clock.Now()
				for code, exp := range map[string]time.Time{"live-" + rand.Text()[:8]: now.Add(time.Hour), "dead-" + rand.Text()[:8]: now.Add(-time.Minute)} {
					if err := e.DB.CreateShortener(ctx, &esign.Shortener{Code: code, TargetURL: "/o/" + a.offer.ID, ExpiresAt: exp}); err != nil {
						t.Fatal(err)
					}
					l, err := cl.ResolveLink(ctx, rpc.Caller{IP: "198.51.100.7"}, code)
					switch {
					case exp.After(now) && (err != nil || l.Target != "/o/"+a.offer.ID):
						t.Errorf("live link: %+v, %v", l, err)
					case exp.Before(now):
						wantErr(t, err, esign.NotFound, "")
					}
				}
				_, err := cl.ResolveLink(ctx, rpc.Caller{}, "no-such-code")
				wantErr(t, err, esign.NotFound, "")
			}},
			{"login_wrong_password", func(t *testing.T, ctx context.Context) {
				_, err := cl.Login(ctx, a.device, a.username, "Wrong-Passw0rd")
				wantErr(t, err, esign.Unauthorized, "invalid_credentials")
			}},
			{"login_other_customers_device", func(t *testing.T, ctx context.Context) {
				_, err := cl.Login(ctx, b.device, a.username, a.password)
				wantErr(t, err, esign.Unauthorized, "invalid_credentials")
			}},
			{"device_token_where_session_needed", func(t *testing.T, ctx context.Context) {
				_, err := cl.ListOffers(ctx, a.device, 0, 0)
				wantErr(t, err, esign.Unauthorized, "invalid_token")
			}},
			{"missing_token", func(t *testing.T, ctx context.Context) {
				_, err := cl.ListOffers(ctx, rpc.Caller{}, 0, 0)
				wantErr(t, err, esign.Unauthorized, "missing_token")
			}},
			{"bad_token", func(t *testing.T, ctx context.Context) {
				_, err := cl.GetOffer(ctx, rpc.Caller{Token: customers.SessionTokenPrefix + rand.Text()}, a.offer.ID)
				wantErr(t, err, esign.Unauthorized, "invalid_token")
				wantErr(t, cl.UpdatePushToken(ctx, rpc.Caller{Token: "nonsense"}, "x"), esign.Unauthorized, "invalid_token")
			}},
			{"offers", func(t *testing.T, ctx context.Context) {
				os, err := cl.ListOffers(ctx, a.session, 10, 0)
				if err != nil || len(os) != 2 {
					t.Fatalf("list: %+v, %v", os, err)
				}
				o, err := cl.GetOffer(ctx, a.session, a.offer.ID)
				if err != nil || o.ID != a.offer.ID || o.State != string(esign.OfferOpened) || len(o.Documents) != 1 || o.Documents[0].ID != a.offerDoc.ID {
					t.Fatalf("get: %+v, %v", o, err)
				}
				_, err = cl.ListOffers(ctx, a.session, 5000, 0)
				wantErr(t, err, esign.Invalid, "invalid_page")
			}},
			{"offer_wrong_owner", func(t *testing.T, ctx context.Context) {
				_, err := cl.GetOffer(ctx, b.session, a.offer.ID)
				wantErr(t, err, esign.NotFound, "")
				_, err = cl.RefuseOffer(ctx, b.session, a.offer.ID, "not mine")
				wantErr(t, err, esign.NotFound, "")
			}},
			{"refuse_offer", func(t *testing.T, ctx context.Context) {
				_, err := cl.RefuseOffer(ctx, b.session, b.offer.ID, string(bytes.Repeat([]byte("r"), 2000)))
				wantErr(t, err, esign.Invalid, "too_long")
				o, err := cl.RefuseOffer(ctx, b.session, b.offer.ID, "no, thanks")
				if err != nil || o.State != string(esign.OfferRefused) || o.StateReason != "no, thanks" {
					t.Fatalf("refuse: %+v, %v", o, err)
				}
			}},
			{"contracts", func(t *testing.T, ctx context.Context) {
				cs, err := cl.ListContracts(ctx, a.session, 0, 0)
				if err != nil || len(cs) != 1 || cs[0].ID != a.contract.ID {
					t.Fatalf("list: %+v, %v", cs, err)
				}
				c, err := cl.GetContract(ctx, a.session, a.contract.ID)
				if err != nil || len(c.Documents) != 1 || c.Documents[0].SHA256 != a.contractDoc.SHA256 {
					t.Fatalf("get: %+v, %v", c, err)
				}
				c, err = cl.AcknowledgeContract(ctx, a.session, a.contract.ID)
				if err != nil || c.Status != string(esign.ContractAcknowledged) || c.AcknowledgedAt.IsZero() {
					t.Fatalf("acknowledge: %+v, %v", c, err)
				}
			}},
			{"contract_wrong_owner", func(t *testing.T, ctx context.Context) {
				_, err := cl.GetContract(ctx, b.session, a.contract.ID)
				wantErr(t, err, esign.NotFound, "")
				_, err = cl.AcknowledgeContract(ctx, b.session, a.contract.ID)
				wantErr(t, err, esign.NotFound, "")
			}},
			{"documents", func(t *testing.T, ctx context.Context) {
				d, err := cl.GetDocument(ctx, a.session, a.offerDoc.ID)
				if err != nil || !bytes.Equal(d.Content, a.docBytes) || d.Size != int64(len(a.docBytes)) {
					t.Fatalf("get: %+v, %v", d, err)
				}
				sum := sha256.Sum256(d.Content)
				if d.SHA256 != a.offerDoc.SHA256 || d.SHA256 == "" || sum != sha256.Sum256(a.docBytes) {
					t.Fatalf("digest %q", d.SHA256)
				}
				m, err := cl.MarkDocumentRead(ctx, a.session, a.offerDoc.ID)
				if err != nil || m.ReadAt.IsZero() {
					t.Fatalf("mark: %+v, %v", m, err)
				}
			}},
			{"two_factor", func(t *testing.T, ctx context.Context) {
				g := &esign.Signature{OfferID: a.offer.ID, CustomerID: a.c.ID, PublicKey: "-----BEGIN PUBLIC KEY-----", Username: a.username}
				if err := e.DB.CreateSignature(ctx, g); err != nil {
					t.Fatal(err)
				}
				if err := e.Svc.SendTwoFactorCode(ctx, g.ID); err != nil {
					t.Fatal(err)
				}
				code := e.Queue.Last(t, notify.TwoFactorCode).Params.Code
				wrong := "000000"
				if code == wrong {
					wrong = "000001"
				}
				err := cl.TwoFactorAuth(ctx, a.session, g.ID, a.username, a.password, wrong)
				wantErr(t, err, esign.Invalid, "invalid_code")
				if n, ok := esign.ErrorAttemptsLeft(err); !ok || n != 4 { // the attempts left cross the bus
					t.Fatalf("attempts left %d (%v), want 4", n, ok)
				}
				wantErr(t, cl.TwoFactorAuth(ctx, a.session, g.ID, a.username, "Wrong-Passw0rd", code), esign.Unauthorized, "invalid_credentials")
				wantErr(t, cl.TwoFactorAuth(ctx, b.session, g.ID, b.username, b.password, code), esign.NotFound, "")
				wantErr(t, cl.TwoFactorAuth(ctx, a.session, g.ID, a.username, "", code), esign.Invalid, "missing_field")
				for range 2 { // the code stays for M2
					if err := cl.TwoFactorAuth(ctx, a.session, g.ID, a.username, a.password, code); err != nil {
						t.Fatal(err)
					}
				}
			}},
			{"document_too_large", func(t *testing.T, ctx context.Context) {
				if _, err := cl.GetOffer(ctx, a.session, bigOffer.ID); err != nil {
					t.Fatal(err)
				}
				_, err := cl.GetDocument(ctx, a.session, big.ID)
				wantErr(t, err, esign.Invalid, "document_too_large")
			}},
			{"document_wrong_owner", func(t *testing.T, ctx context.Context) {
				_, err := cl.GetDocument(ctx, b.session, a.offerDoc.ID)
				wantErr(t, err, esign.NotFound, "")
				_, err = cl.MarkDocumentRead(ctx, b.session, a.contractDoc.ID)
				wantErr(t, err, esign.NotFound, "")
			}},
			{"timestamp", func(t *testing.T, ctx context.Context) {
				digest := sha256.Sum256([]byte("M1"))
				for _, who := range []rpc.Caller{a.device, a.session} {
					st, err := cl.Timestamp(ctx, who, digest[:], "SHA-256", 2)
					if err != nil || len(st.Token) == 0 || st.GenTime.IsZero() {
						t.Fatalf("timestamp: %+v, %v", st, err)
					}
				}
				_, err := cl.Timestamp(ctx, a.device, digest[:], "MD5", 2)
				wantErr(t, err, esign.Invalid, "unknown_algorithm")
				_, err = cl.Timestamp(ctx, a.device, digest[:5], "SHA-256", 2)
				wantErr(t, err, esign.Invalid, "digest_length")
			}},
			{"push_token_and_client_error", func(t *testing.T, ctx context.Context) {
				if err := cl.UpdatePushToken(ctx, a.device, "fcm-new-"+rand.Text()); err != nil {
					t.Fatal(err)
				}
				wantErr(t, cl.UpdatePushToken(ctx, a.device, ""), esign.Invalid, "missing_field")
				if err := cl.ReportClientError(ctx, a.device, "boom", "stack", "https://example.invalid/x"); err != nil {
					t.Fatal(err)
				}
			}},
			{"logout_revokes", func(t *testing.T, ctx context.Context) {
				in, err := cl.Login(ctx, b.device, b.username, b.password)
				if err != nil {
					t.Fatal(err)
				}
				s := rpc.Caller{Token: in.SessionToken}
				if err := cl.Logout(ctx, s); err != nil {
					t.Fatal(err)
				}
				_, err = cl.ListOffers(ctx, s, 0, 0)
				wantErr(t, err, esign.Unauthorized, "invalid_token")
			}},
			{"expired_session", func(t *testing.T, ctx context.Context) {
				in, err := cl.Login(ctx, b.device, b.username, b.password)
				if err != nil {
					t.Fatal(err)
				}
				e.Clock.Advance(customers.DefaultConfig().SessionIdle + time.Second)
				_, err = cl.ListContracts(ctx, rpc.Caller{Token: in.SessionToken}, 0, 0)
				wantErr(t, err, esign.Unauthorized, "invalid_token")
			}},
			{"remove_account", func(t *testing.T, ctx context.Context) {
				if err := cl.RemoveAccount(ctx, a.device); err != nil {
					t.Fatal(err)
				}
				_, err := cl.ListOffers(ctx, a.session, 0, 0)
				wantErr(t, err, esign.Unauthorized, "invalid_token")
				wantErr(t, cl.CheckPassword(ctx, a.device, "Good-Passw0rd"), esign.Unauthorized, "invalid_token")
			}},
		}
		// The cases run in order: the last ones revoke what earlier ones use.
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
				defer cancel()
				tt.run(t, ctx)
			})
		}
	})
}

// amqpPair: amqptest.Pair.
func amqpPair(tb testing.TB, name string) (server, client *amqp.Bus) { return amqptest.Pair(tb, name) }
