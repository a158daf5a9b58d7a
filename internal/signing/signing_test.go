package signing_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"esign/internal/cms"
	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/notify"
	"esign/internal/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pki"
	"esign/internal/signing"
	"esign/internal/tsa"
)

const password = "Correct-Horse-Battery-9"

// tsaEnv is a real RFC 3161 TSA on loopback whose clock the test moves.
type tsaEnv struct {
	dev    *pki.Dev
	client *tsa.Client
	offset atomic.Int64
}

func (e *tsaEnv) advance(d time.Duration) { e.offset.Add(int64(d)) }

func newTSA(tb testing.TB) *tsaEnv {
	tb.Helper()
	dir := tb.TempDir()
	dev, _, err := pki.OpenDev(filepath.Join(dir, "pki"), pki.DevOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	serials, err := tsa.OpenFileSerialStore(filepath.Join(dir, "tsa.serial"), 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { serials.Close() })
	e := &tsaEnv{dev: dev}
	base := time.Now()
	srv, err := tsa.NewServer(tsa.ServerConfig{Certificate: dev.TSA.Certificate, Chain: dev.TSA.Chain, Key: dev.TSA.Key,
		Policy: tsa.DefaultPolicy, Serials: serials, Accuracy: 100 * time.Millisecond,
		Now: func() time.Time { return base.Add(time.Duration(e.offset.Load())) }})
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	tb.Cleanup(hs.Close)
	roots := x509.NewCertPool()
	roots.AddCert(dev.CA.Certificate)
	e.client = &tsa.Client{URL: hs.URL, Roots: roots}
	return e
}

// env is a customer with an approved, logged-in device and an opened
// offer of two documents.
type env struct {
	ce    *customerstest.Env
	tsa   *tsaEnv
	svc   *signing.Service
	p     *customers.Principal
	offer *esign.Offer
	docs  [][]byte
}

func newEnv(tb testing.TB, driver string, cfg signing.Config) *env {
	tb.Helper()
	return newEnvWith(tb, driver, cfg, customers.Config{})
}

func newEnvWith(tb testing.TB, driver string, cfg signing.Config, ccfg customers.Config) *env {
	tb.Helper()
	ctx := context.Background()
	db := customerstest.OpenDB(tb, driver)
	ce := customerstest.New(tb, db, nil, ccfg, nil)
	t := newTSA(tb)
	cfg.TSARoots = t.client.Roots
	if cfg.Sealing != nil {
		cfg.Sealing.Docs, cfg.Sealing.Queue = ce.Docs, ce.Queue
		cfg.Sealing.Seal.CMS = &pades.LocalSigner{Signer: cms.Signer{Certificate: t.dev.Signer.Certificate,
			Chain: t.dev.Signer.Chain, Key: t.dev.Signer.Key}, TSA: t.client}
		if cfg.Sealing.Seal.Level == pades.LevelBLTA && cfg.Sealing.Seal.TSA == nil {
			cfg.Sealing.Seal.TSA = t.client // the document time-stamp
		}
	}
	if cfg.Now == nil {
		cfg.Now = ce.Clock.Now
	}
	svc, err := signing.New(db, ce.Svc, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	c := ce.Customer(tb, "Kovács Anna")
	reg, err := ce.Svc.RegisterApp(ctx, customers.Registration{DeviceID: "350000000000001", OS: "android", FCMToken: "fcm-" + rand.Text()},
		customers.Meta{IP: "127.0.0.1"})
	if err != nil {
		tb.Fatal(err)
	}
	app, err := ce.Svc.AuthenticateDevice(ctx, reg.DeviceToken)
	if err != nil {
		tb.Fatal(err)
	}
	if err := ce.Svc.SendAssociationCode(ctx, c.ID); err != nil {
		tb.Fatal(err)
	}
	if _, err := ce.Svc.Associate(ctx, app, c.Phone, ce.Queue.Last(tb, notify.DeviceAssociationCode).Params.Code, customers.Meta{}); err != nil {
		tb.Fatal(err)
	}
	if app, err = db.GetApp(ctx, app.ID); err != nil {
		tb.Fatal(err)
	}
	if err := ce.Svc.CreateCredentials(ctx, app, "kovacs.anna", password, customers.Meta{}); err != nil {
		tb.Fatal(err)
	}
	ce.Approve(tb, c)
	li, err := ce.Svc.Login(ctx, app, "kovacs.anna", password, customers.Meta{})
	if err != nil {
		tb.Fatal(err)
	}
	p, err := ce.Svc.AuthenticateSession(ctx, li.SessionToken)
	if err != nil {
		tb.Fatal(err)
	}
	e := &env{ce: ce, tsa: t, svc: svc, p: p}
	e.offer = e.newOffer(tb)
	return e
}

// newOffer creates an offer of two documents and opens it.
func (e *env) newOffer(tb testing.TB) *esign.Offer {
	tb.Helper()
	ctx := context.Background()
	e.docs = [][]byte{pdftest.MinimalPadded(1, 100), pdftest.MinimalPadded(2, 200)}
	d1 := e.ce.Document(tb, e.p.Customer.ID, "one.pdf", e.docs[0])
	d2 := e.ce.Document(tb, e.p.Customer.ID, "two.pdf", e.docs[1])
	o := e.ce.Offer(tb, e.p.Customer.ID, "Loan", d1.ID, d2.ID)
	if _, err := e.ce.Svc.GetOffer(ctx, e.p, o.ID, customers.Meta{}); err != nil {
		tb.Fatal(err)
	}
	return o
}

// device is the device side of the protocol (what internal/device does
// over HTTP).
type device struct {
	key crypto.Signer
	alg string
	pub []byte
}

func newDevice(tb testing.TB, alg string) *device {
	tb.Helper()
	var key crypto.Signer
	var err error
	if alg == signing.ECDSAP256 {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		tb.Fatal(err)
	}
	return &device{key: key, alg: alg, pub: pub}
}

func (e *env) stamp(tb testing.TB, data []byte) []byte {
	tb.Helper()
	h := sha256.Sum256(data)
	tok, err := e.tsa.client.Timestamp(context.Background(), h[:], crypto.SHA256)
	if err != nil {
		tb.Fatal(err)
	}
	e.tsa.advance(time.Second)
	return tok.DER
}

func (e *env) m1(tb testing.TB, d *device, offerID string) *signing.M1 {
	tb.Helper()
	raw, err := signing.M1Raw(d.pub, e.p.Customer.Username, d.alg, offerID)
	if err != nil {
		tb.Fatal(err)
	}
	sig, err := signing.Sign(d.key, d.alg, raw)
	if err != nil {
		tb.Fatal(err)
	}
	tsData, err := signing.TS1Data(sig, raw)
	if err != nil {
		tb.Fatal(err)
	}
	return &signing.M1{OfferID: offerID, PublicKey: d.pub, Algorithm: d.alg, SignedData: sig, TS1: e.stamp(tb, tsData)}
}

func (e *env) smsCode(tb testing.TB) string {
	tb.Helper()
	return e.ce.Queue.Last(tb, notify.TwoFactorCode).Params.Code
}

// m2opts changes how the device builds M2.
type m2opts struct {
	hashes     [][]byte // offer hashes (default: the offer's documents)
	code       string   // SMS code (default: the one sent)
	signKey    crypto.Signer
	deviceInfo string
	beforeTS3  func() // runs between TS2 and TS3
}

func (e *env) m2(tb testing.TB, d *device, sigID string, o m2opts) *signing.M2 {
	tb.Helper()
	if o.hashes == nil {
		for _, doc := range e.docs {
			h := sha256.Sum256(doc)
			o.hashes = append(o.hashes, h[:])
		}
	}
	if o.code == "" {
		o.code = e.smsCode(tb)
	}
	if o.signKey == nil {
		o.signKey = d.key
	}
	if o.deviceInfo == "" {
		o.deviceInfo = "android 15; Pixel 9"
	}
	f := &signing.M2Fields{PublicKey: d.pub, Algorithm: d.alg, OfferID: e.offer.ID, OfferHashes: o.hashes,
		UserName: e.p.Customer.Username, SMSToken: o.code, DeviceInfo: o.deviceInfo, Photo: []byte("jpeg")}
	ts2Data, err := signing.TS2Data(f)
	if err != nil {
		tb.Fatal(err)
	}
	ts2 := e.stamp(tb, ts2Data)
	if o.beforeTS3 != nil {
		o.beforeTS3()
	}
	hash, err := signing.CustomerSignatureHash(f, ts2)
	if err != nil {
		tb.Fatal(err)
	}
	s2, err := signing.Signature2Data(f, ts2, hash)
	if err != nil {
		tb.Fatal(err)
	}
	signed, err := signing.Sign(o.signKey, d.alg, s2)
	if err != nil {
		tb.Fatal(err)
	}
	ts3Data, err := signing.TS3Data(f, ts2, hash, signed)
	if err != nil {
		tb.Fatal(err)
	}
	return &signing.M2{Version: signing.M2Version, SignatureID: sigID, OfferID: e.offer.ID, Offers: o.hashes,
		PublicKey: d.pub, Algorithm: d.alg, UserName: f.UserName, Password: password, SMSToken: o.code,
		DeviceInfo: f.DeviceInfo, Photo: f.Photo, CustomerSignatureHash: hash, SignedTS3: signed, TS2: ts2,
		TS3: e.stamp(tb, ts3Data)}
}

func wantCode(tb testing.TB, err error, k esign.Kind, code string) {
	tb.Helper()
	if !esign.IsKind(err, k) || esign.ErrorCode(err) != code {
		tb.Fatalf("got %v, want %v (%s)", err, k, code)
	}
}

func (e *env) offerState(tb testing.TB) esign.OfferState {
	tb.Helper()
	o, err := e.ce.DB.GetOffer(context.Background(), e.offer.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return o.State
}

func TestSignAlgorithms(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		for _, alg := range signing.Algorithms {
			t.Run(alg, func(t *testing.T) {
				ctx := context.Background()
				e := newEnv(t, driver, signing.Config{})
				d := newDevice(t, alg)
				r1, err := e.svc.M1(ctx, e.p, e.m1(t, d, e.offer.ID))
				if err != nil {
					t.Fatal(err)
				}
				if s := e.offerState(t); s != esign.OfferSigning {
					t.Fatalf("offer state after M1 = %s", s)
				}
				m2 := e.m2(t, d, r1.SignatureID, m2opts{})
				r2, err := e.svc.M2(ctx, e.p, m2, customers.Meta{})
				if err != nil {
					t.Fatal(err)
				}
				if r2.Status != esign.SignatureVerified || len(r2.CustomerSignatureHash) != 64 {
					t.Fatalf("M2 result %+v", r2)
				}
				v, err := e.ce.DB.GetSignatureValidation(ctx, r1.SignatureID)
				if err != nil || !v.Valid || v.TS1At.IsZero() || !v.TS1At.Before(v.TS3At) {
					t.Fatalf("validation %+v, %v", v, err)
				}
				// A retried identical M2 gets the same answer.
				again, err := e.svc.M2(ctx, e.p, m2, customers.Meta{})
				if err != nil || *again != *r2 {
					t.Fatalf("retry: %+v, %v", again, err)
				}
				// A different M2 for the handled signature is a conflict.
				m2.DeviceInfo = "other"
				_, err = e.svc.M2(ctx, e.p, m2, customers.Meta{})
				wantCode(t, err, esign.Conflict, "signature_state")
			})
		}
	})
}

func TestM1Checks(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "sqlite", signing.Config{Algorithms: []string{signing.ECDSAP256, signing.RSAPSS}})
	d := newDevice(t, signing.ECDSAP256)
	other := e.newOffer(t)
	tests := []struct {
		name string
		m    func() *signing.M1
		kind esign.Kind
		code string
	}{
		{"replayed_for_another_offer", func() *signing.M1 {
			m := e.m1(t, d, e.offer.ID)
			m.OfferID = other.ID
			return m
		}, esign.Invalid, "signature1"},
		{"refused_algorithm", func() *signing.M1 { return e.m1(t, newDevice(t, signing.RSAPKCS1), e.offer.ID) }, esign.Invalid, "algorithm_refused"},
		{"key_for_other_algorithm", func() *signing.M1 {
			m := e.m1(t, d, e.offer.ID)
			m.Algorithm = signing.RSAPSS
			return m
		}, esign.Invalid, "key_invalid"},
		{"ts1_for_other_data", func() *signing.M1 {
			m := e.m1(t, d, e.offer.ID)
			m.TS1 = e.m1(t, d, other.ID).TS1
			return m
		}, esign.Invalid, "ts1_invalid"},
		{"wrong_key", func() *signing.M1 {
			m := e.m1(t, d, e.offer.ID)
			m.PublicKey = newDevice(t, signing.ECDSAP256).pub
			return m
		}, esign.Invalid, "signature1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.M1(ctx, e.p, tt.m())
			wantCode(t, err, tt.kind, tt.code)
			if s := e.offerState(t); s != esign.OfferOpened {
				t.Fatalf("offer state %s after a refused M1", s)
			}
		})
	}
	// The same M1 twice resends the code; another one is a conflict.
	m := e.m1(t, d, e.offer.ID)
	r1, err := e.svc.M1(ctx, e.p, m)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := e.svc.M1(ctx, e.p, m)
	if err != nil || r2.SignatureID != r1.SignatureID || e.ce.Queue.Count(notify.TwoFactorCode) != 2 {
		t.Fatalf("repeated M1: %+v, %v", r2, err)
	}
	_, err = e.svc.M1(ctx, e.p, e.m1(t, newDevice(t, signing.ECDSAP256), e.offer.ID))
	wantCode(t, err, esign.Conflict, "signature_pending")
}

