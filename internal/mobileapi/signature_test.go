package mobileapi

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/notify"
	"esign/internal/signing"
	"esign/internal/tsa"
	"esign/internal/tsa/tsatest"
)

// signingClient is a client whose API serves the signature endpoints on
// a database of the driver, with a TSA of 10 ms accuracy.
func signingClient(t *testing.T, driver string) (*client, *tsa.Client) {
	t.Helper()
	ts := tsatest.Start(t, 10*time.Millisecond)
	tc, roots := ts.Client, ts.Roots
	env := customerstest.New(t, customerstest.OpenDB(t, driver), nil, customers.Config{}, tc)
	svc, err := signing.New(env.DB, env.Svc, signing.Config{TSARoots: roots, Now: env.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// As oss serves it: the combined M1 and M2 besides the original ones.
	api := httptest.NewServer(New(env.Svc, slog.New(slog.DiscardHandler), WithSigning(signing.NewOneShot(svc, env.Svc))))
	t.Cleanup(api.Close)
	return &client{t: t, url: api.URL, doc: loadDoc(t), env: env}, tc
}

func stamp(t *testing.T, tc *tsa.Client, data []byte) []byte {
	t.Helper()
	h := sha256.Sum256(data)
	tok, err := tc.Timestamp(t.Context(), h[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond) // beyond the tokens' accuracy
	return tok.DER
}

// TestSignature runs M1, 2f-auth and M2 over HTTP as the specification's
// app does, every answer checked against the OpenAPI document: 2f-auth
// leaves the code to M2, and a mistyped code in M2 is an error with the
// attempts left after which the same signature succeeds.
func TestSignature(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		c, tc := signingClient(t, driver)
		a := c.account("Kiss Ilona", true)
		tok := c.login(a)
		docs := [][]byte{[]byte("%PDF-1.7 one"), []byte("%PDF-1.7 two")}
		d1 := c.env.Document(t, a.customer.ID, "one.pdf", docs[0])
		d2 := c.env.Document(t, a.customer.ID, "two.pdf", docs[1])
		o := c.env.Offer(t, a.customer.ID, "Loan", d1.ID, d2.ID)
		c.want(c.do("GET", "/api/offer/"+o.ID, tok, nil), 200, "")

		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := x509.MarshalPKIXPublicKey(key.Public())
		raw, _ := signing.M1Raw(pub, a.username, signing.ECDSAP256, o.ID)
		sig, _ := signing.Sign(key, signing.ECDSAP256, raw)
		ts1Data, _ := signing.TS1Data(sig, raw)
		m1 := signing.M1{OfferID: o.ID, PublicKey: pub, Algorithm: signing.ECDSAP256, SignedData: sig, TS1: stamp(t, tc, ts1Data)}

		bad := m1
		bad.Algorithm = "dsa-sha1"
		c.want(c.do("POST", "/api/signature/m1", tok, bad), 400, "algorithm_refused")
		c.want(c.do("POST", "/api/signature/m1", a.deviceToken, m1), 401, "invalid_token")
		r := c.do("POST", "/api/signature/m1", tok, m1)
		c.want(r, 200, "")
		sigID := r.json(t)["signatureId"].(string)
		code := c.env.Queue.Last(t, notify.TwoFactorCode).Params.Code

		// The M2 a device builds with a code (the code is signed into it).
		m2 := func(code string) signing.M2 {
			f := &signing.M2Fields{PublicKey: pub, Algorithm: signing.ECDSAP256, OfferID: o.ID, UserName: a.username,
				SMSToken: code, DeviceInfo: "test"}
			for _, d := range docs {
				h := sha256.Sum256(d)
				f.OfferHashes = append(f.OfferHashes, h[:])
			}
			ts2Data, _ := signing.TS2Data(f)
			ts2 := stamp(t, tc, ts2Data)
			hash, _ := signing.CustomerSignatureHash(f, ts2)
			s2, _ := signing.Signature2Data(f, ts2, hash)
			signed, _ := signing.Sign(key, signing.ECDSAP256, s2)
			ts3Data, _ := signing.TS3Data(f, ts2, hash, signed)
			return signing.M2{Version: 1, SignatureID: sigID, OfferID: o.ID, Offers: f.OfferHashes, PublicKey: pub,
				Algorithm: signing.ECDSAP256, UserName: a.username, Password: a.password, SMSToken: code,
				DeviceInfo: f.DeviceInfo, CustomerSignatureHash: hash, SignedTS3: signed, TS2: ts2, TS3: stamp(t, tc, ts3Data)}
		}
		c.want(c.do("POST", "/api/customer/2f-auth", tok, map[string]string{"signatureId": sigID, "username": a.username,
			"password": a.password, "smsToken": code}), 200, "")

		r = c.do("POST", "/api/signature/m2", tok, m2(customerstest.WrongCode(code)))
		c.want(r, 400, "invalid_code")
		if n := r.attemptsLeft(); n != 4 {
			t.Fatalf("attemptsLeft %d, want 4: %s", n, r.body)
		}
		right := m2(code)
		wrong := right
		wrong.Password = "Wrong-pass-123"
		c.want(c.do("POST", "/api/signature/m2", tok, wrong), 401, "invalid_credentials")
		r = c.do("POST", "/api/signature/m2", tok, right)
		c.want(r, 200, "")
		if got := r.json(t); got["status"] != "verified" || got["signatureId"] != sigID {
			t.Fatalf("M2 answer %v", got)
		}
	})
}

// TestSignatureDisabled: without a signer the endpoints answer 503, and
// a customer who is not approved gets 403.
func TestSignatureDisabled(t *testing.T) {
	c := newClient(t, setups[0], nil)
	a := c.account("Nagy Béla", true)
	c.want(c.do("POST", "/api/signature/m1", c.login(a), map[string]string{"offerId": "x"}), 503, "signing_disabled")
	s, _ := signingClient(t, "sqlite")
	b := s.account("Tóth Éva", false)
	s.want(s.do("POST", "/api/signature/m1", s.login(b), map[string]string{"offerId": "x"}), 403, "not_approved")
}
