//go:build cgo

package hsm_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"strings"
	"testing"

	"github.com/miekg/pkcs11"

	"esign/internal/esign"
	"esign/internal/hsm"
	"esign/internal/hsm/hsmtest"
)

func open(t *testing.T, tk *hsmtest.Token, pin, key string) (*hsm.Key, error) {
	t.Helper()
	o := &hsm.Opener{Config: hsm.Config{Module: tk.Module, PIN: pin}}
	s, err := o.Open(context.Background(), tk.Ref(key).String())
	if err != nil {
		return nil, err
	}
	k := s.(*hsm.Key)
	t.Cleanup(func() { k.Close() })
	return k, nil
}

// TestSign: the token signs with each kind of key and the signatures
// verify with the public key.
func TestSign(t *testing.T) {
	tk := hsmtest.New(t, "bank", "1234")
	tk.GenerateRSA(t, "rsa", 2048)
	tk.GenerateECDSA(t, "p256", elliptic.P256())
	tk.GenerateECDSA(t, "p384", elliptic.P384())
	d256 := sha256.Sum256([]byte("contract"))
	d384 := sha512.Sum384([]byte("contract"))
	for _, tc := range []struct {
		name, key string
		digest    []byte
		opts      crypto.SignerOpts
	}{
		{"rsa_pkcs1v15", "rsa", d256[:], crypto.SHA256},
		{"rsa_pss", "rsa", d256[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}},
		{"ecdsa_p256", "p256", d256[:], crypto.SHA256},
		{"ecdsa_p384", "p384", d384[:], crypto.SHA384},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := open(t, tk, "1234", tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if err := k.Check(context.Background()); err != nil {
				t.Fatalf("Check: %v", err)
			}
			sig, err := k.Sign(nil, tc.digest, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			switch pub := k.Public().(type) {
			case *rsa.PublicKey:
				if pss, ok := tc.opts.(*rsa.PSSOptions); ok {
					err = rsa.VerifyPSS(pub, crypto.SHA256, tc.digest, sig, pss)
				} else {
					err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, tc.digest, sig)
				}
			case *ecdsa.PublicKey:
				if !ecdsa.VerifyASN1(pub, tc.digest, sig) {
					err = errors.New("ECDSA signature does not verify")
				}
			default:
				t.Fatalf("public key %T", pub)
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestKeyNotExtractable: the key objects are sensitive and not
// extractable, and asking the token for the private key's value fails:
// no code path can bring it into this process.
func TestKeyNotExtractable(t *testing.T) {
	tk := hsmtest.New(t, "bank", "1234")
	tk.GenerateRSA(t, "rsa", 2048)
	tk.GenerateECDSA(t, "p256", elliptic.P256())
	p := pkcs11.New(tk.Module)
	if err := p.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer p.Destroy()
	defer p.Finalize()
	slots, err := p.GetSlotList(true)
	if err != nil || len(slots) == 0 {
		t.Fatalf("slots: %v %v", slots, err)
	}
	sh, err := p.OpenSession(slots[0], pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	defer p.CloseSession(sh)
	if err := p.Login(sh, pkcs11.CKU_USER, "1234"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		label  string
		secret uint // the attribute that holds the private key
	}{{"rsa", pkcs11.CKA_PRIVATE_EXPONENT}, {"p256", pkcs11.CKA_VALUE}} {
		if err := p.FindObjectsInit(sh, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, tc.label),
		}); err != nil {
			t.Fatal(err)
		}
		objs, _, err := p.FindObjects(sh, 2)
		p.FindObjectsFinal(sh)
		if err != nil || len(objs) != 1 {
			t.Fatalf("%s: private key objects %v, %v", tc.label, objs, err)
		}
		attrs, err := p.GetAttributeValue(sh, objs[0], []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, nil),
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, nil),
		})
		if err != nil {
			t.Fatal(err)
		}
		if attrs[0].Value[0] != 1 || attrs[1].Value[0] != 0 {
			t.Errorf("%s: CKA_SENSITIVE=%v CKA_EXTRACTABLE=%v, want true and false", tc.label, attrs[0].Value, attrs[1].Value)
		}
		_, err = p.GetAttributeValue(sh, objs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(tc.secret, nil)})
		if !errors.Is(err, pkcs11.Error(pkcs11.CKR_ATTRIBUTE_SENSITIVE)) {
			t.Errorf("%s: reading the private key's value: %v, want CKR_ATTRIBUTE_SENSITIVE", tc.label, err)
		}
	}
}

// TestFailures: each failure is Unavailable (the seal job retries) with a
// message that says what is wrong.
func TestFailures(t *testing.T) {
	t.Run("wrong_pin", func(t *testing.T) {
		tk := hsmtest.New(t, "bank", "1234")
		tk.GenerateECDSA(t, "seal", elliptic.P256())
		o := &hsm.Opener{Config: hsm.Config{Module: tk.Module, PIN: "9999"}}
		for i := range 3 {
			_, err := o.Open(context.Background(), tk.Ref("seal").String())
			if !esign.IsKind(err, esign.Unavailable) || !strings.Contains(err.Error(), "refused the PIN") {
				t.Fatalf("try %d: %v, want Unavailable refused the PIN", i, err)
			}
		}
		// Only the first try reached the token: the right PIN still
		// logs in (SoftHSM2 counts no tries, a real HSM would lock).
		if _, err := open(t, tk, "1234", "seal"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no_module", func(t *testing.T) {
		o := &hsm.Opener{Config: hsm.Config{Module: "/nonexistent/libpkcs11.so", PIN: "1234"}}
		_, err := o.Open(context.Background(), "token=bank;key=seal")
		if !esign.IsKind(err, esign.Unavailable) || !strings.Contains(err.Error(), "cannot load the PKCS#11 module") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("no_token", func(t *testing.T) {
		tk := hsmtest.New(t, "bank", "1234")
		_, err := open(t, tk, "1234", "seal")
		_ = tk
		if !esign.IsKind(err, esign.Unavailable) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("no_key", func(t *testing.T) {
		tk := hsmtest.New(t, "bank", "1234")
		_, err := open(t, tk, "1234", "seal")
		if !esign.IsKind(err, esign.Unavailable) || !strings.Contains(err.Error(), `cannot find the signing key "seal"`) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("token_removed", func(t *testing.T) {
		tk := hsmtest.New(t, "bank", "1234")
		tk.GenerateECDSA(t, "seal", elliptic.P256())
		k, err := open(t, tk, "1234", "seal")
		if err != nil {
			t.Fatal(err)
		}
		tk.Remove(t)
		d := sha256.Sum256([]byte("x"))
		err = k.Check(context.Background())
		_, signErr := k.Sign(nil, d[:], crypto.SHA256)
		t.Logf("check: %v; sign: %v", err, signErr)
		if !esign.IsKind(err, esign.Unavailable) {
			t.Errorf("Check after the token was removed: %v, want Unavailable", err)
		}
		if !esign.IsKind(signErr, esign.Unavailable) {
			t.Errorf("Sign after the token was removed: %v, want Unavailable", signErr)
		}
	})
}
