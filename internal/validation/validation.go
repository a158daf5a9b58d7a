// Package validation turns the PAdES verifier's findings (pades.Report)
// into a validation report in the spirit of ETSI TS 119 102-2: per
// signature the signer, the signing time and its source, the format and
// level, the certificate chain and how each element was checked, the
// byte ranges and the changes after it, and an indication (TOTAL-PASSED,
// TOTAL-FAILED, INDETERMINATE) with a sub-indication of ETSI EN 319 102-1.
// It writes the report as JSON (a versioned schema), self-contained HTML
// and a one-page PDF. docs/validation-report.md documents the schema and
// how findings map onto indications.
package validation

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"esign/internal/pades"
)

// Schema names the JSON schema and its version; a change that removes or
// renames a field, or changes a value's meaning, gets a new version.
const Schema = "esign-validation-report/1"

// Indications (ETSI EN 319 102-1, 5.1.3), and NoSignature, ours, for a
// document without signatures.
const (
	TotalPassed   = "TOTAL-PASSED"
	TotalFailed   = "TOTAL-FAILED"
	Indeterminate = "INDETERMINATE"
	NoSignature   = "NO_SIGNATURE"
)

// Sub-indications used (ETSI EN 319 102-1, table 5 and 6).
const (
	FormatFailure                  = "FORMAT_FAILURE"
	HashFailure                    = "HASH_FAILURE"
	SigCryptoFailure               = "SIG_CRYPTO_FAILURE"
	Revoked                        = "REVOKED"
	Expired                        = "EXPIRED"
	NotYetValid                    = "NOT_YET_VALID"
	NoSigningCertificateFound      = "NO_SIGNING_CERTIFICATE_FOUND"
	NoCertificateChainFound        = "NO_CERTIFICATE_CHAIN_FOUND"
	CertificateChainGeneralFailure = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
	RevokedNoPOE                   = "REVOKED_NO_POE"
	RevokedCANoPOE                 = "REVOKED_CA_NO_POE"
	OutOfBoundsNoPOE               = "OUT_OF_BOUNDS_NO_POE"
	OutOfBoundsNotRevoked          = "OUT_OF_BOUNDS_NOT_REVOKED"
	CryptoConstraintsFailureNoPOE  = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
	NoPOE                          = "NO_POE"
	TryLater                       = "TRY_LATER"
	SignedDataNotFound             = "SIGNED_DATA_NOT_FOUND"
)

// Report is a validation report of one PDF.
type Report struct {
	Schema         string    `json:"schema"`
	ValidationTime time.Time `json:"validation_time"`
	// Policy says in a sentence what was checked against what.
	Policy        string      `json:"policy"`
	Document      Document    `json:"document"`
	Indication    string      `json:"indication"` // the worst of the signatures'
	SubIndication string      `json:"sub_indication,omitempty"`
	Signatures    []Signature `json:"signatures"`
	Warnings      []string    `json:"warnings"`
}

// Document describes the file validated.
type Document struct {
	Name       string           `json:"name"`
	Size       int64            `json:"size"`
	SHA256     string           `json:"sha256"`
	Revisions  int              `json:"revisions"`
	Encryption string           `json:"encryption,omitempty"`
	DSS        *pades.DSSReport `json:"dss"`
}

// Signature is the validation of one signature or document time-stamp.
type Signature struct {
	ID        string `json:"id"` // "S1", "S2", … in document order
	Field     string `json:"field"`
	Type      string `json:"type"`   // "signature" or "document_timestamp"
	Format    string `json:"format"` // e.g. "PAdES (ETSI.CAdES.detached)"
	SubFilter string `json:"sub_filter"`
	// Level is the PAdES baseline level reached (B-B, B-T, B-LT, B-LTA),
	// "not PAdES baseline (legacy CMS)", or "" (none: a time-stamp, or a
	// signature that failed before its level was known).
	Level       string       `json:"level"`
	Signer      *Certificate `json:"signer,omitempty"`
	SigningTime *SigningTime `json:"signing_time,omitempty"`
	// ValidationTime is the time the chain was validated at: the
	// proof of existence when there is one, else the time of validation.
	ValidationTime *time.Time     `json:"validation_time,omitempty"`
	Timestamp      *Timestamp     `json:"timestamp,omitempty"`
	Chain          []ChainEntry   `json:"chain"`
	ByteRange      []int64        `json:"byte_range"`
	RevisionEnd    int64          `json:"revision_end"`
	WholeFile      bool           `json:"covers_whole_file"`
	Changes        []pades.Change `json:"changes_after"`
	Checks         []Check        `json:"checks"`
	Attacks        []string       `json:"attacks"`
	Indication     string         `json:"indication"`
	SubIndication  string         `json:"sub_indication,omitempty"`
	// Reason is a sentence (English) saying why the indication is what
	// it is.
	Reason   string   `json:"reason"`
	Problems []string `json:"problems"`
	Warnings []string `json:"warnings"`
}

