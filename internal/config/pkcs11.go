package config

// PKCS11 says how pdfservice and the built-in TSA reach a PKCS#11 token (a
// hardware security module) that holds their keys (docs/key-custody.md).
// Which key is used is recorded with the certificate (esign cert import
// --pkcs11-…) or, for the TSA, in tsa.pkcs11_key.
type PKCS11 struct {
	Module string `json:"module" help:"Path of the HSM vendor's PKCS#11 library (.so), e.g. /usr/lib/softhsm/libsofthsm2.so. Empty: no PKCS#11 token; a certificate whose key is in one is not used (pdfservice not ready). Needs the cgo build of esign."`
	PIN    string `json:"pin" secret:"true" help:"PIN of the token's user (CKU_USER); set it from a file with ESIGN_PKCS11_PIN_FILE. After the token refuses it, pdfservice does not try it again until restarted (tokens lock after a few wrong PINs)."`
}

func (p PKCS11) validate(c Config) error {
	if c.TSA.PKCS11Key != "" {
		if p.Module == "" {
			return &FieldError{Key: "tsa.pkcs11_key", Reason: "needs pkcs11.module"}
		}
		if c.TSA.CertificateFile == "" {
			return &FieldError{Key: "tsa.pkcs11_key", Reason: "needs tsa.certificate_file, the TSA's certificate chain (PEM, leaf first)"}
		}
	}
	if c.TSA.CertificateFile != "" && c.TSA.PKCS11Key == "" {
		return &FieldError{Key: "tsa.certificate_file", Reason: "is only used with tsa.pkcs11_key"}
	}
	return nil
}
