package hooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"esign/customize"
)

// Limits of an answer.
const (
	maxReason  = 1024
	maxEntries = 32
	maxValue   = 1024
)

// keyRE is a Data or PDFMetadata name: a letter, then letters, digits,
// '_', '-' or '.'.
var keyRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`)

// signedNames are PDF metadata names that esign writes or that describe
// what the customer signed: a hook cannot set them, as that would change
// or contradict signed content (the document information dictionary's
// standard entries of the signed revision, the evidence bundle's fields,
// the seal's own entries).
var signedNames = []string{
	// the information dictionary's entries (ISO 32000-1 14.3.3)
	"title", "author", "subject", "keywords", "creator", "producer", "creationdate", "moddate", "trapped",
	// the seal signature dictionary
	"reason", "location", "contactinfo", "name", "m", "contents", "byterange", "filter", "subfilter",
	// the evidence bundle (evidence.json)
	"evidence", "evidence.json", "signatureid", "offerid", "customerid", "username", "publickey", "algorithm",
	"customersignature", "customersignaturehash", "documents", "timestamps", "sha256",
}

// ParseAnswer parses a callout's answer to the hook: a JSON object with
// the fields of customize.Answer that the hook may use, nothing else (an
// empty body or only whitespace is the zero answer). An answer with an
// unknown field, a field the hook may not use, or a PDF metadata name
// that would change signed content is refused.
func ParseAnswer(hook string, body []byte) (customize.Answer, error) {
	var a customize.Answer
	if len(bytes.TrimSpace(body)) == 0 {
		return a, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return customize.Answer{}, fmt.Errorf("the answer is not the expected JSON object: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return customize.Answer{}, errors.New("the answer has data after the JSON object")
	}
	if err := check(hook, a); err != nil {
		return customize.Answer{}, err
	}
	return a, nil
}

// check refuses what the hook may not answer.
func check(hook string, a customize.Answer) error {
	canVeto := hook == customize.OfferCreatedHook || hook == customize.CustomerRegisteredHook
	switch {
	case a.Veto && !canVeto:
		return fmt.Errorf("the %s hook cannot veto", hook)
	case a.Reason != "" && !a.Veto:
		return errors.New("a reason without a veto")
	case a.Veto && strings.TrimSpace(a.Reason) == "":
		return errors.New("a veto needs a reason")
	case len(a.Reason) > maxReason || !utf8.ValidString(a.Reason):
		return fmt.Errorf("the reason is longer than %d bytes or not UTF-8", maxReason)
	case len(a.Data) > 0 && hook != customize.OfferCreatedHook:
		return fmt.Errorf("the %s hook cannot add offer data", hook)
	case len(a.PDFMetadata) > 0 && hook != customize.SignatureVerifiedHook:
		return fmt.Errorf("the %s hook cannot add PDF metadata", hook)
	}
	if err := entries("data", a.Data); err != nil {
		return err
	}
	if err := entries("pdf_metadata", a.PDFMetadata); err != nil {
		return err
	}
	for k := range a.PDFMetadata {
		for _, s := range signedNames {
			if strings.EqualFold(k, s) {
				return fmt.Errorf("pdf_metadata %q would change signed content: only new names may be added", k)
			}
		}
	}
	return nil
}

func entries(field string, m map[string]string) error {
	if len(m) > maxEntries {
		return fmt.Errorf("%s has more than %d entries", field, maxEntries)
	}
	for k, v := range m {
		if !keyRE.MatchString(k) {
			return fmt.Errorf("%s name %q: a letter, then letters, digits, '_', '-' or '.', at most 64", field, k)
		}
		if len(v) > maxValue || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return fmt.Errorf("%s %q: the value is longer than %d bytes or not text", field, k, maxValue)
		}
	}
	return nil
}