// TestM2Checks runs one negative test per Phase-4 check: each is rejected
// with its code, recorded, and the offer returns to opened, unsigned.
func TestM2Checks(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, e *env, d *device, sigID string) *signing.M2
		code   string
	}{
		{"tampered_hash", func(t *testing.T, e *env, d *device, sigID string) *signing.M2 {
			m := e.m2(t, d, sigID, m2opts{})
			m.CustomerSignatureHash[0] ^= 1
			return m
		}, "signature_hash"},
		{"expired_sms_code", func(t *testing.T, e *env, d *device, sigID string) *signing.M2 {
			e.ce.Clock.Advance(customers.DefaultConfig().CodeTTL)
			return e.m2(t, d, sigID, m2opts{})
		}, "sms_token"},
		{"wrong_key", func(t *testing.T, e *env, d *device, sigID string) *signing.M2 {
			return e.m2(t, d, sigID, m2opts{signKey: newDevice(t, d.alg).key})
		}, "signature2"},
		{"other_public_key", func(t *testing.T, e *env, d *device, sigID string) *signing.M2 {
			return e.m2(t, newDevice(t, d.alg), sigID, m2opts{})
		}, "public_key"},
		{"tampered_offer_hash", func(t *testing.T, e *env, d *device, sigID string) *signing.M2 {
			h := sha256.Sum256([]byte("another document"))
			return e.m2(t, d, sigID, m2opts{hashes: [][]byte{h[:], h[:]}})
		}, "offer_hashes"},
		{"offer_changed_after_m1", func(t *testing.T, e *env, d *device, sigID string) *signing.M2 {
			doc := []byte("%PDF-1.7 added later")
			dd := e.ce.Document(t, e.p.Customer.ID, "three.pdf", doc)
			if err := e.ce.DB.AddOfferDocument(context.Background(), e.offer.ID, dd.ID); err != nil {
				t.Fatal(err)
			}
			e.docs = append(e.docs, doc)
			return e.m2(t, d, sigID, m2opts{})
		}, "offer_changed"},
		{"stale_timestamps", func(t *testing.T, e *env, d *device, sigID string) *signing.M2 {
			return e.m2(t, d, sigID, m2opts{beforeTS3: func() { e.tsa.advance(10 * time.Minute) }})
		}, "ts_window"},
		{"reordered_timestamps", func(t *testing.T, e *env, d *device, sigID string) *signing.M2 {
			return e.m2(t, d, sigID, m2opts{beforeTS3: func() { e.tsa.advance(-5 * time.Second) }})
		}, "ts_order"},
		{"ts2_for_other_data", func(t *testing.T, e *env, d *device, sigID string) *signing.M2 {
			m := e.m2(t, d, sigID, m2opts{})
			m.DeviceInfo = "changed after TS2"
			return m
		}, "ts2_invalid"},
		{"ts3_for_other_data", func(t *testing.T, e *env, d *device, sigID string) *signing.M2 {
			m := e.m2(t, d, sigID, m2opts{})
			m.TS3 = m.TS2
			return m
		}, "ts3_invalid"},
		{"wrong_username", func(t *testing.T, e *env, d *device, sigID string) *signing.M2 {
			m := e.m2(t, d, sigID, m2opts{})
			m.UserName = "someone.else"
			return m
		}, "username"},
		{"unknown_version", func(t *testing.T, e *env, d *device, sigID string) *signing.M2 {
			m := e.m2(t, d, sigID, m2opts{})
			m.Version = 2
			return m
		}, "version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			fd := &feed{}
			e := newEnv(t, "sqlite", signing.Config{Feed: fd})
			d := newDevice(t, signing.ECDSAP256)
			r1, err := e.svc.M1(ctx, e.p, e.m1(t, d, e.offer.ID))
			if err != nil {
				t.Fatal(err)
			}
			m := tt.change(t, e, d, r1.SignatureID)
			_, err = e.svc.M2(ctx, e.p, m, customers.Meta{})
			wantCode(t, err, esign.Invalid, tt.code)
			v, err := e.ce.DB.GetSignatureValidation(ctx, r1.SignatureID)
			if err != nil || v.Valid || v.Code != tt.code {
				t.Fatalf("validation %+v, %v", v, err)
			}
			g, err := e.ce.DB.GetSignature(ctx, r1.SignatureID)
			if err != nil || g.Status != esign.SignatureRejected || g.RejectCode != tt.code {
				t.Fatalf("signature %+v, %v", g, err)
			}
			if s := e.offerState(t); s != esign.OfferOpened {
				t.Fatalf("offer state %s after a rejected M2", s)
			}
			if want := []string{"signature.rejected " + r1.SignatureID + " " + tt.code}; !slices.Equal(fd.entries, want) {
				t.Errorf("feed %v, want %v", fd.entries, want)
			}
			// The same message again gets the same rejection.
			_, err = e.svc.M2(ctx, e.p, m, customers.Meta{})
			wantCode(t, err, esign.Invalid, tt.code)
		})
	}
}

