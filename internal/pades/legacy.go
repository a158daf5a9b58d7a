package pades

import (
	"encoding/asn1"
	"fmt"
	"strings"

	"esign/internal/cms"
	"esign/internal/pdf"
)

// legacyWarning returns the warning for a verified SignerInfo that lacks
// the ESS signing-certificate(-v2) attribute (a PKCS #7-era signature), or
// "" when it has it. Such a signature is integral and its signer known:
// cms.VerifyOptions.Legacy took the one certificate that the
// SignerIdentifier names and whose key verifies the signature; what it
// lacks is the signed binding to that certificate, so another certificate
// for the same key with the same issuer and serial number (which only its
// CA could issue) would verify too.
func legacyWarning(si *cms.SignerInfo, sf pdf.Name) string {
	if si.SignedAttribute(cms.OIDAttrSigningCertificateV2) != nil || si.SignedAttribute(cms.OIDAttrSigningCertificate) != nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("legacy CMS signature: ")
	if si.RawSignedAttrs == nil {
		b.WriteString("no signed attributes (the signature is over the document digest itself), so ")
	}
	b.WriteString("no ESS signing-certificate attribute binds the signer certificate; it is identified by issuer, serial number and key only")
	if sf == "ETSI.CAdES.detached" {
		fmt.Fprintf(&b, "; the /SubFilter %s claims PAdES, which requires the attribute", sf)
	}
	return b.String()
}

// oidSHA1 is the digest older PKCS #7 signers used.
var oidSHA1 = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
