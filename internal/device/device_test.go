package device_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"esign/internal/bus"
	"esign/internal/bus/inproc"
	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/device"
	"esign/internal/esign"
	"esign/internal/mobileapi"
	"esign/internal/notify"
	"esign/internal/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pki"
	"esign/internal/rpc"
	"esign/internal/seal"
	"esign/internal/signing"
	"esign/internal/tsa/tsatest"
)

// identity is the bank's sealing identity.
type identity struct{ id pki.Identity }

func (i identity) Identity(context.Context) (pki.Identity, error) { return i.id, nil }

// system is the embedded deployment's signing path: the mobile API over
// HTTP on loopback, the customer and signing services on one database,
// pdfservice over the in-process bus, a real TSA.
type system struct {
	ce  *customerstest.Env
	url string
	dev *pki.Dev
	rpc *rpc.Client // css's path to the signature queues
}

func newSystem(t *testing.T, driver string) *system {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	tsaSrv := tsatest.Start(t, 10*time.Millisecond)
	dev, tc, roots := tsaSrv.Dev, tsaSrv.Client, tsaSrv.Roots

	b := inproc.New(inproc.Options{})
	t.Cleanup(func() { b.Close() })
	pdfsvc := &seal.Service{IDs: identity{dev.Signer}, TSA: tc, Log: slog.New(slog.DiscardHandler)}
	go pdfsvc.Serve(ctx, b)

	ce := customerstest.New(t, customerstest.OpenDB(t, driver), nil, customers.Config{}, tc)
	svc, err := signing.New(ce.DB, ce.Svc, signing.Config{TSARoots: roots, Now: ce.Clock.Now, Sealing: &signing.Sealing{
		Seal: pades.SignOptions{Level: pades.LevelBT, CMS: &seal.Client{Bus: b, Timestamp: true}},
		Docs: ce.Docs, Queue: ce.Queue, Events: b, Stream: bus.StreamContractUpdates}})
	if err != nil {
		t.Fatal(err)
	}
	// As oss serves it: the combined M1 and M2 besides the original ones.
	api := httptest.NewServer(mobileapi.New(ce.Svc, slog.New(slog.DiscardHandler), mobileapi.WithSigning(signing.NewOneShot(svc, ce.Svc))))
	t.Cleanup(api.Close)
	if err := rpc.NewServer(ce.Svc, rpc.ServerOptions{Signing: svc}).Serve(ctx, b, rpc.DefaultQueues()); err != nil {
		t.Fatal(err)
	}
	return &system{ce: ce, url: api.URL, dev: dev, rpc: rpc.NewClient(b, rpc.DefaultQueues())}
}