// wantAttemptsLeft checks that err is a mistyped code with n attempts left.
func wantAttemptsLeft(tb testing.TB, err error, n int) {
	tb.Helper()
	wantCode(tb, err, esign.Invalid, "invalid_code")
	if left, ok := esign.ErrorAttemptsLeft(err); !ok || left != n {
		tb.Fatalf("attempts left %d (%v), want %d: %v", left, ok, n, err)
	}
}

// waiting checks that the signature still waits for its M2 with nothing
// recorded and the offer being signed.
func (e *env) waiting(tb testing.TB, sigID string) {
	tb.Helper()
	ctx := context.Background()
	g, err := e.ce.DB.GetSignature(ctx, sigID)
	if err != nil || g.Status != esign.SignatureM1Received {
		tb.Fatalf("signature %+v, %v", g, err)
	}
	if _, err := e.ce.DB.GetSignatureValidation(ctx, sigID); !esign.IsKind(err, esign.NotFound) {
		tb.Fatalf("a verdict was recorded: %v", err)
	}
	if s := e.offerState(tb); s != esign.OfferSigning {
		tb.Fatalf("offer state %s", s)
	}
}

// rejected checks that the signature was rejected for its SMS code.
func (e *env) rejected(tb testing.TB, sigID string) {
	tb.Helper()
	g, err := e.ce.DB.GetSignature(context.Background(), sigID)
	if err != nil || g.Status != esign.SignatureRejected || g.RejectCode != "sms_token" {
		tb.Fatalf("signature %+v, %v", g, err)
	}
	if s := e.offerState(tb); s != esign.OfferOpened {
		tb.Fatalf("offer state %s after a rejected M2", s)
	}
}

