// Package certs imports and activates the bank's signing certificates:
// the one implementation behind `esign cert import` and the admin UI's
// certificate page. The .p12 file and its password are stored encrypted
// with the envelope keys (seal.EncryptCert), never in clear; a key in a
// PKCS#11 token or a CSC service is registered by its reference only
// (ImportKey, docs/key-custody.md).
package certs

import (
	"context"
	"crypto"
	"crypto/x509"
	"time"

	"esign/internal/esign"
	"esign/internal/pki"
	"esign/internal/seal"
	"esign/internal/signer"
	"esign/internal/sqlstore"
)

// MaxP12Bytes bounds an uploaded .p12 file.
const MaxP12Bytes = pki.MaxP12Size

// Input is a .p12 file to import.
type Input struct {
	P12       []byte
	Password  string
	Name      string // for operators; default: the certificate's common name
	CreatedBy string // the operator's user id; empty from the command line
	Activate  bool   // make it the certificate pdfservice signs with
}

// Imported is a stored certificate and what the import noticed (e.g. the
// certificate expires soon).
type Imported struct {
	Cert     *esign.Cert
	Warnings []string
}

// Import checks the .p12 (its password, that its key matches its
// certificate and that the certificate can sign now), encrypts the file and
// its password with keys and stores the certificate, activating it when
// asked, in one transaction. Errors: Invalid (p12_format, p12_password,
// …), Conflict (the certificate is imported already).
func Import(ctx context.Context, db *sqlstore.DB, keys seal.Encrypter, in Input) (*Imported, error) {
	const op = "certs.Import"
	if len(in.P12) > MaxP12Bytes {
		return nil, esign.WithCode(op, esign.Invalid, "p12_format", "the .p12 file is too large")
	}
	imp, err := pki.ImportP12(in.P12, in.Password, pki.ImportOptions{})
	if err != nil {
		return nil, err
	}
	c := &esign.Cert{ID: esign.NewID(), Name: in.Name, CreatedBy: in.CreatedBy}
	if c.Name == "" {
		c.Name = imp.Certificate.Subject.CommonName
	}
	if c.Name == "" {
		c.Name = imp.Certificate.Subject.String()
	}
	if err := seal.EncryptCert(c, imp, in.P12, in.Password, keys); err != nil {
		return nil, err
	}
	c, err = store(ctx, db, c, in.Activate)
	if err != nil {
		return nil, err
	}
	return &Imported{Cert: c, Warnings: imp.Warnings}, nil
}

// store creates c, activating it when asked, in one transaction.
func store(ctx context.Context, db *sqlstore.DB, c *esign.Cert, activate bool) (*esign.Cert, error) {
	const op = "certs.Import"
	err := db.InTx(ctx, func(tx *sqlstore.Tx) error {
		if err := tx.CreateCert(ctx, c); err != nil {
			if esign.IsKind(err, esign.Conflict) {
				return esign.WithCode(op, esign.Conflict, "cert_exists", "this certificate is imported already")
			}
			return err
		}
		if activate {
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
	return c, nil
}

// KeyInput registers a key that stays in its key store (a PKCS#11 token,
// a CSC service) with its certificate chain.
type KeyInput struct {
	Source signer.Source
	Ref    string        // the key's reference in Source (the cert table's key_ref)
	Key    signer.Signer // the key, opened with Ref
	// Chain is the certificate chain given by the operator (PEM file),
	// leaf first; it may hold only the issuers when the key store holds
	// the leaf (signer.Certified), and is all there is when it holds none.
	Chain     []*x509.Certificate
	Name      string
	CreatedBy string
	Activate  bool
	Now       func() time.Time // default time.Now
}

// ImportKey registers a key held outside the database: its certificate is
// the one the key store holds (signer.Certified) or the first of
// in.Chain; it must be the key's and able to sign now. Nothing secret is
// stored. Errors: Invalid (cert_key_mismatch, cert_missing, …), Conflict,
// Unavailable (the key store).
func ImportKey(ctx context.Context, db *sqlstore.DB, in KeyInput) (*Imported, error) {
	const op = "certs.ImportKey"
	if in.Source == signer.P12 || in.Ref == "" || in.Key == nil {
		return nil, esign.E(op, esign.Invalid, "a key outside the database needs its source, reference and key")
	}
	now := time.Now
	if in.Now != nil {
		now = in.Now
	}
	var certsFound []*x509.Certificate
	if c, ok := in.Key.(signer.Certified); ok {
		var err error
		if certsFound, err = c.Certificates(ctx); err != nil {
			return nil, esign.E(op, err)
		}
	}
	chain := append(certsFound, in.Chain...)
	if len(certsFound) == 0 && (len(in.Chain) == 0 || in.Chain[0].IsCA) {
		return nil, esign.WithCode(op, esign.Invalid, "cert_missing", "the key store holds no certificate for this key: give the chain as a PEM file")
	}
	leaf := chain[0]
	var issuers []*x509.Certificate
	for _, c := range chain[1:] {
		if !c.Equal(leaf) {
			issuers = append(issuers, c)
		}
	}
	if pub, ok := in.Key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(leaf.PublicKey) {
		return nil, esign.WithCode(op, esign.Invalid, "cert_key_mismatch", "the certificate is not the key's")
	}
	if err := pki.CheckDocumentSigner(leaf); err != nil {
		return nil, err
	}
	if err := pki.CheckValidity(leaf, now()); err != nil {
		return nil, err
	}
	var warnings []string
	if w, soon := pki.ExpiryWarning(leaf, now(), 0); soon {
		warnings = append(warnings, w)
	}
	c := &esign.Cert{ID: esign.NewID(), Name: in.Name, CreatedBy: in.CreatedBy, KeySource: string(in.Source), KeyRef: in.Ref}
	if c.Name == "" {
		c.Name = leaf.Subject.CommonName
	}
	if c.Name == "" {
		c.Name = leaf.Subject.String()
	}
	seal.DescribeCert(c, leaf, issuers)
	c, err := store(ctx, db, c, in.Activate)
	if err != nil {
		return nil, err
	}
	return &Imported{Cert: c, Warnings: warnings}, nil
}

// Activate makes the certificate the one pdfservice signs with (the
// others are deactivated in the same transaction); pdfservice picks it up
// within its refresh interval. An expired certificate is refused. Errors:
// NotFound, Invalid (cert_expired).
func Activate(ctx context.Context, db *sqlstore.DB, id string, now func() time.Time) (*esign.Cert, error) {
	const op = "certs.Activate"
	if !esign.ValidID(id) {
		return nil, esign.E(op, esign.NotFound, "certificate not found")
	}
	c, err := db.GetCert(ctx, id)
	if err != nil {
		return nil, err
	}
	if !now().Before(c.NotAfter) {
		return nil, esign.WithCode(op, esign.Invalid, "cert_expired", "this certificate has expired")
	}
	return db.ActivateCert(ctx, id)
}
