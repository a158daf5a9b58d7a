package sqlstore

import (
	"bytes"
	"testing"
	"time"

	"esign/internal/esign"
)

// TestSwapCertSecrets: the encrypted values are replaced only while they
// still equal what the caller read, so a re-encryption never overwrites a
// concurrent change.
func TestSwapCertSecrets(t *testing.T) {
	engines(t, func(t *testing.T, db *DB) {
		ctx := testCtx(t)
		c := &esign.Cert{Name: "seal", Subject: "CN=seal", Issuer: "CN=Bank CA", SerialNumber: "01",
			FingerprintSHA256: digest("seal"), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			ChainPEM: "-----BEGIN CERTIFICATE-----", PKCS12Enc: []byte{1, 2}, PasswordEnc: []byte{3, 4}}
		must(t, db.CreateCert(ctx, c))
		read := *c // what an upgrader read before the change below

		swapped, err := db.SwapCertSecrets(ctx, c, []byte{5, 6}, []byte{7, 8})
		must(t, err)
		if !bytes.Equal(swapped.PKCS12Enc, []byte{5, 6}) || !bytes.Equal(swapped.PasswordEnc, []byte{7, 8}) || swapped.Name != "seal" {
			t.Fatalf("after the swap: %+v", swapped)
		}
		// A second upgrader with the old view loses: the stored values stay.
		_, err = db.SwapCertSecrets(ctx, &read, []byte{9}, []byte{9})
		wantKind(t, err, esign.Conflict)
		// Both values are compared: a matching .p12 with a changed password loses too.
		half := *swapped
		half.PasswordEnc = []byte{3, 4}
		_, err = db.SwapCertSecrets(ctx, &half, []byte{9}, []byte{9})
		wantKind(t, err, esign.Conflict)
		got, err := db.GetCert(ctx, c.ID)
		must(t, err)
		same(t, "GetCert", got, swapped)

		must(t, db.DeleteCert(ctx, c.ID))
		_, err = db.SwapCertSecrets(ctx, swapped, []byte{9}, []byte{9})
		wantKind(t, err, esign.Conflict)
	})
}
