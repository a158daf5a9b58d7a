package pades_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"esign/internal/pades"
	"esign/internal/pades/padestest"
)

// FuzzSuppliedRevocation feeds arbitrary bytes as a supplied CRL and OCSP
// response (--crl, --ocsp-response, seal.crl_files): parsing returns an
// error or data, and data that is not signed by the issuer is never handed
// out as revocation data for its certificate.
func FuzzSuppliedRevocation(f *testing.F) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	p := padestest.NewOutsidePKI(f, now)
	f.Add(p.CRL(f, false, now.Add(-time.Hour), now.Add(time.Hour)))
	f.Add(p.OCSP(f, ocsp.Good, now.Add(-time.Hour), now.Add(time.Hour)))
	f.Add([]byte("-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n"))
	other := padestest.NewOutsidePKI(f, now)
	f.Fuzz(func(t *testing.T, b []byte) {
		set := &pades.RevocationSet{Now: func() time.Time { return now }}
		if c, err := pades.ParseCRL("fuzz.crl", b); err == nil {
			set.CRLs = append(set.CRLs, c)
		}
		if o, err := pades.ParseOCSPResponse("fuzz.ocsp", b); err == nil {
			set.OCSPs = append(set.OCSPs, o)
		}
		_ = set.Expired()
		// the other PKI signed nothing here: nothing may pass for its signer
		// (neither as data nor as a revocation)
		o, crl, err := set.Fetch(context.Background(), other.Signer, other.CA)
		if !errors.Is(err, pades.ErrNoRevocation) || o != nil || crl != nil {
			t.Fatalf("data used for another issuer's certificate: %v", err)
		}
	})
}
