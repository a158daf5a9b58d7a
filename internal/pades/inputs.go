package pades

import (
	"bytes"
	"fmt"
	"io"

	"esign/internal/esign"
	"esign/internal/pdf"
)

// Codes of the *esign.Error (kind Invalid) for a PDF the signer refuses.
const (
	// CodePolyglot: the file holds something besides the PDF that another
	// program would show: bytes before the %PDF- header, or bytes other
	// than white space after the last %%EOF.
	CodePolyglot = "pdf_polyglot"
	// CodeCertifiedNoChanges: a certification signature with DocMDP
	// permissions 1 forbids any change, a new signature included.
	CodeCertifiedNoChanges = "pdf_certified_no_changes"
)

// CheckSignable opens the PDF in r (size bytes) and returns nil when
// esign may sign it, or the reason it must not (an *esign.Error of kind
// Invalid: pdf.CodeMalformed and the other codes of pdf.Open, CodePermissions,
// CodePolyglot, CodeCertifiedNoChanges). Prepare makes the same checks; this lets an
// upload be refused before anything else is done with it.
func CheckSignable(r io.ReaderAt, size int64) error {
	doc, err := pdf.Open(r, size)
	if err != nil {
		return err
	}
	return checkSignable(doc)
}

// checkSignable refuses what must not be signed (see docs/pades.md, "Input
// classes"): an encrypted document whose permissions forbid a new
// signature field, a polyglot, and a document certified with no changes
// allowed.
func checkSignable(doc *pdf.Document) error {
	const op = "pades.Prepare"
	if err := SignPermitted(doc); err != nil {
		return err
	}
	fr := doc.Framing()
	if fr.Before > 0 {
		shift := ""
		if fr.Shifted {
			shift = "; its offsets count from the header, as when bytes are put before a PDF"
		}
		return &esign.Error{Op: op, Kind: esign.Invalid, Code: CodePolyglot, Msg: fmt.Sprintf(
			"%d bytes precede the %%PDF- header (%s%s): PDF readers skip them but browsers and other programs may show them instead, "+
				"so a signature would vouch for content no PDF reader displays; remove them "+
				"(for example re-save the file with qpdf) and sign again", fr.Before, describePayload(prefixOf(doc)), shift)}
	}
	if fr.After > 0 {
		tail, err := doc.ReadTrailing(maxInspected)
		if err != nil {
			return esign.E(op, err)
		}
		if !onlyPadding(tail) {
			return &esign.Error{Op: op, Kind: esign.Invalid, Code: CodePolyglot, Msg: fmt.Sprintf(
				"%d bytes follow the last %%%%EOF (%s): PDF readers ignore them but other programs may show or run them, "+
					"so a signature would vouch for content no PDF reader displays; remove them "+
					"(for example re-save the file with qpdf) and sign again", fr.After, describePayload(tail))}
		}
	}
	cat, _, err := doc.Catalog()
	if err != nil {
		return err
	}
	perms, err := doc.ResolveDict(cat["Perms"])
	if err != nil {
		return pdf.Unreadable(op, err)
	}
	if perms == nil {
		return nil
	}
	sig, err := doc.ResolveDict(perms["DocMDP"])
	if err != nil {
		return pdf.Unreadable(op, err)
	}
	if sig != nil && docMDP(sig, doc) == 1 {
		by := ""
		if n, ok := pdf.AsString(sig["Name"]); ok && len(n) > 0 {
			by = " by " + decodeText(n)
		}
		return &esign.Error{Op: op, Kind: esign.Invalid, Code: CodeCertifiedNoChanges, Msg: "the document is certified" + by +
			" with DocMDP permissions 1 (no changes allowed): any new signature would invalidate the certification"}
	}
	return nil
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
