//go:build cgo

package certs

import (
	"crypto/elliptic"
	"crypto/x509"
	"path/filepath"
	"testing"

	"esign/internal/esign"
	"esign/internal/hsm"
	"esign/internal/hsm/hsmtest"
	"esign/internal/pki"
	"esign/internal/signer"
	"esign/internal/sqlstore"
)

// TestImportKey registers keys of a SoftHSM2 token: the certificate comes
// from the token or from the operator's chain, and must be the key's.
func TestImportKey(t *testing.T) {
	dev, _, err := pki.OpenDev(filepath.Join(t.TempDir(), "pki"), pki.DevOptions{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(t.Context(), sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "esign.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.MigrateUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	tk := hsmtest.New(t, "bank", "1234")
	withCert := tk.GenerateECDSA(t, "with-cert", elliptic.P256())
	cert := tk.Issue(t, dev.CA, "with-cert", withCert, dev.Signer.Certificate)
	tk.GenerateECDSA(t, "bare", elliptic.P256())
	o := &hsm.Opener{Config: tk.Config()}
	open := func(label string) signer.Signer {
		k, err := o.Open(t.Context(), tk.Ref(label).String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { k.Close() })
		return k
	}
	for _, tc := range []struct {
		name, key string
		given     bool // give the leaf as --chain
		code      string
	}{
		{"certificate_in_token", "with-cert", false, ""},
		{"no_certificate", "bare", false, "cert_missing"},
		{"another_keys_certificate", "bare", true, "cert_key_mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := KeyInput{Source: signer.PKCS11, Ref: tk.Ref(tc.key).String(), Key: open(tc.key), Chain: dev.Signer.Chain}
			if tc.given {
				in.Chain = append([]*x509.Certificate{cert}, dev.Signer.Chain...)
			}
			res, err := ImportKey(t.Context(), db, in)
			if tc.code != "" {
				if esign.ErrorCode(err) != tc.code {
					t.Fatalf("got %v, want %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Cert.KeySource != "pkcs11" || res.Cert.KeyRef != "token=bank;key=with-cert" || res.Cert.FingerprintSHA256 == "" || len(res.Cert.PKCS12Enc) != 0 {
				t.Fatalf("stored %+v", res.Cert)
			}
		})
	}
}