// Certificate describes a certificate.
type Certificate struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
}

// SigningTime is a signature's time and where it comes from.
type SigningTime struct {
	Time time.Time `json:"time"`
	// Source: "signature_timestamp" or "document_timestamp" (proven by
	// a time-stamp), "signed_attribute" (the CMS signing-time
	// attribute) or "dictionary" (the signature dictionary's /M), both
	// the signer's claim.
	Source string `json:"source"`
	Proven bool   `json:"proven"`
}

// Timestamp is a signature time-stamp, or a document time-stamp itself.
type Timestamp struct {
	Time  time.Time `json:"time"`
	TSA   string    `json:"tsa,omitempty"`
	Valid bool      `json:"valid"`
	Error string    `json:"error,omitempty"`
}

// ChainEntry is one certificate of the signer's chain, signer first.
type ChainEntry struct {
	Certificate
	TrustAnchor bool `json:"trust_anchor"`
	// Revocation: "good", "revoked" or "not_checked"; Source "dss_ocsp",
	// "dss_crl", "online_ocsp" or "online_crl"; Reason why not checked.
	Revocation pades.RevocationCheck `json:"revocation"`
}

// Check is one named check of a signature.
type Check struct {
	Name   string `json:"name"`   // integrity, chain, timestamp, revocation, changes
	Result string `json:"result"` // "passed", "failed" or "not_checked"
	Detail string `json:"detail,omitempty"`
}

// Input is what Build needs besides the verifier's report.
type Input struct {
	Name   string // the file's name
	SHA256 string // of its bytes, hex
	// Now is the time of validation.
	Now time.Time
	// Online: revocation data could be fetched online (for the policy
	// sentence).
	Online bool
}

// Build makes the validation report of a verified PDF.
func Build(rep *pades.Report, in Input) *Report {
	r := &Report{Schema: Schema, ValidationTime: in.Now.UTC(), Signatures: []Signature{},
		Warnings: append([]string{}, rep.Warnings...),
		Document: Document{Name: in.Name, Size: rep.Size, SHA256: in.SHA256, Revisions: rep.Revisions, DSS: rep.DSS}}
	r.Policy = "signatures and time-stamps checked against the configured trust anchors; revocation status from the document's DSS"
	if in.Online {
		r.Policy += ", else online (OCSP, CRL)"
	}
	if rep.Encryption != nil {
		r.Document.Encryption = rep.Encryption.String()
	}
	for i, s := range rep.Signatures {
		r.Signatures = append(r.Signatures, signature(i, s, in.Now))
	}
	r.Indication, r.SubIndication = overall(r.Signatures)
	if !rep.Signed {
		r.Indication = NoSignature
	}
	return r
}

// overall is the worst indication: TOTAL-FAILED, then INDETERMINATE,
// then TOTAL-PASSED; its sub-indication is the first such signature's.
func overall(sigs []Signature) (string, string) {
	for _, want := range []string{TotalFailed, Indeterminate} {
		for _, s := range sigs {
			if s.Indication == want {
				return want, s.SubIndication
			}
		}
	}
	if len(sigs) == 0 {
		return NoSignature, ""
	}
	return TotalPassed, ""
}

func cert(c *pades.CertInfo) *Certificate {
	if c == nil {
		return nil
	}
	return &Certificate{Subject: c.Subject, Issuer: c.Issuer, Serial: c.Serial, NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC()}
}

func signature(i int, s pades.SignatureReport, now time.Time) Signature {
	out := Signature{ID: "S" + strconv.Itoa(i+1), Field: s.Field, Type: s.Type, SubFilter: s.SubFilter, Level: s.Level,
		Signer: cert(s.Signer), ByteRange: s.ByteRange, RevisionEnd: s.RevisionEnd, WholeFile: s.CoversWholeFile,
		Changes: append([]pades.Change{}, s.Changes...), Attacks: append([]string{}, s.Attacks...),
		Problems: append([]string{}, s.Problems...), Warnings: append([]string{}, s.Warnings...), Chain: []ChainEntry{}}
	if out.ByteRange == nil {
		out.ByteRange = []int64{}
	}
	switch {
	case s.Type == "document_timestamp":
		out.Format = "PDF document time-stamp (" + s.SubFilter + ")"
	case s.Level == pades.LevelLegacyCMS:
		out.Format = "CMS / PKCS #7 (" + s.SubFilter + ")"
	case s.SubFilter == "ETSI.CAdES.detached":
		out.Format = "PAdES (" + s.SubFilter + ")"
	default:
		out.Format = "CMS (" + s.SubFilter + ")"
	}
	if t := s.Timestamp; t != nil {
		out.Timestamp = &Timestamp{Time: t.Time.UTC(), TSA: t.TSA, Valid: t.Check.OK, Error: t.Check.Error}
	}
	out.SigningTime = signingTime(s)
	if s.BestTime != nil {
		t := s.BestTime.UTC()
		out.ValidationTime = &t
	} else if s.Type == "signature" && s.Integrity.OK {
		t := now.UTC()
		out.ValidationTime = &t
	}
	for _, e := range s.ChainElements {
		out.Chain = append(out.Chain, ChainEntry{Certificate: *cert(&e.Certificate), TrustAnchor: e.TrustAnchor, Revocation: utcRevocation(e.Revocation)})
	}
	out.Checks = checks(s, out.Chain)
	out.Indication, out.SubIndication, out.Reason = indication(s, now)
	return out
}

