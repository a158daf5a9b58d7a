package pades

import (
	"bytes"
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

// framingWarnings describes bytes of the file outside the PDF: before the
// header (readers skip them, a browser or another program may show them)
// and after the last %%EOF that are not white space.
func framingWarnings(doc *pdf.Document) []string {
	w := []string{}
	fr := doc.Framing()
	if fr.Before > 0 {
		how := "its offsets count from byte 0"
		if fr.Shifted {
			how = "its offsets count from the header and are read shifted, as readers do"
		}
		w = append(w, fmt.Sprintf("%d bytes precede the %%PDF- header: %s; no PDF reader shows them, other programs may (%s)",
			fr.Before, describePayload(prefixOf(doc)), how))
	}
	if fr.After > 0 {
		tail, err := doc.ReadTrailing(maxInspected)
		if err == nil && !onlyPadding(tail) {
			w = append(w, fmt.Sprintf("%d bytes follow the last %%%%EOF and no signature covers them: %s", fr.After, describePayload(tail)))
		}
	}
	return w
}

func prefixOf(doc *pdf.Document) []byte {
	b, _ := doc.ReadPrefix(maxInspected)
	return b
}

// maxInspected is how much of the bytes outside the PDF is looked at to
// name what they are.
const maxInspected = 4096

// onlyPadding reports whether b holds only PDF white space (NUL included):
// what writers pad files with and what every reader ignores.
func onlyPadding(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n', '\f', 0:
		default:
			return false
		}
	}
	return true
}

// describePayload names what bytes outside a PDF look like to other
// programs.
func describePayload(b []byte) string {
	t := bytes.ToLower(bytes.TrimLeft(b, " \t\r\n\f\x00\xef\xbb\xbf"))
	has := func(s ...string) bool {
		for _, x := range s {
			if bytes.Contains(t, []byte(x)) {
				return true
			}
		}
		return false
	}
	switch {
	case has("<script", "<html", "<!doctype", "<body", "<svg", "<iframe", "<object", "<embed", "javascript:", "<?xml"):
		return "HTML or script that a browser would render or run"
	case bytes.HasPrefix(b, []byte("PK\x03\x04")) || bytes.Contains(b, []byte("PK\x05\x06")):
		return "a ZIP archive (a document, an application package or an archive)"
	case bytes.HasPrefix(b, []byte("%PDF-")) || bytes.Contains(b, []byte("%PDF-")):
		return "another PDF"
	case bytes.HasPrefix(b, []byte("\x89PNG")) || bytes.HasPrefix(b, []byte("\xff\xd8\xff")) || bytes.HasPrefix(b, []byte("GIF8")):
		return "an image"
	case bytes.HasPrefix(b, []byte("MZ")) || bytes.HasPrefix(b, []byte("\x7fELF")):
		return "an executable"
	case bytes.HasPrefix(t, []byte("%!ps")):
		return "PostScript"
	}
	return "data of another kind"
}