// usableCodes counts the signature's unspent, unexpired codes.
func (e *env) usableCodes(tb testing.TB, sigID string) int {
	tb.Helper()
	ts, err := e.ce.DB.ListVerificationTokens(context.Background(), esign.VerificationTokenFilter{CustomerID: e.p.Customer.ID,
		SignatureID: sigID, Purpose: esign.TokenTwoFactor, UsableAt: e.ce.Clock.Now()})
	if err != nil {
		tb.Fatal(err)
	}
	return len(ts)
}

// TestM2SMSCode: the second factor of the specification's flow (2f-auth,
// then M2 with the same code), a mistyped code in M2 (an error with the
// attempts left; the same signature then succeeds), and the codes that end
// the signature (attempts exhausted, expired).
func TestM2SMSCode(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, e *env, d *device, sigID string)
	}{
		{"two_factor_then_m2", func(t *testing.T, e *env, d *device, sigID string) {
			code := e.smsCode(t)
			for range 2 { // 2f-auth confirms the factors without spending the code
				if err := e.ce.Svc.TwoFactorAuth(t.Context(), e.p, sigID, e.p.Customer.Username, password, code, customers.Meta{}); err != nil {
					t.Fatal(err)
				}
			}
			r, err := e.svc.M2(t.Context(), e.p, e.m2(t, d, sigID, m2opts{code: code}), customers.Meta{})
			if err != nil || r.Status != esign.SignatureVerified {
				t.Fatalf("M2 after 2f-auth: %+v, %v", r, err)
			}
			if n := e.usableCodes(t, sigID); n != 0 {
				t.Fatalf("%d usable codes after M2, want the code spent", n)
			}
		}},
		{"wrong_then_right", func(t *testing.T, e *env, d *device, sigID string) {
			code := e.smsCode(t)
			for i := range 2 {
				_, err := e.svc.M2(t.Context(), e.p, e.m2(t, d, sigID, m2opts{code: customerstest.WrongCode(code)}), customers.Meta{})
				wantAttemptsLeft(t, err, 4-i)
				e.waiting(t, sigID)
			}
			err := e.ce.Svc.TwoFactorAuth(t.Context(), e.p, sigID, e.p.Customer.Username, password, customerstest.WrongCode(code), customers.Meta{})
			wantAttemptsLeft(t, err, 2) // 2f-auth and M2 count against the same code
			r, err := e.svc.M2(t.Context(), e.p, e.m2(t, d, sigID, m2opts{code: code}), customers.Meta{})
			if err != nil || r.Status != esign.SignatureVerified {
				t.Fatalf("M2 with the right code: %+v, %v", r, err)
			}
		}},
		{"exhausted", func(t *testing.T, e *env, d *device, sigID string) {
			code := e.smsCode(t)
			for i := range 4 {
				_, err := e.svc.M2(t.Context(), e.p, e.m2(t, d, sigID, m2opts{code: customerstest.WrongCode(code)}), customers.Meta{})
				wantAttemptsLeft(t, err, 4-i)
			}
			_, err := e.svc.M2(t.Context(), e.p, e.m2(t, d, sigID, m2opts{code: customerstest.WrongCode(code)}), customers.Meta{})
			wantCode(t, err, esign.Invalid, "sms_token")
			e.rejected(t, sigID)
			// The signature is over: the right code does not revive it.
			_, err = e.svc.M2(t.Context(), e.p, e.m2(t, d, sigID, m2opts{code: code}), customers.Meta{})
			wantCode(t, err, esign.Conflict, "signature_state")
		}},
		{"exhausted_at_two_factor", func(t *testing.T, e *env, d *device, sigID string) {
			code := e.smsCode(t)
			for i := range 5 {
				err := e.ce.Svc.TwoFactorAuth(t.Context(), e.p, sigID, e.p.Customer.Username, password, customerstest.WrongCode(code), customers.Meta{})
				wantAttemptsLeft(t, err, 4-i)
			}
			err := e.ce.Svc.TwoFactorAuth(t.Context(), e.p, sigID, e.p.Customer.Username, password, code, customers.Meta{})
			wantAttemptsLeft(t, err, 0)
			e.waiting(t, sigID) // 2f-auth gives no verdict; M2 does
			_, err = e.svc.M2(t.Context(), e.p, e.m2(t, d, sigID, m2opts{code: code}), customers.Meta{})
			wantCode(t, err, esign.Invalid, "sms_token")
			e.rejected(t, sigID)
		}},
		{"expired", func(t *testing.T, e *env, d *device, sigID string) {
			e.ce.Clock.Advance(customers.DefaultConfig().CodeTTL)
			_, err := e.svc.M2(t.Context(), e.p, e.m2(t, d, sigID, m2opts{}), customers.Meta{})
			wantCode(t, err, esign.Invalid, "sms_token")
			e.rejected(t, sigID)
		}},
		{"failed_verdict_keeps_the_code", func(t *testing.T, e *env, d *device, sigID string) {
			// A row the verdict's transaction will collide with makes it
			// fail after spending the code: the spending rolls back too.
			if err := e.ce.DB.CreateSignatureData(t.Context(), &esign.SignatureData{SignatureID: sigID, Kind: "m2_request",
				Data: []byte("{}"), SHA256: "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.M2(t.Context(), e.p, e.m2(t, d, sigID, m2opts{}), customers.Meta{}); err == nil {
				t.Fatal("the verdict committed")
			}
			e.waiting(t, sigID)
			if n := e.usableCodes(t, sigID); n != 1 {
				t.Fatalf("%d usable codes: the code was spent by a verdict that did not commit", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			customerstest.Engines(t, func(t *testing.T, driver string) {
				e := newEnv(t, driver, signing.Config{})
				d := newDevice(t, signing.ECDSAP256)
				r1, err := e.svc.M1(t.Context(), e.p, e.m1(t, d, e.offer.ID))
				if err != nil {
					t.Fatal(err)
				}
				tt.run(t, e, d, r1.SignatureID)
			})
		})
	}
}

// TestM2TakeOver: a handler that died between claiming the signature and
// committing its verdict (oss killed inside M2) leaves the claim behind. A
// retried M2 is refused while the claim is fresh and takes it over once it
// is stale; a repeated M1 resends the code for the stale claim.
func TestM2TakeOver(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		ctx := t.Context()
		e := newEnv(t, driver, signing.Config{})
		d := newDevice(t, signing.ECDSAP256)
		m1 := e.m1(t, d, e.offer.ID)
		r1, err := e.svc.M1(ctx, e.p, m1)
		if err != nil {
			t.Fatal(err)
		}
		// The dead handler's claim.
		now := e.ce.Clock.Now()
		if ok, err := e.ce.DB.ClaimSignature(ctx, r1.SignatureID, now, now.Add(-signing.ClaimTimeout)); err != nil || !ok {
			t.Fatalf("claim: %v, %v", ok, err)
		}
		m2 := e.m2(t, d, r1.SignatureID, m2opts{})
		_, err = e.svc.M2(ctx, e.p, m2, customers.Meta{})
		wantCode(t, err, esign.Conflict, "signature_state")
		_, err = e.svc.M1(ctx, e.p, m1)
		wantCode(t, err, esign.Conflict, "signature_pending")

		e.ce.Clock.Advance(signing.ClaimTimeout + time.Second)
		sent := e.ce.Queue.Count(notify.TwoFactorCode)
		r, err := e.svc.M1(ctx, e.p, m1)
		if err != nil || r.SignatureID != r1.SignatureID {
			t.Fatalf("M1 after the claim went stale: %+v, %v", r, err)
		}
		if n := e.ce.Queue.Count(notify.TwoFactorCode); n != sent+1 {
			t.Fatalf("%d signing codes sent by the repeated M1, want 1", n-sent)
		}
		res, err := e.svc.M2(ctx, e.p, e.m2(t, d, r1.SignatureID, m2opts{code: e.smsCode(t)}), customers.Meta{})
		if err != nil || res.Status != esign.SignatureVerified {
			t.Fatalf("M2 taking over the stale claim: %+v, %v", res, err)
		}
	})
}

