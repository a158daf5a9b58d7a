package signing_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
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