// onboard registers a device, associates it with a new approved customer
// and logs in.
func (s *system) onboard(t *testing.T) (*device.Client, *esign.Customer) {
	t.Helper()
	ctx := context.Background()
	c := s.ce.Customer(t, "Kovács Anna")
	d := &device.Client{BaseURL: s.url, DeviceInfo: "reference client", TSGap: 30 * time.Millisecond}
	if err := d.NewKey(); err != nil {
		t.Fatal(err)
	}
	if err := d.Register(ctx, "350000000000001", "fcm-"+rand.Text()); err != nil {
		t.Fatal(err)
	}
	if err := s.ce.Svc.SendAssociationCode(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.Associate(ctx, c.Phone, s.ce.Queue.Last(t, notify.DeviceAssociationCode).Params.Code); err != nil {
		t.Fatal(err)
	}
	if err := d.Create(ctx, "anna"+rand.Text()[:6], "Correct-Horse-Battery-9"); err != nil {
		t.Fatal(err)
	}
	s.ce.Approve(t, c)
	c, err := s.ce.DB.GetCustomer(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Login(ctx, c.Username, "Correct-Horse-Battery-9"); err != nil {
		t.Fatal(err)
	}
	return d, c
}

// offer stores an offer of two PDFs for the customer (as the webhook API
// would) and returns it with its documents.
func (s *system) offer(t *testing.T, c *esign.Customer) *esign.Offer {
	t.Helper()
	d1 := s.ce.Document(t, c.ID, "loan.pdf", pdftest.MinimalPadded(1, 64))
	d2 := s.ce.Document(t, c.ID, "terms.pdf", pdftest.MinimalPadded(2, 128))
	return s.ce.Offer(t, c.ID, "Personal loan", d1.ID, d2.ID)
}

// open opens the offer and downloads its documents.
func open(t *testing.T, d *device.Client, o *esign.Offer) [][]byte {
	t.Helper()
	ctx := context.Background()
	view, err := d.GetOffer(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	var docs [][]byte
	for _, doc := range view.Documents {
		var b bytes.Buffer
		if err := d.Download(ctx, doc.ID, &b); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b.Bytes())
	}
	return docs
}

// prepare opens the offer, downloads its documents and sends M1.
func (s *system) prepare(t *testing.T, d *device.Client, o *esign.Offer) (string, [][]byte) {
	t.Helper()
	ctx := context.Background()
	docs := open(t, d, o)
	m1, err := d.BuildM1(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	sigID, err := d.SendM1(ctx, m1)
	if err != nil {
		t.Fatal(err)
	}
	return sigID, docs
}

func TestEndToEnd(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		s := newSystem(t, driver)
		d, c := s.onboard(t)
		o := s.offer(t, c)
		sigID, docs := s.prepare(t, d, o)
		// The specification's flow: 2f-auth (a mistyped code first), then
		// M2 with the same code.
		code := s.ce.Queue.Last(t, notify.TwoFactorCode).Params.Code
		err := device.AsError(d.TwoFactorAuth(ctx, sigID, "Correct-Horse-Battery-9", customerstest.WrongCode(code)))
		if n, ok := esign.ErrorAttemptsLeft(err); esign.ErrorCode(err) != "invalid_code" || !ok || n != 4 {
			t.Fatalf("2f-auth with a wrong code: %v (attempts left %d)", err, n)
		}
		if err := d.TwoFactorAuth(ctx, sigID, "Correct-Horse-Battery-9", code); err != nil {
			t.Fatal(err)
		}
		m2, err := d.BuildM2(ctx, &device.M2Input{SignatureID: sigID, OfferID: o.ID, Documents: docs,
			Password: "Correct-Horse-Battery-9", SMSToken: code, Photo: []byte("jpeg")})
		if err != nil {
			t.Fatal(err)
		}
		res, err := d.SendM2(ctx, m2)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != esign.SignatureCompleted || res.ContractID == "" {
			t.Fatalf("M2 result %+v", res)
		}
		k, err := d.GetContract(ctx, res.ContractID)
		if err != nil || len(k.Documents) != 2 {
			t.Fatalf("contract %+v, %v", k, err)
		}
		roots := x509.NewCertPool()
		roots.AddCert(s.dev.CA.Certificate)
		for _, doc := range k.Documents {
			var b bytes.Buffer
			if err := d.Download(ctx, doc.ID, &b); err != nil {
				t.Fatal(err)
			}
			rep, err := pades.Verify(ctx, bytes.NewReader(b.Bytes()), int64(b.Len()), pades.VerifyOptions{Roots: roots})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Valid() || !slices.Contains([]string{"B-T", "B-LT", "B-LTA"}, rep.Signatures[0].Level) {
				t.Fatalf("%s: %s", doc.Name, rep.Summary())
			}
		}
		if err := d.Acknowledge(ctx, res.ContractID); err != nil {
			t.Fatal(err)
		}
		// The same M2 again: the same contract.
		again, err := d.SendM2(ctx, m2)
		if err != nil || again.ContractID != res.ContractID {
			t.Fatalf("retried M2: %+v, %v", again, err)
		}
	})
}

// TestRejectedOverHTTP sends M2s that fail a Phase-4 check through the
// API: each is refused with its reason and nothing is signed.
func TestRejectedOverHTTP(t *testing.T) {
	s := newSystem(t, "sqlite")
	tests := []struct {
		name   string
		change func(m *signing.M2)
		code   string
	}{
		{"tampered_hash", func(m *signing.M2) { m.CustomerSignatureHash[3] ^= 0x40 }, "signature_hash"},
		{"tampered_offer_hash", func(m *signing.M2) { m.Offers[1][0] ^= 1 }, "offer_hashes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			d, c := s.onboard(t)
			o := s.offer(t, c)
			sigID, docs := s.prepare(t, d, o)
			m2, err := d.BuildM2(ctx, &device.M2Input{SignatureID: sigID, OfferID: o.ID, Documents: docs,
				Password: "Correct-Horse-Battery-9", SMSToken: s.ce.Queue.Last(t, notify.TwoFactorCode).Params.Code})
			if err != nil {
				t.Fatal(err)
			}
			tt.change(m2)
			_, err = d.SendM2(ctx, m2)
			if !esign.IsKind(err, esign.Invalid) || esign.ErrorCode(err) != tt.code {
				t.Fatalf("got %v, want %s", err, tt.code)
			}
			got, err := s.ce.DB.GetOffer(ctx, o.ID)
			if err != nil || got.State != esign.OfferOpened {
				t.Fatalf("offer %+v, %v", got, err)
			}
			if cs, _ := s.ce.DB.ListContracts(ctx, esign.ContractFilter{OfferID: o.ID}); len(cs) != 0 {
				t.Fatal("a contract was made")
			}
		})
	}
}

