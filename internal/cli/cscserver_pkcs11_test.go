//go:build cgo

package cli

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"esign/internal/csc"
	"esign/internal/hsm/hsmtest"
)

// TestCSCServerPKCS11: esign csc-server signs with a key in a SoftHSM2
// token; the client's signature verifies with the token's certificate.
func TestCSCServerPKCS11(t *testing.T) {
	tk := hsmtest.New(t, "csc", "5678")
	dir := t.TempDir()
	env := testEnviron(dir, "ESIGN_PKCS11_MODULE="+tk.Module, "ESIGN_PKCS11_PIN=5678")
	cfg, err := loadConfig(Env{Environ: env}, "")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := openKeyring(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := openDevPKI(cfg, keys, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	pub := tk.GenerateECDSA(t, "seal", elliptic.P256())
	cert := tk.Issue(t, dev.CA, "seal", pub, dev.Signer.Certificate)
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("a-csc-client-secret-for-tests\n"), 0o600)
	addr := freeAddr(t)
	startCSCServer(t, env, "--pkcs11-key", tk.Ref("seal").String(), "--listen", addr, "--client-id", "c", "--client-secret-file", secret)

	client, err := csc.NewClient(csc.ClientConfig{URL: "http://" + addr, ClientID: "c", ClientSecret: "a-csc-client-secret-for-tests"})
	if err != nil {
		t.Fatal(err)
	}
	k, err := client.Open(context.Background(), "seal")
	if err != nil {
		t.Fatal(err)
	}
	chain, _ := k.Certificates(context.Background())
	if !chain[0].Equal(cert) {
		t.Fatalf("credentials/info gave %s, not the token's certificate", chain[0].Subject)
	}
	d := sha256.Sum256([]byte("sealed in the token"))
	sig, err := k.SignContext(context.Background(), d[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(cert.PublicKey.(*ecdsa.PublicKey), d[:], sig) {
		t.Fatalf("signature: %v", err)
	}
}
