// Package certs imports and activates the bank's signing certificates:
// the one implementation behind `esign cert import` and the admin UI's
// certificate page. The .p12 file and its password are stored encrypted
// with the envelope keys (seal.EncryptCert), never in clear.
package certs

import (
	"context"
	"time"

	"esign/internal/esign"
	"esign/internal/pki"
	"esign/internal/seal"
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
	err = db.InTx(ctx, func(tx *sqlstore.Tx) error {
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
	return &Imported{Cert: c, Warnings: imp.Warnings}, nil
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
