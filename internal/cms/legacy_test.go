package cms

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/esigntest"
)

// TestVerifyLegacy verifies PKCS #7-era signatures made by openssl cms:
// without signed attributes, and with them but without the ESS
// signing-certificate attribute. Without Legacy they are refused; with it
// they verify, and a certificate set that names the signer ambiguously or
// with another key does not.
func TestVerifyLegacy(t *testing.T) {
	openssl := esigntest.Tool(t, "openssl")
	p := newTestPKI(t)
	dir := t.TempDir()
	content := []byte("a document signed the PKCS #7 way\n")
	os.WriteFile(filepath.Join(dir, "content.bin"), content, 0o600)
	writePEM(t, filepath.Join(dir, "leaf.pem"), "CERTIFICATE", p.leaf.Raw)
	kd, _ := x509.MarshalPKCS8PrivateKey(p.leafKey)
	writePEM(t, filepath.Join(dir, "leaf.key"), "PRIVATE KEY", kd)
	// the same key, issuer and serial number under another subject
	twin := *p.leaf
	twin.Subject = pkix.Name{CommonName: "cms test twin"}
	twinCert := mustCert(t, &twin, p.root, p.leafKey.Public(), p.rootKey)
	writePEM(t, filepath.Join(dir, "twin.pem"), "CERTIFICATE", twinCert.Raw)
	// another key, same issuer and serial number
	other := *p.leaf
	otherCert := mustCert(t, &other, p.root, p.ecLeafKey.Public(), p.rootKey)
	writePEM(t, filepath.Join(dir, "other.pem"), "CERTIFICATE", otherCert.Raw)

	sign := func(extra ...string) *SignedData {
		t.Helper()
		args := append([]string{"cms", "-sign", "-binary", "-nosmimecap", "-outform", "DER", "-md", "sha256",
			"-in", "content.bin", "-out", "sig.der", "-signer", "leaf.pem", "-inkey", "leaf.key"}, extra...)
		cmd := exec.Command(openssl, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
		der, _ := os.ReadFile(filepath.Join(dir, "sig.der"))
		sd, err := Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		return sd
	}
	digest := sha256.Sum256(content)
	tests := []struct {
		name      string
		args      []string
		strictErr string // error without Legacy
		legacyErr string // error with Legacy; "" means it verifies
	}{
		{"noSignedAttributes", []string{"-noattr"}, "signed attributes are required", ""},
		{"noESS", nil, "signing-certificate attribute missing", ""},
		{"otherKeyInSet", []string{"-noattr", "-nocerts", "-certfile", "other.pem"}, "signed attributes are required", "key is *ecdsa.PublicKey"},
		{"twinInSet", []string{"-noattr", "-certfile", "twin.pem"}, "signed attributes are required", "ambiguous"},
		{"twinInSetWithESS", []string{"-cades", "-certfile", "twin.pem"}, "", ""},
		{"onlyTwinWithESS", []string{"-cades", "-nocerts", "-certfile", "twin.pem"}, "ESSCertID does not match", "ESSCertID does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd := sign(tt.args...)
			for _, legacy := range []bool{false, true} {
				want := tt.strictErr
				if legacy {
					want = tt.legacyErr
				}
				cert, err := sd.Verify(digest[:], VerifyOptions{Roots: p.pool(), Legacy: legacy})
				switch {
				case want == "" && err != nil:
					t.Errorf("legacy=%v: %v", legacy, err)
				case want == "" && !cert.Equal(p.leaf):
					t.Errorf("legacy=%v: signer %s", legacy, cert.Subject)
				case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
					t.Errorf("legacy=%v: error %v, want %q", legacy, err, want)
				}
			}
		})
	}
}
