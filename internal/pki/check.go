package pki

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"slices"
	"time"

	"esign/internal/esign"
)

// DefaultWarnBefore is how long before expiry a certificate is reported.
const DefaultWarnBefore = 30 * 24 * time.Hour

// CheckDocumentSigner refuses a certificate that cannot sign documents:
// key usage must include digitalSignature or nonRepudiation
// (contentCommitment); an extended key usage, when present, must allow
// document or e-mail signing (or any); a CA certificate is refused; the key
// must be RSA ≥ 2048 bits or ECDSA ≥ P-256.
func CheckDocumentSigner(c *x509.Certificate) error {
	const op = "pki.CheckDocumentSigner"
	if c.IsCA {
		return esign.WithCode(op, esign.Invalid, "cert_key_usage", "a CA certificate cannot sign documents")
	}
	if c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return esign.WithCode(op, esign.Invalid, "cert_key_usage",
			"the certificate lacks the key usage digitalSignature or nonRepudiation that document signing needs")
	}
	if len(c.ExtKeyUsage) > 0 || len(c.UnknownExtKeyUsage) > 0 {
		ok := slices.ContainsFunc(c.ExtKeyUsage, func(u x509.ExtKeyUsage) bool {
			return u == x509.ExtKeyUsageAny || u == x509.ExtKeyUsageEmailProtection
		}) || slices.ContainsFunc(c.UnknownExtKeyUsage, func(o asn1.ObjectIdentifier) bool {
			return (oidKPDocumentSigning.Equal(o) || oidKPAdobeAuthentic.Equal(o) || oidKPMSDocumentSigner.Equal(o))
		})
		if !ok {
			return esign.WithCode(op, esign.Invalid, "cert_key_usage",
				"the certificate's extended key usage does not allow document signing")
		}
	}
	if !keyAlgorithmOK(c.PublicKey) {
		return esign.WithCode(op, esign.Invalid, "cert_key_type", "the certificate key must be RSA (2048 bits or more) or ECDSA (P-256 or larger)")
	}
	return nil
}

// CheckValidity refuses a certificate outside its validity period at now.
func CheckValidity(c *x509.Certificate, now time.Time) error {
	const op = "pki.CheckValidity"
	if now.After(c.NotAfter) {
		return esign.WithCode(op, esign.Invalid, "cert_expired", fmt.Sprintf("the certificate expired on %s", c.NotAfter.UTC().Format(time.DateOnly)))
	}
	if now.Before(c.NotBefore) {
		return esign.WithCode(op, esign.Invalid, "cert_not_yet_valid", fmt.Sprintf("the certificate is valid from %s", c.NotBefore.UTC().Format(time.DateOnly)))
	}
	return nil
}

// ExpiryWarning returns a warning when c expires within the window
// (DefaultWarnBefore when window <= 0) after now.
func ExpiryWarning(c *x509.Certificate, now time.Time, window time.Duration) (string, bool) {
	if window <= 0 {
		window = DefaultWarnBefore
	}
	left := c.NotAfter.Sub(now)
	if left > window {
		return "", false
	}
	if left <= 0 {
		return fmt.Sprintf("certificate %q has expired on %s", c.Subject.CommonName, c.NotAfter.UTC().Format(time.DateOnly)), true
	}
	return fmt.Sprintf("certificate %q expires on %s, in %d days", c.Subject.CommonName,
		c.NotAfter.UTC().Format(time.DateOnly), int(left.Hours()/24)), true
}
