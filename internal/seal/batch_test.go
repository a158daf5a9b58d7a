package seal

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"sync/atomic"
	"testing"

	"esign/internal/bus"
	"esign/internal/bus/inproc"
	"esign/internal/cms"
)

// TestSignDigests: the digests of one contract are signed in one call,
// each signature over its own digest; a pdfservice that predates
// SignRequest.More (it signs Digest only) still gets every digest signed,
// the rest one call each.
func TestSignDigests(t *testing.T) {
	f := newFixture(t)
	svc := &Service{IDs: &StoreIdentities{Store: noCerts{}, Fallback: &f.dev.Signer}, TSA: f.tsa}
	digests := [][]byte{}
	for _, s := range []string{"one", "two", "three"} {
		d := sha256.Sum256([]byte(s))
		digests = append(digests, d[:])
	}
	for _, old := range []bool{false, true} {
		name := map[bool]string{false: "current", true: "older pdfservice"}[old]
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			b := inproc.New(inproc.Options{})
			defer b.Close()
			var calls atomic.Int32
			err := b.Serve(ctx, bus.QueuePDFService, func(ctx context.Context, req *bus.Request) (any, error) {
				calls.Add(1)
				var in SignRequest
				if err := req.Decode(&in); err != nil {
					return nil, err
				}
				if old { // what a pdfservice without More answers
					in.More = nil
				}
				return svc.SignDigest(ctx, in)
			})
			if err != nil {
				t.Fatal(err)
			}
			ders, err := (&Client{Bus: b, Timestamp: true}).SignDigests(ctx, digests)
			if err != nil {
				t.Fatal(err)
			}
			want := int32(1)
			if old {
				want = int32(len(digests))
			}
			if n := calls.Load(); n != want {
				t.Errorf("%d calls, want %d", n, want)
			}
			if len(ders) != len(digests) {
				t.Fatalf("%d signatures for %d digests", len(ders), len(digests))
			}
			for i, der := range ders {
				sd, err := cms.Parse(der)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := sd.Verify(digests[i], cms.VerifyOptions{Certificates: []*x509.Certificate{f.dev.Signer.Certificate}}); err != nil {
					t.Errorf("signature %d does not verify over its digest: %v", i, err)
				}
				if len(sd.SignerInfos) == 0 || sd.SignerInfos[0].UnsignedAttribute(cms.OIDSignatureTimeStampToken) == nil {
					t.Errorf("signature %d has no time-stamp", i)
				}
			}
		})
	}
	// A bad digest among them fails the whole request with its kind.
	_, err := svc.SignDigest(t.Context(), SignRequest{Digest: digests[0], More: [][]byte{[]byte("short")}})
	if err == nil {
		t.Error("a short digest in More was signed")
	}
	if _, err := svc.SignDigest(t.Context(), SignRequest{Digest: digests[0], More: make([][]byte, MaxDigests)}); err == nil {
		t.Error("more than MaxDigests were signed")
	}
}
