package mobileapi

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
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

// tokenOver checks that the answer's base64 field is a time-stamp token
// over SHA-256 of data.
func tokenOver(t *testing.T, answer map[string]any, field string, data []byte) {
	t.Helper()
	s, _ := answer[field].(string)
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil || s == "" {
		t.Fatalf("%s: %q, %v", field, s, err)
	}
	tok, err := tsa.ParseToken(der)
	if err != nil {
		t.Fatalf("%s: %v", field, err)
	}
	if h := sha256.Sum256(data); !bytes.Equal(tok.Info.HashedMessage, h[:]) {
		t.Fatalf("%s is not over the data the device would have time-stamped", field)
	}
}

// combinedM1 is a new device key and its M1 for the offer without ts1,
// with the rawData it signs.
func combinedM1(t *testing.T, username, offerID string) (*ecdsa.PrivateKey, signing.M1, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(key.Public())
	raw, _ := signing.M1Raw(pub, username, signing.ECDSAP256, offerID)
	sig, _ := signing.Sign(key, signing.ECDSAP256, raw)
	return key, signing.M1{OfferID: offerID, PublicKey: pub, Algorithm: signing.ECDSAP256, SignedData: sig}, raw
}

// TestSignatureCombined runs M1 without ts1 and M2 without ts3 over HTTP,
// every answer checked against the OpenAPI document: the server obtains
// the tokens over exactly the TS1 and TS3 data and answers them; a
// combined message that fails a check fails with the same code as the
// separate form.
func TestSignatureCombined(t *testing.T) {
	customerstest.Engines(t, func(t *testing.T, driver string) {
		c, tc := signingClient(t, driver)
		a := c.account("Szabó Réka", true)
		tok := c.login(a)
		docs := [][]byte{[]byte("%PDF-1.7 one"), []byte("%PDF-1.7 two")}
		d1 := c.env.Document(t, a.customer.ID, "one.pdf", docs[0])
		d2 := c.env.Document(t, a.customer.ID, "two.pdf", docs[1])
		o := c.env.Offer(t, a.customer.ID, "Loan", d1.ID, d2.ID)
		c.want(c.do("GET", "/api/offer/"+o.ID, tok, nil), 200, "")

		key, m1, raw := combinedM1(t, a.username, o.ID)
		pub, sig := m1.PublicKey, m1.SignedData

		bad := m1
		bad.SignedData = append([]byte{}, sig...)
		bad.SignedData[len(sig)/2] ^= 1
		c.want(c.do("POST", "/api/signature/m1", tok, bad), 400, "signature1")
		r := c.do("POST", "/api/signature/m1", tok, m1)
		c.want(r, 200, "")
		ans := r.json(t)
		sigID := ans["signatureId"].(string)
		ts1Data, _ := signing.TS1Data(sig, raw)
		tokenOver(t, ans, "ts1", ts1Data)
		time.Sleep(30 * time.Millisecond) // beyond the accuracy of the server's TS1
		code := c.env.Queue.Last(t, notify.TwoFactorCode).Params.Code

		f := &signing.M2Fields{PublicKey: pub, Algorithm: signing.ECDSAP256, OfferID: o.ID, UserName: a.username,
			SMSToken: code, DeviceInfo: "test"}
		for _, d := range docs {
			h := sha256.Sum256(d)
			f.OfferHashes = append(f.OfferHashes, h[:])
		}
		ts2Data, _ := signing.TS2Data(f)
		ts2 := stamp(t, tc, ts2Data) // TS2 stays the device's: the signature covers it
		hash, _ := signing.CustomerSignatureHash(f, ts2)
		s2, _ := signing.Signature2Data(f, ts2, hash)
		signed, _ := signing.Sign(key, signing.ECDSAP256, s2)
		m2 := signing.M2{Version: 1, SignatureID: sigID, OfferID: o.ID, Offers: f.OfferHashes, PublicKey: pub,
			Algorithm: signing.ECDSAP256, UserName: a.username, Password: a.password, SMSToken: code,
			DeviceInfo: f.DeviceInfo, CustomerSignatureHash: hash, SignedTS3: signed, TS2: ts2}
		wrong := m2
		wrong.Password = "Wrong-pass-123"
		c.want(c.do("POST", "/api/signature/m2", tok, wrong), 401, "invalid_credentials")
		r = c.do("POST", "/api/signature/m2", tok, m2)
		c.want(r, 200, "")
		ans = r.json(t)
		if ans["status"] != "verified" || ans["signatureId"] != sigID {
			t.Fatalf("M2 answer %v", ans)
		}
		ts3Data, _ := signing.TS3Data(f, ts2, hash, signed)
		tokenOver(t, ans, "ts3", ts3Data)
		// Sent again (its answer lost): the first answer, with the first TS3.
		r = c.do("POST", "/api/signature/m2", tok, m2)
		c.want(r, 200, "")
		if again := r.json(t); again["ts3"] != ans["ts3"] || again["status"] != "verified" {
			t.Fatalf("the same M2 again: %v, want %v", again, ans)
		}
	})
}

// TestCombinedShareTheTimestampLimit: the server's time-stamps of the
// combined forms count towards the app's /api/timestamp limit, so they buy
// no more tokens than the separate form.
func TestCombinedShareTheTimestampLimit(t *testing.T) {
	ts := tsatest.Start(t, 10*time.Millisecond)
	env := customerstest.New(t, customerstest.OpenDB(t, "sqlite"), nil,
		customers.Config{TimestampPerApp: notify.Limit{N: 1, Per: time.Hour}}, ts.Client)
	svc, err := signing.New(env.DB, env.Svc, signing.Config{TSARoots: ts.Roots, Now: env.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(New(env.Svc, slog.New(slog.DiscardHandler), WithSigning(signing.NewOneShot(svc, env.Svc))))
	t.Cleanup(api.Close)
	c := &client{t: t, url: api.URL, doc: loadDoc(t), env: env}
	a := c.account("Varga Ede", true)
	tok := c.login(a)
	d := c.env.Document(t, a.customer.ID, "one.pdf", []byte("%PDF-1.7 one"))
	o := c.env.Offer(t, a.customer.ID, "Loan", d.ID)
	c.want(c.do("GET", "/api/offer/"+o.ID, tok, nil), 200, "")
	h := sha256.Sum256([]byte("data"))
	c.want(c.do("POST", "/api/timestamp", tok, map[string]any{"digest": base64.StdEncoding.EncodeToString(h[:]),
		"hashAlgorithm": "SHA-256", "dataSize": 4}), 200, "")
	_, m1, _ := combinedM1(t, a.username, o.ID)
	c.want(c.do("POST", "/api/signature/m1", tok, m1), 429, "rate_limited")
}
