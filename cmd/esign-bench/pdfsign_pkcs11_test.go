//go:build cgo

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"esign/internal/hsm/hsmtest"
)

// TestRunPDFSignPKCS11 measures with the key in a SoftHSM2 token.
func TestRunPDFSignPKCS11(t *testing.T) {
	tk := hsmtest.New(t, "bench", "1234")
	tk.GenerateRSA(t, "seal", 2048)
	pin := filepath.Join(t.TempDir(), "pin")
	os.WriteFile(pin, []byte("1234\n"), 0o600)
	var out, errb bytes.Buffer
	err := runPDFSignTo(context.Background(), []string{"--size", "100000", "--duration", "300ms", "--signer", "pkcs11",
		"--pkcs11-module", tk.Module, "--token-label", "bench", "--key-label", "seal", "--pin-file", pin}, &out, &errb)
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	var sum pdfSignSummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Signatures == 0 || sum.Errors != 0 || sum.Signer != "pkcs11" || sum.Key != "rsa2048" || sum.KeySignMs <= 0 {
		t.Fatalf("summary %+v", sum)
	}
}
