package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"esign/internal/envelope/envelopetest"
	"esign/internal/esign"
)

// TestCryptoUpgrade: `esign crypto upgrade` re-encrypts the secrets the
// old system stored (legacy format) and says how many; a second run finds
// nothing to do. Without the legacy secret it names what it cannot read.
func TestCryptoUpgrade(t *testing.T) {
	const legacySecret = "Zk3pQ8vR2mX7bN4tY9wL1cF6hJ0sD5gA"
	for _, e := range testEngines {
		t.Run(e.name, func(t *testing.T) {
			// Clipped: the configuration loader sorts the environment it
			// is given in place, so the two must not share an array.
			base := slices.Clip(append(testEnviron(t.TempDir()), e.environ(t)...))
			env := append(base, "ESIGN_CRYPTO_LEGACY_SECRET="+legacySecret)
			if code, _, errs := run(t, t.Context(), env, nil, "migrate", "up"); code != 0 {
				t.Fatalf("migrate up: %s", errs)
			}
			// The deployment's keys without the legacy secret: they make the
			// current values, and read only those.
			cfg, err := loadConfig(Env{Environ: base}, "")
			if err != nil {
				t.Fatal(err)
			}
			keys, err := openKeyring(cfg)
			if err != nil {
				t.Fatal(err)
			}
			db, err := openToolDB(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// Two certificates from the old system, one imported since.
			var ids []string
			for i, legacy := range []bool{true, true, false} {
				name := []string{"old-a", "old-b", "new"}[i]
				fp := sha256.Sum256([]byte(name))
				c := &esign.Cert{ID: esign.NewID(), Name: name, Subject: "CN=" + name, Issuer: "CN=Bank CA", SerialNumber: "01",
					FingerprintSHA256: hex.EncodeToString(fp[:]), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
					ChainPEM: "-----BEGIN CERTIFICATE-----"}
				for _, v := range []struct {
					dst       *[]byte
					plaintext string
				}{{&c.PKCS12Enc, "p12 of " + name}, {&c.PasswordEnc, "password of " + name}} {
					if legacy {
						*v.dst = envelopetest.LegacyEncrypt(t, legacySecret, []byte(v.plaintext))
					} else if *v.dst, err = keys.Encrypt([]byte(v.plaintext), []byte("cert:"+c.ID)); err != nil {
						t.Fatal(err)
					}
				}
				if err := db.CreateCert(t.Context(), c); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, c.ID)
			}

			// Without the legacy secret: the legacy values are named, and
			// nothing is lost.
			code, out, errs := run(t, t.Context(), base, nil, "crypto", "upgrade")
			if code != 1 || out != "upgraded 0 of 6 stored secrets (2 already current, 4 failed)\n" ||
				!strings.Contains(errs, ids[0]) || !strings.Contains(errs, "legacy format") || !strings.Contains(errs, "crypto.legacy_secret") {
				t.Fatalf("without the legacy secret: %d %q %q", code, out, errs)
			}

			code, out, errs = run(t, t.Context(), env, nil, "crypto", "upgrade")
			if code != 0 || out != "upgraded 4 of 6 stored secrets (2 already current)\n" {
				t.Fatalf("crypto upgrade: %d %q %q", code, out, errs)
			}
			code, out, errs = run(t, t.Context(), env, nil, "crypto", "upgrade")
			if code != 0 || out != "upgraded 0 of 6 stored secrets (6 already current)\n" {
				t.Fatalf("second crypto upgrade: %d %q %q", code, out, errs)
			}
			// Current now: the keys alone, without the legacy secret, read them.
			for i, id := range ids {
				c, err := db.GetCert(t.Context(), id)
				if err != nil {
					t.Fatal(err)
				}
				name := []string{"old-a", "old-b", "new"}[i]
				p12, err1 := keys.Decrypt(c.PKCS12Enc, []byte("cert:"+id))
				pw, err2 := keys.Decrypt(c.PasswordEnc, []byte("cert:"+id))
				if err1 != nil || err2 != nil || string(p12) != "p12 of "+name || string(pw) != "password of "+name {
					t.Errorf("%s after the upgrade: %q %q %v %v", name, p12, pw, err1, err2)
				}
			}
		})
	}
	if code, _, errs := run(t, t.Context(), testEnviron(t.TempDir()), nil, "crypto", "nope"); code != 2 || !strings.Contains(errs, "usage: esign crypto upgrade") {
		t.Errorf("crypto nope: %d %q", code, errs)
	}
}
