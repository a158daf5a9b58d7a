//go:build cgo

package seal

import (
	"context"
	"crypto/elliptic"
	"crypto/sha256"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/bus/inproc"
	"esign/internal/esign"
	"esign/internal/hsm"
	"esign/internal/hsm/hsmtest"
	"esign/internal/signer"
	"esign/internal/sqlstore"
)

// TestSealWithPKCS11Key seals with a certificate whose key is in a
// SoftHSM2 token, then takes the token away: pdfservice answers
// Unavailable (the seal job retries), Check fails (/readyz), and signs
// again once the token is back.
func TestSealWithPKCS11Key(t *testing.T) {
	f := newFixture(t)
	tk := hsmtest.New(t, "bank", "4321")
	pub := tk.GenerateECDSA(t, "seal", elliptic.P256())
	cert := tk.Issue(t, f.dev.CA, "seal", pub, f.dev.Signer.Certificate)

	db, err := sqlstore.Open(t.Context(), sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "esign.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.MigrateUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	c := &esign.Cert{ID: esign.NewID(), Name: "hsm seal", KeySource: "pkcs11", KeyRef: tk.Ref("seal").String()}
	DescribeCert(c, cert, f.dev.Signer.Chain)
	if err := db.CreateCert(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ActivateCert(t.Context(), c.ID); err != nil {
		t.Fatal(err)
	}

	// Without PKCS#11 configured the seal waits, saying why.
	unconfigured := &StoreIdentities{Store: db, Keys: f.keys}
	if _, err := unconfigured.Identity(t.Context()); !esign.IsKind(err, esign.Unavailable) || !strings.Contains(err.Error(), "not configured for") {
		t.Fatalf("no PKCS#11 configured: %v", err)
	}

	ids := &StoreIdentities{Store: db, Keys: f.keys, Refresh: -1,
		Signers: signer.Openers{signer.PKCS11: &hsm.Opener{Config: tk.Config()}}}
	t.Cleanup(func() { ids.Close() })
	b := inproc.New(inproc.Options{})
	defer b.Close()
	sealOverBus(t, f, b, ids, cert.Subject.String())
	if err := ids.Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}

	// The token is pulled out.
	putBack := tk.Remove(t)
	d := sha256.Sum256([]byte("contract"))
	svc := &Service{IDs: ids, TSA: f.tsa}
	if _, err := svc.SignDigest(t.Context(), SignRequest{Digest: d[:]}); !esign.IsKind(err, esign.Unavailable) {
		t.Fatalf("sign without the token: %v, want Unavailable", err)
	}
	if err := ids.Check(t.Context()); !esign.IsKind(err, esign.Unavailable) {
		t.Fatalf("Check without the token: %v, want Unavailable", err)
	}
	// It is put back: signing resumes, with the same key.
	putBack()
	rep, err := svc.SignDigest(t.Context(), SignRequest{Digest: d[:]})
	if err != nil {
		t.Fatalf("sign with the token back: %v", err)
	}
	if err := verifySigned(rep.CMS, d[:], cert); err != nil {
		t.Fatal(err)
	}
}

// TestSealWithWrongPIN: pdfservice answers Unavailable with the reason,
// so the seal job retries, and logs in no more than once.
func TestSealWithWrongPIN(t *testing.T) {
	f := newFixture(t)
	tk := hsmtest.New(t, "bank", "4321")
	pub := tk.GenerateECDSA(t, "seal", elliptic.P384())
	cert := tk.Issue(t, f.dev.CA, "seal", pub, f.dev.Signer.Certificate)
	c := &esign.Cert{ID: esign.NewID(), Name: "hsm seal", KeySource: "pkcs11", KeyRef: tk.Ref("seal").String(), Active: true}
	DescribeCert(c, cert, f.dev.Signer.Chain)
	ids := &StoreIdentities{Store: oneCert{c}, Signers: signer.Openers{signer.PKCS11: &hsm.Opener{Config: hsm.Config{Module: tk.Module, PIN: "0000"}}}}
	svc := &Service{IDs: ids, TSA: f.tsa}
	d := sha256.Sum256([]byte("contract"))
	for range 2 {
		_, err := svc.SignDigest(t.Context(), SignRequest{Digest: d[:]})
		if !esign.IsKind(err, esign.Unavailable) || !strings.Contains(err.Error(), "refused the PIN") {
			t.Fatalf("wrong PIN: %v, want Unavailable refused the PIN", err)
		}
	}
}

type oneCert struct{ c *esign.Cert }

func (o oneCert) GetActiveCert(context.Context) (*esign.Cert, error) { return o.c, nil }

func (oneCert) SwapCertSecrets(context.Context, *esign.Cert, []byte, []byte) (*esign.Cert, error) {
	return nil, esign.E("test", esign.Conflict)
}