// TestM2Race sends two different M2 for one signature at once: exactly
// one is accepted, the other gets a conflict.
func TestM2Race(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "sqlite", signing.Config{})
	d := newDevice(t, signing.ECDSAP256)
	r1, err := e.svc.M1(ctx, e.p, e.m1(t, d, e.offer.ID))
	if err != nil {
		t.Fatal(err)
	}
	ms := []*signing.M2{e.m2(t, d, r1.SignatureID, m2opts{deviceInfo: "a"}), e.m2(t, d, r1.SignatureID, m2opts{deviceInfo: "b"})}
	errs := make([]error, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Go(func() { _, errs[i] = e.svc.M2(ctx, e.p, m, customers.Meta{}) })
	}
	wg.Wait()
	var ok, conflict int
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case esign.IsKind(err, esign.Conflict):
			conflict++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 || conflict != 1 {
		t.Fatalf("%d accepted, %d conflicts: %v", ok, conflict, errs)
	}
}

// TestSigningCodeCap: the signing-code cap is per signature, so a
// customer signs more offers in an hour than one signature may resend its
// code.
func TestSigningCodeCap(t *testing.T) {
	ctx := context.Background()
	e := newEnvWith(t, "sqlite", signing.Config{}, customers.Config{SMSPerNumber: notify.Limit{N: 100, Per: time.Hour}})
	d := newDevice(t, signing.ECDSAP256)
	for i := range 7 { // above the cap of 5 codes per hour
		if i > 0 {
			e.offer = e.newOffer(t)
		}
		r1, err := e.svc.M1(ctx, e.p, e.m1(t, d, e.offer.ID))
		if err != nil {
			t.Fatalf("offer %d: M1: %v", i+1, err)
		}
		if _, err := e.svc.M2(ctx, e.p, e.m2(t, d, r1.SignatureID, m2opts{}), customers.Meta{}); err != nil {
			t.Fatalf("offer %d: M2: %v", i+1, err)
		}
	}
	e.offer = e.newOffer(t)
	m1 := e.m1(t, d, e.offer.ID)
	for range 5 { // the first M1 and four resends
		if _, err := e.svc.M1(ctx, e.p, m1); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.svc.M1(ctx, e.p, m1)
	wantCode(t, err, esign.TooMany, "sms_limit")
}

// TestM2Password: M2's password is checked against the proof the login
// left in the session (no second Argon2id), with the login's failure
// counting and lockout; a session without a proof falls back to Argon2id.
func TestM2Password(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, e *env, d *device, sigID string)
	}{
		{"proof", func(t *testing.T, e *env, d *device, sigID string) {
			if e.p.Session.PasswordProof == "" {
				t.Fatal("the login left no password proof in the session")
			}
			m2 := e.m2(t, d, sigID, m2opts{})
			m2.Password = "Wrong-Horse-Battery-9"
			_, err := e.svc.M2(ctx, e.p, m2, customers.Meta{})
			wantCode(t, err, esign.Unauthorized, "invalid_credentials")
			if g, _ := e.ce.DB.GetSignature(ctx, sigID); g.Status != esign.SignatureM1Received {
				t.Fatalf("a wrong password changed the signature to %s", g.Status)
			}
			m2.Password = password
			if _, err := e.svc.M2(ctx, e.p, m2, customers.Meta{}); err != nil {
				t.Fatal(err)
			}
		}},
		{"lockout", func(t *testing.T, e *env, d *device, sigID string) {
			m2 := e.m2(t, d, sigID, m2opts{})
			m2.Password = "Wrong-Horse-Battery-9"
			for range 10 {
				_, err := e.svc.M2(ctx, e.p, m2, customers.Meta{})
				wantCode(t, err, esign.Unauthorized, "invalid_credentials")
			}
			m2.Password = password
			_, err := e.svc.M2(ctx, e.p, m2, customers.Meta{})
			wantCode(t, err, esign.Unauthorized, "invalid_credentials")
		}},
		{"no_proof", func(t *testing.T, e *env, d *device, sigID string) {
			e.p.Session.PasswordProof = ""
			m2 := e.m2(t, d, sigID, m2opts{})
			m2.Password = "Wrong-Horse-Battery-9"
			_, err := e.svc.M2(ctx, e.p, m2, customers.Meta{})
			wantCode(t, err, esign.Unauthorized, "invalid_credentials")
			m2.Password = password
			if _, err := e.svc.M2(ctx, e.p, m2, customers.Meta{}); err != nil {
				t.Fatal(err)
			}
		}},
		{"other_session", func(t *testing.T, e *env, d *device, sigID string) {
			// A proof is bound to its session: another session's proof
			// of the right password does not match.
			e.p.Session.TokenHash = "another-session"
			_, err := e.svc.M2(ctx, e.p, e.m2(t, d, sigID, m2opts{}), customers.Meta{})
			wantCode(t, err, esign.Unauthorized, "invalid_credentials")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "sqlite", signing.Config{})
			d := newDevice(t, signing.ECDSAP256)
			r1, err := e.svc.M1(ctx, e.p, e.m1(t, d, e.offer.ID))
			if err != nil {
				t.Fatal(err)
			}
			tt.run(t, e, d, r1.SignatureID)
		})
	}
}