func utcRevocation(r pades.RevocationCheck) pades.RevocationCheck {
	for _, p := range []**time.Time{&r.ThisUpdate, &r.RevokedAt} {
		if *p != nil {
			t := (*p).UTC()
			*p = &t
		}
	}
	return r
}

// signingTime: the time-stamp's when valid, else the signer's claims.
func signingTime(s pades.SignatureReport) *SigningTime {
	switch {
	case s.TimeSource == pades.TimeSignatureTimestamp || s.TimeSource == pades.TimeDocumentTimestamp:
		if s.BestTime != nil {
			return &SigningTime{Time: s.BestTime.UTC(), Source: s.TimeSource, Proven: true}
		}
	case s.SignedTime != nil:
		return &SigningTime{Time: s.SignedTime.UTC(), Source: pades.TimeSignedAttribute}
	}
	if t, ok := pdfDate(s.SigningTime); ok {
		return &SigningTime{Time: t, Source: pades.TimeDictionary}
	}
	return nil
}

// checks lists the named checks of a signature.
func checks(s pades.SignatureReport, chain []ChainEntry) []Check {
	res := func(ok bool, err string) (string, string) {
		switch {
		case ok:
			return "passed", ""
		case err == "":
			return "not_checked", ""
		}
		return "failed", err
	}
	var out []Check
	add := func(name string, ok bool, err string) {
		r, d := res(ok, err)
		if r == "not_checked" && len(s.Problems) > 0 && name == "integrity" {
			r, d = "failed", s.Problems[0]
		}
		out = append(out, Check{Name: name, Result: r, Detail: d})
	}
	add("integrity", s.Integrity.OK, s.Integrity.Error)
	if s.Type == "signature" {
		add("chain", s.Chain.OK, s.Chain.Error)
	}
	if s.Timestamp != nil {
		add("timestamp", s.Timestamp.Check.OK, s.Timestamp.Check.Error)
	}
	if len(chain) > 0 {
		rev := Check{Name: "revocation", Result: "passed"}
		for _, e := range chain {
			switch {
			case e.TrustAnchor:
			case e.Revocation.Status == pades.RevocationRevoked:
				rev = Check{Name: "revocation", Result: "failed", Detail: e.Subject + " is revoked"}
			case e.Revocation.Status == pades.RevocationNotChecked && rev.Result == "passed":
				rev = Check{Name: "revocation", Result: "not_checked", Detail: e.Subject + ": " + e.Revocation.Reason}
			}
		}
		out = append(out, rev)
	}
	changes := Check{Name: "changes", Result: "passed"}
	if s.Modified {
		changes = Check{Name: "changes", Result: "failed", Detail: "a later revision changes the signed content"}
	}
	return append(out, changes)
}

