package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"esign/internal/csc"
)

// TestRunPDFSignCSC measures with the key behind a CSC API v2 service.
func TestRunPDFSignCSC(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "bench seal"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	const secret = "bench-client-secret-0123456789"
	srv, err := csc.NewServer(csc.ServerConfig{Credentials: []csc.ServerCredential{{ID: "seal", Key: key, Chain: []*x509.Certificate{cert}}},
		Clients: []csc.ServerClient{{ID: "bench", Secret: secret}}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte(secret+"\n"), 0o600)
	var out, errb bytes.Buffer
	err = runPDFSignTo(context.Background(), []string{"--size", "100000", "--duration", "300ms", "--signer", "csc",
		"--csc-url", hs.URL, "--csc-client-id", "bench", "--csc-client-secret-file", secretFile, "--credential-id", "seal"}, &out, &errb)
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	var sum pdfSignSummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Signatures == 0 || sum.Errors != 0 || sum.Signer != "csc" || sum.Key != "ecdsa-p256" || sum.KeySignMs <= 0 {
		t.Fatalf("summary %+v", sum)
	}
}
