package signing_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/signing"
)

var updateVectors = flag.Bool("update", false, "rewrite testdata/key_vectors.json")

// keyVector is a signature of the browser's algorithms: the same file is
// checked by signing.Verify here and by WebCrypto in Chromium
// (customerui.TestKeyVectorsInBrowser), so the two sides agree on the
// parameters (ECDSA's r‖s, RSA-PSS's SHA-256 and 32-byte salt).
type keyVector struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
	PublicKey string `json:"publicKey"` // SPKI DER, hex
	Data      string `json:"data"`      // hex
	Signature string `json:"signature"` // hex
	Valid     bool   `json:"valid"`
}

const keyVectorsFile = "key_vectors.json"

func makeKeyVectors(t *testing.T) []keyVector {
	data := []byte("esign key vector: [\"esign/m1\", publicKey, userName, algorithm, offerId]")
	h := sha256.Sum256(data)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r, s, err := ecdsa.Sign(rand.Reader, ec, h[:])
	if err != nil {
		t.Fatal(err)
	}
	ecSig := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pss, err := signing.Sign(rk, signing.RSAPSS, data)
	if err != nil {
		t.Fatal(err)
	}
	salt20, err := rsa.SignPSS(rand.Reader, rk, crypto.SHA256, h[:], &rsa.PSSOptions{SaltLength: 20})
	if err != nil {
		t.Fatal(err)
	}
	pkcs1, err := signing.Sign(rk, signing.RSAPKCS1, data)
	if err != nil {
		t.Fatal(err)
	}
	spki := func(k crypto.PublicKey) string {
		b, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return hex.EncodeToString(b)
	}
	tampered := append([]byte{}, data...)
	tampered[0] ^= 1
	x := hex.EncodeToString
	return []keyVector{
		{"ecdsa r‖s", signing.ECDSAP256, spki(&ec.PublicKey), x(data), x(ecSig), true},
		{"ecdsa other data", signing.ECDSAP256, spki(&ec.PublicKey), x(tampered), x(ecSig), false},
		{"rsa-pss salt 32", signing.RSAPSS, spki(&rk.PublicKey), x(data), x(pss), true},
		{"rsa-pss other data", signing.RSAPSS, spki(&rk.PublicKey), x(tampered), x(pss), false},
		{"rsa-pss salt 20", signing.RSAPSS, spki(&rk.PublicKey), x(data), x(salt20), false},
		{"rsa-pss given a pkcs1 signature", signing.RSAPSS, spki(&rk.PublicKey), x(data), x(pkcs1), false},
		{"rsa-pss with a P-256 key", signing.RSAPSS, spki(&ec.PublicKey), x(data), x(ecSig), false},
		{"ecdsa with an RSA key", signing.ECDSAP256, spki(&rk.PublicKey), x(data), x(pss), false},
	}
}

// TestKeyVectors: signing.Verify agrees with every vector of
// testdata/key_vectors.json (rewrite it with -update).
func TestKeyVectors(t *testing.T) {
	path := filepath.Join("testdata", keyVectorsFile)
	if *updateVectors {
		b, _ := json.MarshalIndent(makeKeyVectors(t), "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var vs []keyVector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 8 {
		t.Fatalf("%d vectors", len(vs))
	}
	for _, v := range vs {
		unhex := func(s string) []byte {
			b, err := hex.DecodeString(s)
			if err != nil {
				t.Fatalf("%s: %v", v.Name, err)
			}
			return b
		}
		ok := false
		if pub, err := signing.ParsePublicKey(unhex(v.PublicKey), v.Algorithm); err == nil {
			ok = signing.Verify(pub, v.Algorithm, unhex(v.Data), unhex(v.Signature))
		}
		if ok != v.Valid {
			t.Errorf("%s: Go verifies %v, the vector says %v", v.Name, ok, v.Valid)
		}
	}
}

// TestWebKeyAlgorithm: a key made in the customer web UI (a session of
// the web app record) may use only the web policy's algorithms: ECDSA
// P-256 by default, RSA-PSS once allowed; the app's keys keep the general
// policy.
func TestWebKeyAlgorithm(t *testing.T) {
	for _, tt := range []struct {
		name   string
		web    []string
		alg    string
		viaWeb bool
		code   string
	}{
		{"web_ecdsa_default", nil, signing.ECDSAP256, true, ""},
		{"web_pss_refused_by_default", nil, signing.RSAPSS, true, "algorithm_refused"},
		{"web_pss_allowed", []string{signing.ECDSAP256, signing.RSAPSS}, signing.RSAPSS, true, ""},
		{"web_pkcs1_never", []string{signing.RSAPSS}, signing.RSAPKCS1, true, "algorithm_refused"},
		{"app_pss_by_the_general_policy", nil, signing.RSAPSS, false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			e := newEnv(t, "sqlite", signing.Config{WebAlgorithms: tt.web})
			p := e.p
			if tt.viaWeb {
				in, err := e.ce.Svc.WebLogin(ctx, "kovacs.anna", password, customers.Meta{IP: "127.0.0.1"})
				if err != nil {
					t.Fatal(err)
				}
				if p, err = e.ce.Svc.AuthenticateSession(ctx, in.SessionToken); err != nil {
					t.Fatal(err)
				}
				e.p = p
				// The web UI signs only what was read to the end.
				docs, err := e.ce.DB.ListDocuments(ctx, esign.DocumentFilter{OfferID: e.offer.ID})
				if err != nil {
					t.Fatal(err)
				}
				for _, doc := range docs {
					if err := e.ce.Svc.RecordReadToEnd(ctx, p, e.offer.ID, doc.ID, customers.Meta{}); err != nil {
						t.Fatal(err)
					}
				}
			}
			d := newDevice(t, tt.alg)
			r1, err := e.svc.M1(ctx, p, e.m1(t, d, e.offer.ID))
			if tt.code != "" {
				wantCode(t, err, esign.Invalid, tt.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r2, err := e.svc.M2(ctx, p, e.m2(t, d, r1.SignatureID, m2opts{}), customers.Meta{})
			if err != nil || r2.Status != esign.SignatureVerified {
				t.Fatalf("M2: %+v, %v", r2, err)
			}
		})
	}
	e := newEnv(t, "sqlite", signing.Config{})
	_, err := signing.New(e.ce.DB, e.ce.Svc, signing.Config{TSARoots: e.tsa.client.Roots, Algorithms: []string{signing.ECDSAP256},
		WebAlgorithms: []string{signing.RSAPSS}})
	if !esign.IsKind(err, esign.Invalid) {
		t.Errorf("a web algorithm the general policy refuses: %v", err)
	}
}
