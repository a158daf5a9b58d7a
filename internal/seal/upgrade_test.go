package seal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"esign/internal/envelope"
	"esign/internal/envelope/envelopetest"
	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/sqlstore"
)

const legacySecret = "Zk3pQ8vR2mX7bN4tY9wL1cF6hJ0sD5gA"

// engines runs fn on a fresh, migrated SQLite database and, when
// ESIGN_TEST_POSTGRES_URL is set, on a PostgreSQL schema of its own.
func engines(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "esign.db")
			if driver == "postgres" {
				dsn = esigntest.PostgresSchemaURL(t)
			}
			db, err := sqlstore.Open(t.Context(), sqlstore.Config{Driver: driver, DSN: dsn})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.MigrateUp(t.Context()); err != nil {
				t.Fatal(err)
			}
			fn(t, db)
		})
	}
}

// rings are the keyrings of a deployment that rotated from key "old" to
// "new" and still reads the legacy format.
type rings struct {
	deployed *envelope.Keyring // primary "new", also "old" and the legacy secret
	noLegacy *envelope.Keyring // "new" and "old", without the legacy secret
	old      *envelope.Keyring // "old" alone: how values were made before the rotation
	current  *envelope.Keyring // "new" alone: opens only values in the current format
}

func newRings(t *testing.T) rings {
	t.Helper()
	kOld, _ := envelope.GenerateKey()
	kNew, _ := envelope.GenerateKey()
	mk := func(primary string, keys map[string][]byte) *envelope.Keyring {
		k, err := envelope.NewKeyring(primary, keys)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	noLegacy := mk("new", map[string][]byte{"new": kNew, "old": kOld})
	return rings{
		deployed: noLegacy.WithLegacy(&envelope.Legacy{Secret: legacySecret}),
		noLegacy: noLegacy,
		old:      mk("old", map[string][]byte{"old": kOld}),
		current:  mk("new", map[string][]byte{"new": kNew}),
	}
}

// encoder makes a stored secret of the certificate with the id.
type encoder func(id string, plaintext []byte) []byte

func legacyEnc(t *testing.T) encoder {
	return func(_ string, b []byte) []byte { return envelopetest.LegacyEncrypt(t, legacySecret, b) }
}

func keyEnc(t *testing.T, k *envelope.Keyring) encoder {
	return func(id string, b []byte) []byte {
		ct, err := k.Encrypt(b, certAD(id))
		if err != nil {
			t.Fatal(err)
		}
		return ct
	}
}

// storeCert stores a certificate record whose .p12 and password are made by
// encP12 and encPW.
func storeCert(t *testing.T, db *sqlstore.DB, name string, p12, pw []byte, encP12, encPW encoder) *esign.Cert {
	t.Helper()
	fp := sha256.Sum256([]byte(name))
	c := &esign.Cert{ID: esign.NewID(), Name: name, Subject: "CN=" + name, Issuer: "CN=Bank CA", SerialNumber: "01",
		FingerprintSHA256: hex.EncodeToString(fp[:]), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		ChainPEM: "-----BEGIN CERTIFICATE-----"}
	c.PKCS12Enc, c.PasswordEnc = encP12(c.ID, p12), encPW(c.ID, pw)
	if err := db.CreateCert(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// wantCurrent checks that the stored secrets of the certificate are in the
// current format (the primary key alone opens them, with nothing to
// upgrade) and hold the plaintexts given.
func wantCurrent(t *testing.T, db *sqlstore.DB, r rings, id string, p12, pw []byte) {
	t.Helper()
	c, err := db.GetCert(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct {
		what      string
		enc, want []byte
	}{{"p12", c.PKCS12Enc, p12}, {"password", c.PasswordEnc, pw}} {
		got, up, err := r.current.DecryptUpgrade(v.enc, certAD(id))
		if err != nil || up != nil || !bytes.Equal(got, v.want) {
			t.Errorf("%s of %s: upgradable %v, err %v, same plaintext %v; want the plaintext in the current format",
				v.what, c.Name, up != nil, err, bytes.Equal(got, v.want))
		}
	}
}

// signerP12 packs the development signer into a .p12 with the password
// "p12-secret".
func signerP12(t *testing.T, f *fixture) []byte {
	t.Helper()
	p12, err := pkcs12.Modern.Encode(f.dev.Signer.Key, f.dev.Signer.Certificate, f.dev.Signer.Chain, "p12-secret")
	if err != nil {
		t.Fatal(err)
	}
	return p12
}

// storeActiveLegacy stores p12 and its password as the old system did (the
// legacy format) and activates it.
func storeActiveLegacy(t *testing.T, db *sqlstore.DB, p12 []byte) *esign.Cert {
	t.Helper()
	c := storeCert(t, db, "legacy seal", p12, []byte("p12-secret"), legacyEnc(t), legacyEnc(t))
	if _, err := db.ActivateCert(t.Context(), c.ID); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLegacyCertUpgradedOnRead: pdfservice reads a certificate stored by
// the old system (legacy format), signs with it, and stores its secrets
// back in the current format.
func TestLegacyCertUpgradedOnRead(t *testing.T) {
	f := newFixture(t)
	p12 := signerP12(t, f)
	engines(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRings(t)
		c := storeActiveLegacy(t, db, p12)
		ids := &StoreIdentities{Store: db, Keys: r.deployed}
		id, err := ids.Identity(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !id.Certificate.Equal(f.dev.Signer.Certificate) {
			t.Fatalf("identity of %s", id.Certificate.Subject)
		}
		wantCurrent(t, db, r, c.ID, p12, []byte("p12-secret"))
		// A new reader without the legacy secret or the older key opens it.
		if _, err := (&StoreIdentities{Store: db, Keys: r.current}).Identity(t.Context()); err != nil {
			t.Fatalf("after the upgrade: %v", err)
		}
	})
}

// racingStore changes the certificate's secrets just before the upgrade
// on read stores its own, as a concurrent writer would.
type racingStore struct {
	*sqlstore.DB
	race func(c *esign.Cert)
}

func (s racingStore) SwapCertSecrets(ctx context.Context, old *esign.Cert, p12Enc, pwEnc []byte) (*esign.Cert, error) {
	s.race(old)
	return s.DB.SwapCertSecrets(ctx, old, p12Enc, pwEnc)
}

// TestUpgradeOnReadKeepsConcurrentWrite: when the secrets change between
// the read and the write-back, the upgrade is not stored and the
// concurrent value stays.
func TestUpgradeOnReadKeepsConcurrentWrite(t *testing.T) {
	f := newFixture(t)
	p12 := signerP12(t, f)
	engines(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRings(t)
		c := storeActiveLegacy(t, db, p12)
		var written *esign.Cert
		store := racingStore{db, func(old *esign.Cert) {
			enc := keyEnc(t, r.deployed)
			var err error
			if written, err = db.SwapCertSecrets(t.Context(), old, enc(old.ID, p12), enc(old.ID, []byte("p12-secret"))); err != nil {
				t.Fatal(err)
			}
		}}
		if _, err := (&StoreIdentities{Store: store, Keys: r.deployed}).Identity(t.Context()); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetCert(t.Context(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.PKCS12Enc, written.PKCS12Enc) || !bytes.Equal(got.PasswordEnc, written.PasswordEnc) {
			t.Error("the upgrade on read overwrote a concurrent write")
		}
	})
}

// TestUpgradeCerts upgrades every certificate secret at once, then finds
// nothing left to do.
func TestUpgradeCerts(t *testing.T) {
	engines(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRings(t)
		p12, pw := []byte("p12 bytes"), []byte("pw")
		legacy, old, cur := legacyEnc(t), keyEnc(t, r.old), keyEnc(t, r.deployed)
		certs := []*esign.Cert{
			storeCert(t, db, "legacy", p12, pw, legacy, legacy),
			storeCert(t, db, "legacy-password", p12, pw, cur, legacy),
			storeCert(t, db, "old-key", p12, pw, old, old),
			storeCert(t, db, "current", p12, pw, cur, cur),
		}
		res, err := UpgradeCerts(t.Context(), db, r.deployed)
		if err != nil || len(res.Problems) > 0 {
			t.Fatalf("UpgradeCerts: %v %v", err, res.Problems)
		}
		if want := (UpgradeCount{Upgraded: 5, Current: 3}); res.UpgradeCount != want {
			t.Errorf("first run: %s, want %s", res.UpgradeCount, want)
		}
		if got, want := res.String(), "upgraded 5 of 8 stored secrets (3 already current)"; got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
		for _, c := range certs {
			wantCurrent(t, db, r, c.ID, p12, pw)
		}
		res, err = UpgradeCerts(t.Context(), db, r.deployed)
		if err != nil || res.UpgradeCount != (UpgradeCount{Current: 8}) || len(res.Problems) > 0 {
			t.Errorf("second run: %s %v %v, want nothing upgraded", res.UpgradeCount, err, res.Problems)
		}
	})
}

// interruptingStore ends the run's context once n certificates were
// stored, as Ctrl-C would.
type interruptingStore struct {
	*sqlstore.DB
	n      *int
	cancel context.CancelFunc
}

func (s interruptingStore) SwapCertSecrets(ctx context.Context, old *esign.Cert, p12Enc, pwEnc []byte) (*esign.Cert, error) {
	c, err := s.DB.SwapCertSecrets(ctx, old, p12Enc, pwEnc)
	if *s.n--; *s.n == 0 {
		s.cancel()
	}
	return c, err
}

// TestUpgradeCertsResumes interrupts a run after one certificate: what was
// stored stays upgraded, and the next run does the rest.
func TestUpgradeCertsResumes(t *testing.T) {
	engines(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRings(t)
		p12, pw := []byte("p12 bytes"), []byte("pw")
		var certs []*esign.Cert
		for _, name := range []string{"a", "b", "c"} {
			certs = append(certs, storeCert(t, db, name, p12, pw, legacyEnc(t), legacyEnc(t)))
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		n := 1
		res, err := UpgradeCerts(ctx, interruptingStore{db, &n, cancel}, r.deployed)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted run: %v", err)
		}
		if res.UpgradeCount != (UpgradeCount{Upgraded: 2}) {
			t.Fatalf("interrupted run: %s, want one certificate (2 secrets) upgraded", res.UpgradeCount)
		}
		res, err = UpgradeCerts(t.Context(), db, r.deployed)
		if err != nil || res.UpgradeCount != (UpgradeCount{Upgraded: 4, Current: 2}) {
			t.Fatalf("resumed run: %s %v, want the other two certificates upgraded", res.UpgradeCount, err)
		}
		for _, c := range certs {
			wantCurrent(t, db, r, c.ID, p12, pw)
		}
	})
}

// TestUpgradeCertsWithoutLegacySecret: legacy values that cannot be read
// are counted as failed and named, the others are still upgraded.
func TestUpgradeCertsWithoutLegacySecret(t *testing.T) {
	engines(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRings(t)
		p12, pw := []byte("p12 bytes"), []byte("pw")
		bad := storeCert(t, db, "legacy", p12, pw, legacyEnc(t), keyEnc(t, r.old))
		good := storeCert(t, db, "old-key", p12, pw, keyEnc(t, r.old), keyEnc(t, r.old))
		res, err := UpgradeCerts(t.Context(), db, r.noLegacy)
		if err != nil {
			t.Fatal(err)
		}
		if res.UpgradeCount != (UpgradeCount{Upgraded: 3, Failed: 1}) {
			t.Errorf("count %s, want 3 upgraded and 1 failed", res.UpgradeCount)
		}
		if len(res.Problems) != 1 || !strings.Contains(esign.ErrorMessage(res.Problems[0]), bad.ID) ||
			!strings.Contains(esign.ErrorMessage(res.Problems[0]), "legacy format") {
			t.Errorf("problems %v, want one naming %s and the legacy format", res.Problems, bad.ID)
		}
		if got, want := res.String(), "upgraded 3 of 4 stored secrets (0 already current, 1 failed)"; got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
		wantCurrent(t, db, r, good.ID, p12, pw)
		// The legacy value stays as it was, for a run with the secret.
		stored, err := db.GetCert(t.Context(), bad.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !envelope.IsLegacy(stored.PKCS12Enc) || envelope.IsLegacy(stored.PasswordEnc) {
			t.Errorf("legacy .p12 changed or password not upgraded")
		}
	})
}