// TestRPC signs through css's queues (esign:rpc-signature) and checks the
// result on esign:rpc-signature-check.
func TestRPC(t *testing.T) {
	ctx := context.Background()
	s := newSystem(t, "sqlite")
	d, c := s.onboard(t)
	d.SeparateTimestamps = true // css's queues take M1 and M2 with their tokens
	o := s.offer(t, c)
	if _, err := d.GetOffer(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	cl := rpc.Caller{Token: d.SessionToken, IP: "127.0.0.1"}
	m1, err := d.BuildM1(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	r1, err := s.rpc.SignatureM1(ctx, cl, *m1)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.rpc.SignatureCheck(ctx, cl, r1.SignatureID)
	if err != nil || st.Status != esign.SignatureM1Received {
		t.Fatalf("check after M1: %+v, %v", st, err)
	}
	docs := [][]byte{pdftest.MinimalPadded(1, 64), pdftest.MinimalPadded(2, 128)}
	code := s.ce.Queue.Last(t, notify.TwoFactorCode).Params.Code
	// A mistyped code: the attempts left cross the bus, and the signature
	// waits for the corrected M2.
	wrong, err := d.BuildM2(ctx, &device.M2Input{SignatureID: r1.SignatureID, OfferID: o.ID, Documents: docs,
		Password: "Correct-Horse-Battery-9", SMSToken: customerstest.WrongCode(code)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.rpc.SignatureM2(ctx, cl, *wrong)
	if n, ok := esign.ErrorAttemptsLeft(err); esign.ErrorCode(err) != "invalid_code" || !ok || n != 4 {
		t.Fatalf("M2 with a wrong code: %v (attempts left %d)", err, n)
	}
	m2, err := d.BuildM2(ctx, &device.M2Input{SignatureID: r1.SignatureID, OfferID: o.ID, Documents: docs,
		Password: "Correct-Horse-Battery-9", SMSToken: code})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := s.rpc.SignatureM2(ctx, cl, *m2)
	if err != nil {
		t.Fatal(err)
	}
	st, err = s.rpc.SignatureCheck(ctx, cl, r1.SignatureID)
	if err != nil || st.Status != esign.SignatureCompleted || st.ContractID != r2.ContractID || st.ContractID == "" {
		t.Fatalf("check after M2: %+v, %v", st, err)
	}
	// Another customer does not see the signature.
	other, _ := s.onboard(t)
	_, err = s.rpc.SignatureCheck(ctx, rpc.Caller{Token: other.SessionToken}, r1.SignatureID)
	if !esign.IsKind(err, esign.NotFound) {
		t.Fatalf("another customer's check: %v", err)
	}
}

// TestWaitContract: the wait returns the contract once the signature is
// completed, the reason of a rejection, and gives up after ContractWait.
func TestWaitContract(t *testing.T) {
	var polls atomic.Int32
	status := map[string]func(n int32) signing.Status{
		"sealed": func(n int32) signing.Status {
			if n < 3 {
				return signing.Status{SignatureID: "sealed", Status: esign.SignatureVerified}
			}
			return signing.Status{SignatureID: "sealed", Status: esign.SignatureCompleted, ContractID: "k-1"}
		},
		"rejected": func(int32) signing.Status {
			return signing.Status{SignatureID: "rejected", Status: esign.SignatureRejected, Code: "ts_order", Reason: "late"}
		},
		"stuck": func(int32) signing.Status {
			return signing.Status{SignatureID: "stuck", Status: esign.SignatureVerified}
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := status[strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/signature/"), "/status")]
		if st == nil || r.Header.Get("Authorization") != "Bearer sess" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(st(polls.Add(1)))
	}))
	defer srv.Close()
	c := &device.Client{BaseURL: srv.URL, SessionToken: "sess", ContractWait: 500 * time.Millisecond}
	ctx := t.Context()
	if id, err := c.WaitContract(ctx, &signing.M2Result{SignatureID: "x", ContractID: "given"}); err != nil || id != "given" {
		t.Fatalf("a result with its contract: %q, %v", id, err)
	}
	if id, err := c.WaitContract(ctx, &signing.M2Result{SignatureID: "sealed"}); err != nil || id != "k-1" {
		t.Fatalf("sealed: %q, %v", id, err)
	}
	if _, err := c.WaitContract(ctx, &signing.M2Result{SignatureID: "rejected"}); err == nil || !strings.Contains(err.Error(), "ts_order") {
		t.Fatalf("rejected: %v", err)
	}
	if _, err := c.WaitContract(ctx, &signing.M2Result{SignatureID: "stuck"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stuck: %v, want the deadline", err)
	}
}