// TestM1Supersedes: an M1 whose key was lost (a private window closed,
// another browser) leaves the offer being signed. Another key's M1 is
// refused while the pending signature could still end in an acceptable
// M2 — inside the time-stamp window, or claimed by a live M2 (the rules
// of TestM2TakeOver) — and supersedes it afterwards: the old signature is
// rejected ("superseded"), its M2 refused, and the new key signs.
func TestM1Supersedes(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		ctx := t.Context()
		// The service clock runs with the TSA's (from now on): the
		// window is TS1's time plus MaxSpan.
		var skew atomic.Int64
		now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		const span = 10 * time.Minute
		e := newEnv(t, driver, signing.Config{Now: now, MaxSpan: span})
		advance := func(d time.Duration) { skew.Add(int64(d)); e.tsa.advance(d) }
		lost, other := newDevice(t, signing.ECDSAP256), newDevice(t, signing.ECDSAP256)
		r1, err := e.svc.M1(ctx, e.p, e.m1(t, lost, e.offer.ID))
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.M1(ctx, e.p, e.m1(t, other, e.offer.ID))
		wantCode(t, err, esign.Conflict, "signature_pending")

		// Past the window, but an M2 of the old key holds a fresh claim.
		advance(span + time.Minute)
		at := now()
		if ok, err := e.ce.DB.ClaimSignature(ctx, r1.SignatureID, at, at.Add(-signing.ClaimTimeout)); err != nil || !ok {
			t.Fatalf("claim: %v, %v", ok, err)
		}
		_, err = e.svc.M1(ctx, e.p, e.m1(t, other, e.offer.ID))
		wantCode(t, err, esign.Conflict, "signature_pending")

		// The claim went stale: the new M1 supersedes the abandoned one.
		advance(signing.ClaimTimeout + time.Second)
		r2, err := e.svc.M1(ctx, e.p, e.m1(t, other, e.offer.ID))
		if err != nil || r2.SignatureID == r1.SignatureID {
			t.Fatalf("M1 superseding: %+v, %v", r2, err)
		}
		g, err := e.ce.DB.GetSignature(ctx, r1.SignatureID)
		if err != nil || g.Status != esign.SignatureRejected || g.RejectCode != signing.SupersededCode {
			t.Fatalf("superseded signature %+v, %v", g, err)
		}
		if s := e.offerState(t); s != esign.OfferSigning {
			t.Fatalf("offer state %s after superseding", s)
		}
		code := e.smsCode(t)
		_, err = e.svc.M2(ctx, e.p, e.m2(t, lost, r1.SignatureID, m2opts{code: code}), customers.Meta{})
		wantCode(t, err, esign.Conflict, "signature_state")
		_, err = e.svc.M1(ctx, e.p, e.m1(t, lost, e.offer.ID)) // the new signing is fresh
		wantCode(t, err, esign.Conflict, "signature_pending")
		res, err := e.svc.M2(ctx, e.p, e.m2(t, other, r2.SignatureID, m2opts{code: code}), customers.Meta{})
		if err != nil || res.Status != esign.SignatureVerified {
			t.Fatalf("M2 of the new key: %+v, %v", res, err)
		}
	})
}

