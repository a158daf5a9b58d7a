package seal

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"esign/internal/bus"
	"esign/internal/bus/amqp"
	"esign/internal/bus/bustest"
	"esign/internal/bus/inproc"
	"esign/internal/envelope"
	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pki"
	"esign/internal/sqlstore"
	"esign/internal/tsa"
	"esign/internal/tsa/tsatest"
)

type fixture struct {
	dev   *pki.Dev
	tsa   *tsa.Client
	keys  *envelope.Keyring
	roots *pades.VerifyOptions
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ts := tsatest.Start(t, 0)
	key, _ := envelope.GenerateKey()
	keys, err := envelope.NewKeyring("k", map[string][]byte{"k": key})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{dev: ts.Dev, tsa: ts.Client, keys: keys, roots: &pades.VerifyOptions{Roots: ts.Roots}}
}

// sealOverBus prepares a PDF locally, has the digest signed by a Service
// reached over b, embeds the CMS and verifies the result.
func sealOverBus(t *testing.T, f *fixture, b bus.Bus, ids Identities, wantSigner string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	svc := &Service{IDs: ids, TSA: f.tsa}
	if err := svc.Serve(ctx, b); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	out := filepath.Join(dir, "out.pdf")
	if err := os.WriteFile(in, pdftest.MinimalPadded(2, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	err := pades.SignFile(ctx, in, out, pades.SignOptions{Level: pades.LevelBT, CMS: &Client{Bus: b, Timestamp: true}})
	if err != nil {
		t.Fatalf("sign through pdfservice: %v", err)
	}
	rep, err := pades.VerifyFile(ctx, out, *f.roots)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid() || len(rep.Signatures) != 1 || rep.Signatures[0].Level != "B-T" {
		t.Fatalf("report:\n%s", rep.Summary())
	}
	if got := rep.Signatures[0].Signer.Subject; got != wantSigner {
		t.Errorf("signed by %q, want %q", got, wantSigner)
	}
	// Bad input over the bus is refused with its kind intact.
	var rep2 SignReply
	err = b.Call(ctx, bus.QueuePDFService, MethodSignDigest, SignRequest{Digest: []byte("short")}, &rep2)
	if !esign.IsKind(err, esign.Invalid) {
		t.Errorf("short digest: %v", err)
	}
}

func TestSealInProcess(t *testing.T) {
	f := newFixture(t)
	b := inproc.New(inproc.Options{})
	defer b.Close()
	sealOverBus(t, f, b, &StoreIdentities{Store: noCerts{}, Fallback: &f.dev.Signer}, f.dev.Signer.Certificate.Subject.String())
}

func TestSealOverRabbitMQ(t *testing.T) {
	url := esigntest.ServerURL(t, esigntest.AMQPURLEnv)
	f := newFixture(t)
	b, err := amqp.Dial(t.Context(), amqp.Options{URL: url, Name: "seal-test", Namespace: bustest.Namespace(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		names := b.Declared()
		b.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := amqp.DeleteTopology(ctx, url, names); err != nil {
			t.Errorf("clean-up: %v", err)
		}
	})
	sealOverBus(t, f, b, &StoreIdentities{Store: noCerts{}, Fallback: &f.dev.Signer}, f.dev.Signer.Certificate.Subject.String())
}

// TestStoredCertificate imports a .p12 into a real store, encrypted, and
// seals with it; without an active certificate and fallback it refuses.
func TestStoredCertificate(t *testing.T) {
	f := newFixture(t)
	db, err := sqlstore.Open(t.Context(), sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "esign.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.MigrateUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	ids := &StoreIdentities{Store: db, Keys: f.keys}
	if _, err := ids.Identity(t.Context()); !esign.IsKind(err, esign.Unavailable) {
		t.Fatalf("no certificate: %v", err)
	}

	p12, err := pkcs12.Modern.Encode(f.dev.Signer.Key, f.dev.Signer.Certificate, f.dev.Signer.Chain, "p12-secret")
	if err != nil {
		t.Fatal(err)
	}
	imp, err := pki.ImportP12(p12, "p12-secret", pki.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := &esign.Cert{ID: esign.NewID(), Name: "bank seal"}
	if err := EncryptCert(c, imp, p12, "p12-secret", f.keys); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCert(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ActivateCert(t.Context(), c.ID); err != nil {
		t.Fatal(err)
	}
	stored, err := db.GetCert(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(stored.PasswordEnc) == "p12-secret" {
		t.Fatal("password stored in the clear")
	}
	// Ciphertexts are bound to their row: swapping them between
	// certificates fails.
	swapped := *stored
	swapped.ID = esign.NewID()
	if _, err := DecryptCert(&swapped, f.keys); err == nil {
		t.Error("a certificate decrypted under another id")
	}

	b := inproc.New(inproc.Options{})
	defer b.Close()
	ids.Refresh = 0
	sealOverBus(t, f, b, ids, f.dev.Signer.Certificate.Subject.String())
}

type noCerts struct{}

func (noCerts) GetActiveCert(context.Context) (*esign.Cert, error) {
	return nil, esign.E("test", esign.NotFound)
}

func (noCerts) SwapCertSecrets(context.Context, *esign.Cert, []byte, []byte) (*esign.Cert, error) {
	return nil, esign.E("test", esign.NotFound)
}
