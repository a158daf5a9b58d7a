package seal

import (
	"context"
	"crypto"
	"crypto/sha256"
	"io"
	"strings"
	"testing"

	"esign/internal/esign"
	"esign/internal/pki"
)

// lyingKey is a key store that signs another digest than it is given, as
// a faulty HSM or remote service might.
type lyingKey struct{ crypto.Signer }

func (k lyingKey) Sign(r io.Reader, _ []byte, opts crypto.SignerOpts) ([]byte, error) {
	other := sha256.Sum256([]byte("another document"))
	return k.Signer.Sign(r, other[:], opts)
}
func (lyingKey) Check(context.Context) error { return nil }
func (lyingKey) Close() error                { return nil }

type fixedIdentity struct{ id pki.Identity }

func (f fixedIdentity) Identity(context.Context) (pki.Identity, error) { return f.id, nil }

// TestSignatureOfAnotherDigest: a signature from a key store that does not
// verify over the digest is refused (Unavailable: the seal job retries)
// and nothing is returned to embed.
func TestSignatureOfAnotherDigest(t *testing.T) {
	f := newFixture(t)
	id := f.dev.Signer
	id.Key = lyingKey{id.Key}
	svc := &Service{IDs: fixedIdentity{id}}
	d := sha256.Sum256([]byte("contract"))
	rep, err := svc.SignDigest(t.Context(), SignRequest{Digest: d[:]})
	if rep != nil || !esign.IsKind(err, esign.Unavailable) || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("got %v, %v; want Unavailable, does not verify", rep, err)
	}
	// The honest key is accepted.
	svc.IDs = fixedIdentity{f.dev.Signer}
	if _, err := svc.SignDigest(t.Context(), SignRequest{Digest: d[:]}); err != nil {
		t.Fatal(err)
	}
}
