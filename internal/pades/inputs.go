package pades

import (
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
// Invalid: pdf.CodeMalformed and the other codes of pdf.Open, CodePolyglot,
// CodeCertifiedNoChanges). Prepare makes the same checks; this lets an
// upload be refused before anything else is done with it.
func CheckSignable(r io.ReaderAt, size int64) error {
	doc, err := pdf.Open(r, size)
	if err != nil {
		return err
	}
	return checkSignable(doc)
}

// checkSignable refuses what must not be signed (see docs/pades.md, "Input
// classes"): a polyglot, and a document certified with no changes allowed.
func checkSignable(doc *pdf.Document) error {
	const op = "pades.Prepare"
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
