package pades

import (
	"fmt"
	"strings"

	"esign/internal/esign"
	"esign/internal/pdf"
)

// CodePermissions is the code of the error that refuses to sign an
// encrypted PDF whose permissions do not allow it.
const CodePermissions = "pdf_permissions"

// signPermissions are the permission bits an encrypted document must grant
// for esign to sign it. A signature adds a new signature field (merged
// with its widget annotation) in an incremental update; ISO 32000-1
// Table 22 allows creating form fields, signature fields included, only
// when bit 6 (add or modify annotations, fill in form fields) and bit 4
// (modify the document) are both set. Bit 9 alone (or bit 6 without bit
// 4: Acrobat's "commenting, filling in form fields, and signing existing
// signature fields") allows signing a signature field that already
// exists, which esign does not do: it always adds its own field.
const signPermissions = pdf.PermModify | pdf.PermAnnotate

// SignPermitted returns nil when esign may sign doc, and an error with code
// CodePermissions when doc is encrypted with permissions that forbid
// adding a signature field (see signPermissions). Prepare checks it; an
// upload can check it early so that a document is not accepted for a
// signature that will be refused later.
func SignPermitted(doc *pdf.Document) error {
	enc := doc.Encryption()
	if enc == nil || enc.Permissions.Has(signPermissions) {
		return nil
	}
	var missing []string
	if !enc.Permissions.Has(pdf.PermModify) {
		missing = append(missing, "changing the document (permission bit 4)")
	}
	if !enc.Permissions.Has(pdf.PermAnnotate) {
		missing = append(missing, "adding annotations and form fields (permission bit 6)")
	}
	return &esign.Error{Op: "pades.SignPermitted", Kind: esign.Invalid, Code: CodePermissions,
		Msg: fmt.Sprintf("the encrypted PDF's permissions forbid signing it: its owner did not allow %s; "+
			"a signature adds a signature field and its widget annotation, which ISO 32000-1 (Table 22) allows only with bits 4 and 6 both set",
			strings.Join(missing, " nor "))}
}

// EncryptionReport describes the encryption of a verified document
// (Report.Encryption, nil when the document is not encrypted).
type EncryptionReport struct {
	Method      string   `json:"method"` // RC4-40, RC4-128, AES-128 or AES-256
	V           int      `json:"v"`
	R           int      `json:"r"`
	Permissions int32    `json:"permissions"` // the /P entry
	Allowed     []string `json:"allowed"`     // the operations /P allows
	// Signable is false when the permissions forbid esign to add a
	// signature (see SignPermitted).
	Signable bool `json:"signable"`
}

var permissionNames = []struct {
	bit  pdf.Permissions
	name string
}{
	{pdf.PermPrint, "print"}, {pdf.PermModify, "modify"}, {pdf.PermCopy, "copy"},
	{pdf.PermAnnotate, "annotate"}, {pdf.PermFillForms, "fill_forms"},
	{pdf.PermAccessibility, "accessibility"}, {pdf.PermAssemble, "assemble"},
	{pdf.PermPrintHighQuality, "print_high_quality"},
}

// encryptionReport returns the EncryptionReport of doc, nil if doc is not
// encrypted.
func encryptionReport(doc *pdf.Document) *EncryptionReport {
	enc := doc.Encryption()
	if enc == nil {
		return nil
	}
	r := &EncryptionReport{Method: enc.Method, V: enc.V, R: enc.R, Permissions: int32(enc.Permissions),
		Allowed: []string{}, Signable: enc.Permissions.Has(signPermissions)}
	for _, p := range permissionNames {
		if enc.Permissions.Has(p.bit) {
			r.Allowed = append(r.Allowed, p.name)
		}
	}
	return r
}

// String is the line of the report's summary.
func (r *EncryptionReport) String() string {
	allowed := "nothing"
	if len(r.Allowed) > 0 {
		allowed = strings.Join(r.Allowed, ", ")
	}
	return fmt.Sprintf("%s (V%d R%d, no open password), permissions: %s", r.Method, r.V, r.R, allowed)
}
