package signing_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"strings"
	"testing"

	"esign/internal/signing"
)

// FuzzVerify feeds outside input (the key, the algorithm and the
// signature of M1/M2) to the parser and verifiers: they must not panic
// and must never accept a signature that is not the device's.
func FuzzVerify(f *testing.F) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(key.Public())
	sig, _ := signing.Sign(key, signing.ECDSAP256, []byte("data"))
	f.Add(pub, signing.ECDSAP256, sig)
	f.Add(pub, signing.RSAPSS, make([]byte, 64))
	f.Add([]byte{0x30, 0x00}, "x", []byte{})
	f.Fuzz(func(t *testing.T, der []byte, alg string, s []byte) {
		if raw, err := signing.RawECDSA(s); err == nil && len(raw) != 64 {
			t.Fatalf("RawECDSA gave %d bytes", len(raw))
		}
		k, err := signing.ParsePublicKey(der, alg)
		if err != nil {
			return
		}
		if signing.Verify(k, alg, []byte("other data"), s) {
			t.Fatalf("a signature over other data verified")
		}
	})
}

// FuzzParseEvidence feeds outside input (the evidence.json of a PDF
// someone hands in) to the evidence parser: it must not panic, and what it
// accepts has the fields every check relies on and survives a round trip.
func FuzzParseEvidence(f *testing.F) {
	valid := `{"version":2,"signatureId":"s","offerId":"o","customerId":"c","userName":"u",` +
		`"publicKey":"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n","algorithm":"ECDSA-P256-SHA256",` +
		`"m1Raw":"AAEC","m1SignedData":"AAEC","m1Hashes":"AAEC","m2":{"version":1},"customerSignature":"AA==",` +
		`"customerSignatureHash":"00","signedTs3":"AA==","timestamps":{"ts1":"MAA=","ts2":"MAA="},` +
		`"documents":[{"name":"a.pdf","sha256":"` + strings.Repeat("ab", 32) + `"}]}`
	f.Add([]byte(valid))
	f.Add([]byte(strings.Replace(valid, `"version":2`, `"version":1`, 1)))
	f.Add([]byte(`{"version":3}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte(`{"documents":[{"sha256":"zz"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := signing.ParseEvidence(b)
		if err != nil {
			return
		}
		if ev.Version < 1 || ev.Version > signing.EvidenceVersion || ev.SignatureID == "" || len(ev.M1Raw) == 0 ||
			len(ev.Timestamps["ts1"]) == 0 || (ev.Version >= 2 && len(ev.M1Hashes) == 0) {
			t.Fatalf("accepted an incomplete bundle: %+v", ev)
		}
		again, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := signing.ParseEvidence(again); err != nil {
			t.Fatalf("the re-encoded bundle is refused: %v", err)
		}
	})
}
