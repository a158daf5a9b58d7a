package certs

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"time"

	"esign/internal/esign"
	"esign/internal/pki"
	"esign/internal/sqlstore"
)

// KeyInput registers a certificate whose private key lives outside the
// database (a PKCS#11 token, a CSC service): its chain as the key's store
// gave it, where the key is (esign.Cert.KeySource and KeyRef) and no .p12.
type KeyInput struct {
	Source    string              // "pkcs11" or "csc"
	Ref       string              // the key's reference in its source
	Chain     []*x509.Certificate // leaf first
	Name      string              // for operators; default: the certificate's common name
	CreatedBy string
	Activate  bool
	Now       func() time.Time // default time.Now
}

// ImportKey checks that the leaf can sign documents now and stores the
// certificate, activating it when asked, in one transaction. Errors:
// Invalid, Conflict (imported already).
func ImportKey(ctx context.Context, db *sqlstore.DB, in KeyInput) (*Imported, error) {
	const op = "certs.ImportKey"
	if len(in.Chain) == 0 {
		return nil, esign.E(op, esign.Invalid, "the key's store gave no certificate")
	}
	now := time.Now
	if in.Now != nil {
		now = in.Now
	}
	leaf := in.Chain[0]
	if err := pki.CheckDocumentSigner(leaf); err != nil {
		return nil, err
	}
	fp := sha256.Sum256(leaf.Raw)
	c := &esign.Cert{ID: esign.NewID(), Name: in.Name, CreatedBy: in.CreatedBy, KeySource: in.Source, KeyRef: in.Ref,
		Subject: leaf.Subject.String(), Issuer: leaf.Issuer.String(), SerialNumber: leaf.SerialNumber.Text(16),
		FingerprintSHA256: hex.EncodeToString(fp[:]), NotBefore: leaf.NotBefore.UTC(), NotAfter: leaf.NotAfter.UTC(),
		ChainPEM: string(pki.CertificatesPEM(in.Chain...))}
	if c.Name == "" {
		c.Name = leaf.Subject.CommonName
	}
	if c.Name == "" {
		c.Name = c.Subject
	}
	var warnings []string
	if w, soon := pki.ExpiryWarning(leaf, now(), 0); soon {
		warnings = append(warnings, w)
	}
	err := db.InTx(ctx, func(tx *sqlstore.Tx) error {
		if err := tx.CreateCert(ctx, c); err != nil {
			if esign.IsKind(err, esign.Conflict) {
				return esign.WithCode(op, esign.Conflict, "cert_exists", "this certificate is imported already")
			}
			return err
		}
		if in.Activate {
			a, err := tx.ActivateCert(ctx, c.ID)
			if err != nil {
				return err
			}
			c = a
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Imported{Cert: c, Warnings: warnings}, nil
}