// TestM1ReadToEnd: a customer UI session signs only once every document
// of the offer was read to the end; the app's session is not held to it.
func TestM1ReadToEnd(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, "sqlite", signing.Config{})
	in, err := e.ce.Svc.WebLogin(ctx, "kovacs.anna", password, customers.Meta{IP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	web, err := e.ce.Svc.AuthenticateSession(ctx, in.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := e.ce.DB.ListDocuments(ctx, esign.DocumentFilter{OfferID: e.offer.ID})
	if err != nil || len(docs) != 2 {
		t.Fatalf("documents %d, %v", len(docs), err)
	}
	d := newDevice(t, signing.ECDSAP256)
	for _, doc := range docs {
		_, err := e.svc.M1(ctx, web, e.m1(t, d, e.offer.ID))
		wantCode(t, err, esign.Invalid, "not_read")
		if _, err := e.ce.Svc.MarkDocumentRead(ctx, web, doc.ID, customers.Meta{}); err != nil { // opened is not read
			t.Fatal(err)
		}
		_, err = e.svc.M1(ctx, web, e.m1(t, d, e.offer.ID))
		wantCode(t, err, esign.Invalid, "not_read")
		if err := e.ce.Svc.RecordReadToEnd(ctx, web, e.offer.ID, doc.ID, customers.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.M1(ctx, web, e.m1(t, d, e.offer.ID)); err != nil {
		t.Fatalf("M1 after reading both documents to the end: %v", err)
	}
	// The app signs another offer without the viewer's record.
	e.offer = e.newOffer(t)
	if _, err := e.svc.M1(ctx, e.p, e.m1(t, d, e.offer.ID)); err != nil {
		t.Fatalf("the app's M1: %v", err)
	}
}
