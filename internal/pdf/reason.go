package pdf

import (
	"errors"
	"fmt"

	"esign/internal/esign"
)

// Reason classifies why a file is not a readable PDF. Every error this
// package returns with CodeMalformed wraps a *ReadError naming one, and its
// user-visible message says which: the signer, the verifier and the
// services all describe a bad file with the same sentence.
type Reason string

// The reasons a file is not a readable PDF.
const (
	ReasonTooShort      Reason = "too_short"     // fewer bytes than the smallest PDF
	ReasonNoHeader      Reason = "no_header"     // no %PDF- in the first 1024 bytes
	ReasonNoStartXRef   Reason = "no_startxref"  // no startxref near the end (truncated, or data appended)
	ReasonBadStartXRef  Reason = "bad_startxref" // startxref is not an offset in the file
	ReasonBrokenXRef    Reason = "broken_xref"   // a cross-reference table or stream cannot be read
	ReasonPrevLoop      Reason = "prev_loop"     // the /Prev chain comes back to a section
	ReasonTooManyXRef   Reason = "too_many_xref" // more than maxXRefSections sections
	ReasonNoRoot        Reason = "no_root"       // the trailer has no /Root reference
	ReasonBadCatalog    Reason = "bad_catalog"   // the /Root object is not a dictionary
	ReasonBadPageTree   Reason = "bad_page_tree" // the page tree is cyclic, too deep or unreadable
	ReasonBadObject     Reason = "bad_object"    // an object the operation needs cannot be parsed
	ReasonEncrypted     Reason = "encrypted"     // encrypted, and cannot be opened without a password (CodeEncrypted)
	ReasonUnsupportedPD Reason = "unsupported"   // a feature this reader does not implement (CodeUnsupported)
)

// ReadError is the cause wrapped by a CodeMalformed error.
type ReadError struct {
	Reason Reason
	Offset int64 // file offset the reason refers to, or -1
	Detail string
	Err    error // the parser's error, if any
}

func (e *ReadError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	if e.Detail != "" {
		return "pdf: " + string(e.Reason) + ": " + e.Detail
	}
	return "pdf: " + string(e.Reason)
}

func (e *ReadError) Unwrap() error { return e.Err }

// Sentence describes the problem for a user, without parser internals.
func (e *ReadError) Sentence() string {
	s := e.sentence()
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

func (e *ReadError) sentence() string {
	switch e.Reason {
	case ReasonTooShort:
		return "it is too short to be a PDF"
	case ReasonNoHeader:
		return "it has no %PDF- header in its first 1024 bytes: it is another kind of file"
	case ReasonNoStartXRef:
		return "its end has no startxref: the file is truncated or data was appended after its %%EOF"
	case ReasonBadStartXRef:
		return "its startxref does not point at an offset in the file"
	case ReasonBrokenXRef:
		if e.Offset >= 0 {
			return fmt.Sprintf("its cross-reference section at offset %d is broken", e.Offset)
		}
		return "its cross-reference data is broken"
	case ReasonPrevLoop:
		return fmt.Sprintf("its chain of cross-reference sections (/Prev) loops back to offset %d", e.Offset)
	case ReasonTooManyXRef:
		return fmt.Sprintf("it has more than %d cross-reference sections", maxXRefSections)
	case ReasonNoRoot:
		return "its trailer names no document catalog (/Root)"
	case ReasonBadCatalog:
		return "its document catalog (/Root) is missing or not a dictionary"
	case ReasonBadPageTree:
		return "its page tree is broken"
	case ReasonBadObject:
		if e.Offset >= 0 {
			return fmt.Sprintf("object %d cannot be read", e.Offset)
		}
		return "an object cannot be read"
	}
	return "it cannot be read"
}

// malformedMsg is the start of every CodeMalformed message.
const malformedMsg = "the file is not a readable PDF"

func readErr(op string, reason Reason, off int64, detail string, err error) error {
	re := &ReadError{Reason: reason, Offset: off, Detail: detail, Err: err}
	return &esign.Error{Op: op, Kind: esign.Invalid, Code: CodeMalformed, Msg: malformedMsg + ": " + re.Sentence(), Err: re}
}

// Unreadable returns err as a CodeMalformed *esign.Error naming its reason
// when it is about the file's syntax (an object that does not parse), for
// errors met while navigating an opened document. An *esign.Error (already
// classified) is returned as it is, any other error wrapped with op; nil
// stays nil.
func Unreadable(op string, err error) error {
	if err == nil {
		return nil
	}
	var ee *esign.Error
	if errors.As(err, &ee) {
		return err
	}
	var oe *ObjectError
	if errors.As(err, &oe) {
		return readErr(op, ReasonBadObject, int64(oe.Num), syntaxDetail(oe.Err), err)
	}
	var se *SyntaxError
	if errors.As(err, &se) {
		return readErr(op, ReasonBadObject, -1, se.Msg, err)
	}
	return esign.E(op, err)
}

// ReasonOf returns the reason err gives for a file not being a readable PDF,
// or "" when err is not about the file's syntax.
func ReasonOf(err error) Reason {
	var re *ReadError
	if errors.As(err, &re) {
		return re.Reason
	}
	var ee *esign.Error
	if errors.As(err, &ee) {
		switch ee.Code {
		case CodeEncrypted:
			return ReasonEncrypted
		case CodeUnsupported:
			return ReasonUnsupportedPD
		}
	}
	return ""
}

// ObjectError is an object that cannot be read.
type ObjectError struct {
	Num int
	Err error
}

func (e *ObjectError) Error() string { return fmt.Sprintf("pdf: object %d: %v", e.Num, e.Err) }
func (e *ObjectError) Unwrap() error { return e.Err }

// syntaxDetail is the parser's message without the "pdf: syntax error at
// offset" prefix, which means little to a user.
func syntaxDetail(err error) string {
	var se *SyntaxError
	if errors.As(err, &se) {
		return se.Msg
	}
	var oe *ObjectError
	if errors.As(err, &oe) {
		return syntaxDetail(oe.Err)
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// sectionError classifies an error of readSections.
func sectionError(op string, err error) error {
	var re *ReadError
	if errors.As(err, &re) {
		return readErr(op, re.Reason, re.Offset, re.Detail, re.Err)
	}
	return readErr(op, ReasonBrokenXRef, -1, syntaxDetail(err), err)
}