// indication maps the verifier's findings onto an indication and
// sub-indication (docs/validation-report.md, "Indications"), the first
// rule that applies winning.
func indication(s pades.SignatureReport, now time.Time) (ind, sub, reason string) {
	proven := s.TimeSource == pades.TimeSignatureTimestamp || s.TimeSource == pades.TimeDocumentTimestamp
	switch s.IntegrityReason {
	case pades.IntegrityHash:
		return TotalFailed, HashFailure, "the signed bytes' digest differs from the one signed: the document was changed"
	case pades.IntegritySignature:
		return TotalFailed, SigCryptoFailure, "the signature value does not verify with the signer's public key"
	case pades.IntegrityNoSigner:
		return Indeterminate, NoSigningCertificateFound, "the signer's certificate is neither in the signature nor in the DSS"
	case pades.IntegrityAlgorithm:
		return Indeterminate, CryptoConstraintsFailureNoPOE, "the signature uses an algorithm no longer accepted (SHA-1) and nothing proves it was made while it was"
	case pades.IntegrityFormat:
		return TotalFailed, FormatFailure, "the signature cannot be read as a PAdES or CMS signature"
	}
	if slices.Contains(s.Attacks, pades.AttackSignatureWrapping) || slices.Contains(s.Attacks, pades.AttackShadow) ||
		slices.Contains(s.Attacks, pades.AttackUSF) {
		return TotalFailed, FormatFailure, "the signature's /ByteRange or /Contents is not what a signature of this file has (" + strings.Join(s.Attacks, ", ") + ")"
	}
	if !s.Integrity.OK && len(s.Problems) > 0 {
		return Indeterminate, SignedDataNotFound, "the signed bytes cannot be read"
	}
	if s.Revoked {
		switch {
		case s.RevokedCA:
			return Indeterminate, RevokedCANoPOE, "a CA certificate of the chain was revoked before the signature's time"
		case proven || claimedAfterRevocation(s):
			return TotalFailed, Revoked, "the signer's certificate was revoked before the signature was made"
		}
		return Indeterminate, RevokedNoPOE, "the signer's certificate is revoked and nothing proves the signature was made before"
	}
	if !s.Chain.OK && s.Chain.Error != "" {
		switch s.ChainReason {
		case pades.ChainNoPath:
			return Indeterminate, NoCertificateChainFound, "the signer's certificate does not chain to a trust anchor"
		case pades.ChainExpired:
			if proven {
				return TotalFailed, Expired, "the signer's certificate had expired when the time-stamp proves the signature existed"
			}
			if signerGood(s) {
				return Indeterminate, OutOfBoundsNotRevoked, "the signer's certificate has expired, is not revoked, and no time-stamp proves the signature was made before"
			}
			return Indeterminate, OutOfBoundsNoPOE, "the signer's certificate has expired and no time-stamp proves the signature was made before"
		case pades.ChainNotYetValid:
			if proven {
				return TotalFailed, NotYetValid, "the signature was made before the signer's certificate was valid"
			}
			return Indeterminate, NotYetValid, "the signer's certificate is not yet valid"
		}
		return Indeterminate, CertificateChainGeneralFailure, "the signer's certificate chain is not valid"
	}
	if s.Timestamp != nil && !s.Timestamp.Check.OK {
		return Indeterminate, NoPOE, "the signature time-stamp is not valid, so nothing proves when the signature was made"
	}
	if s.Modified || slices.Contains(s.Attacks, pades.AttackIncrementalSaving) {
		return TotalFailed, FormatFailure, "a later revision changes what was signed in a way a signed PDF does not allow"
	}
	if len(s.Problems) > 0 {
		return TotalFailed, FormatFailure, s.Problems[0]
	}
	for _, e := range s.ChainElements {
		if !e.TrustAnchor && e.Revocation.Status == pades.RevocationNotChecked {
			return Indeterminate, TryLater, "the revocation status of " + e.Certificate.Subject + " is not known (" + e.Revocation.Reason + ")"
		}
	}
	reason = "the signature is intact, its signer's chain is trusted and not revoked"
	if s.Type == "document_timestamp" {
		reason = "the document time-stamp is intact and its TSA trusted"
	}
	if s.Signer != nil && s.BestTime != nil && proven && now.After(s.Signer.NotAfter) && !s.BestTime.After(s.Signer.NotAfter) {
		reason += "; the certificate has expired since, after the time-stamp that proves the signature existed"
	}
	return TotalPassed, "", reason
}

// signerGood: the signer's own revocation status is known good.
func signerGood(s pades.SignatureReport) bool {
	return len(s.ChainElements) > 0 && s.ChainElements[0].Revocation.Status == pades.RevocationGood
}

// claimedAfterRevocation: the signer's own claimed time is after the
// revocation of its certificate.
func claimedAfterRevocation(s pades.SignatureReport) bool {
	if len(s.ChainElements) == 0 || s.ChainElements[0].Revocation.RevokedAt == nil {
		return false
	}
	at := *s.ChainElements[0].Revocation.RevokedAt
	if s.SignedTime != nil {
		return s.SignedTime.After(at)
	}
	if t, ok := pdfDate(s.SigningTime); ok {
		return t.After(at)
	}
	return false
}

// pdfDate parses a PDF date (D:YYYYMMDDHHmmSS with an offset or Z).
func pdfDate(s string) (time.Time, bool) {
	v := strings.TrimPrefix(s, "D:")
	if len(v) < 14 {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102150405", v[:14])
	if err != nil {
		return time.Time{}, false
	}
	if rest := strings.ReplaceAll(v[14:], "'", ""); len(rest) == 5 && (rest[0] == '+' || rest[0] == '-') {
		if off, err := time.Parse("-0700", rest); err == nil {
			_, sec := off.Zone()
			t = t.Add(-time.Duration(sec) * time.Second)
		}
	}
	return t.UTC(), true
}
