package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/esigntest"
)

func writePEMFile(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func runOpenSSL(t *testing.T, openssl string, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(openssl, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// TestOpenSSLQueriesOurTSA: `openssl ts -query` requests answered by our
// server verify with `openssl ts -verify`.
func TestOpenSSLQueriesOurTSA(t *testing.T) {
	openssl := esigntest.Tool(t, "openssl")
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, kc := range []struct {
		name string
		key  crypto.Signer
	}{{"rsa", rsaKey(t)}, {"ecdsa", ecKey}} {
		testOpenSSLQueries(t, openssl, kc.name, kc.key)
	}
}

func testOpenSSLQueries(t *testing.T, openssl, keyName string, key crypto.Signer) {
	p := newTestPKI(t, key, true)
	srv, _ := newTestServer(t, p, nil)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	dir := t.TempDir()
	data := filepath.Join(dir, "data.bin")
	os.WriteFile(data, []byte("document to time-stamp\n"), 0o600)
	ca := filepath.Join(dir, "ca.pem")
	writePEMFile(t, ca, "CERTIFICATE", p.root.Raw)
	for _, tc := range []struct{ name, digest string }{{"sha256", "-sha256"}, {"sha384", "-sha384"}, {"sha512", "-sha512"}} {
		for _, certReq := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s-%s-certreq-%v", keyName, tc.name, certReq), func(t *testing.T) {
				tsq := filepath.Join(dir, "req.tsq")
				args := []string{"ts", "-query", "-data", data, tc.digest, "-out", tsq}
				if certReq {
					args = append(args, "-cert")
				}
				runOpenSSL(t, openssl, nil, args...)
				q, _ := os.ReadFile(tsq)
				resp, err := http.Post(hs.URL, QueryMediaType, bytes.NewReader(q))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				tsr := filepath.Join(dir, "resp.tsr")
				os.WriteFile(tsr, body, 0o600)
				vargs := []string{"ts", "-verify", "-queryfile", tsq, "-in", tsr, "-CAfile", ca}
				if !certReq {
					tsaPEM := filepath.Join(dir, "tsa.pem")
					writePEMFile(t, tsaPEM, "CERTIFICATE", p.tsa.Raw)
					vargs = append(vargs, "-untrusted", tsaPEM)
				}
				out := runOpenSSL(t, openssl, nil, vargs...)
				if !bytes.Contains(out, []byte("Verification: OK")) {
					t.Fatalf("openssl: %s", out)
				}
				// And against the data itself, not only the query.
				runOpenSSL(t, openssl, nil, append([]string{"ts", "-verify", "-data", data}, vargs[4:]...)...)
			})
		}
	}
}

const opensslTSAConfig = `
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = %s
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = %s
default_policy = 1.3.6.1.4.1.32473.1
digests = sha256, sha384, sha512
accuracy = secs:1, millisecs:500, microsecs:100
clock_precision_digits = 3
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = %s
`

// TestOurClientAgainstOpenSSLTSA: tokens from an OpenSSL TSA (`openssl ts
// -reply` behind an HTTP handler) verify in our client.
func TestOurClientAgainstOpenSSLTSA(t *testing.T) {
	openssl := esigntest.Tool(t, "openssl")
	p := newTestPKI(t, rsaKey(t), true)
	for _, tc := range []struct{ name, signerDigest, essAlg string }{
		{"ess-v1-sha1", "sha256", "sha1"},
		{"ess-v2-sha256", "sha256", "sha256"},
		{"ess-v2-sha512", "sha512", "sha512"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writePEMFile(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", p.root.Raw)
			writePEMFile(t, filepath.Join(dir, "tsa.pem"), "CERTIFICATE", p.tsa.Raw)
			kd, _ := x509.MarshalPKCS8PrivateKey(p.tsaKey)
			writePEMFile(t, filepath.Join(dir, "tsa.key"), "PRIVATE KEY", kd)
			os.WriteFile(filepath.Join(dir, "serial"), []byte("01\n"), 0o600)
			cnf := filepath.Join(dir, "tsa.cnf")
			os.WriteFile(cnf, []byte(fmt.Sprintf(opensslTSAConfig, dir, tc.signerDigest, tc.essAlg)), 0o600)
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				q, _ := io.ReadAll(r.Body)
				tsq := filepath.Join(dir, "q.tsq")
				tsr := filepath.Join(dir, "r.tsr")
				os.WriteFile(tsq, q, 0o600)
				out, err := exec.Command(openssl, "ts", "-reply", "-config", cnf, "-queryfile", tsq, "-out", tsr).CombinedOutput()
				if err != nil {
					http.Error(w, string(out), http.StatusInternalServerError)
					return
				}
				b, _ := os.ReadFile(tsr)
				w.Header().Set("Content-Type", ReplyMediaType)
				w.Write(b)
			}))
			defer hs.Close()
			pool := x509.NewCertPool()
			pool.AddCert(p.root)
			c := &Client{URL: hs.URL, Roots: pool}
			digest := sha256.Sum256([]byte("hello from openssl"))
			tok, err := c.Timestamp(context.Background(), digest[:], crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if !tok.Info.Ordering || tok.Info.Accuracy.Microseconds() != 1_500_100 || tok.Info.TSAName == nil {
				t.Fatalf("token info %+v", tok.Info)
			}
			other := sha256.Sum256([]byte("other"))
			if _, err := VerifyToken(tok.DER, other[:], crypto.SHA256, VerifyOptions{Roots: pool}); err == nil {
				t.Fatal("token verified for other data")
			}
		})
	}
}
