package customerui

import (
	"strings"
	"time"

	"esign/internal/pades"
	"esign/internal/validation"
)

// Report is what the verify page shows of one PDF: built from the PAdES
// verifier's report (pades.Report) by newReport and rendered by
// verify_report.html, which reads nothing else. Texts are message keys
// (verify.*), so the page speaks the customer's language; only Problems
// carry the verifier's own (English) sentences, as technical details.
// A richer report (an ETSI-style validation report with indications)
// extends these structs. The ETSI-style indications come from
// validation.Build, the same as `esign pdf verify --report` writes
// (docs/validation-report.md), so the page and the CLI agree.
type Report struct {
	Name   string // the uploaded file's name, or the contract document's
	Size   int64
	SHA256 string // of the bytes verified, hex
	// Indication is the overall verdict: "valid" (signed, every signature
	// and document time-stamp valid), "invalid" or "unsigned" — the
	// verifier's own verdict (pades.Report.Valid), kept as the page's
	// data-indication; the page's words follow the ETSI indication below.
	Indication string
	// ETSI is the validation report's indication (TOTAL-PASSED,
	// TOTAL-FAILED, INDETERMINATE, NO_SIGNATURE) and ETSISub its
	// sub-indication; Verdict the suffix of verify.etsi.summary.*
	// (passed, failed, indeterminate, unsigned).
	ETSI, ETSISub, Verdict string
	Revisions              int
	Signatures             []SignatureResult
	// Back is where the page's back link leads (the contract, or the
	// upload form).
	Back string
	// Contract: the customer's own sealed contract was verified (not an
	// upload).
	Contract bool
}

// SignatureResult is one signature or document time-stamp of the PDF.
type SignatureResult struct {
	Field         string
	DocTimestamp  bool // a document time-stamp, not a signature
	Valid         bool
	Signer        string // the certificate's subject ("" when none was found)
	Issuer        string
	NotBefore     time.Time
	NotAfter      time.Time
	Time          time.Time // the time-stamp's time (zero: no time-stamp)
	TSA           string
	ClaimedTime   string // the signer's own claim (/M), shown when there is no time-stamp
	Level         string // PAdES baseline level reached ("" none)
	WholeFile     bool   // the signature covers the whole file
	Checks        []CheckResult
	Attacks       []string // attack classes detected: the suffixes of verify.attack.*
	Problems      []string // the verifier's own sentences (English)
	AllowedChange int      // later changes that are allowed (e.g. the DSS)

	// From the validation report (docs/validation-report.md).
	Indication, SubIndication string // e.g. TOTAL-FAILED, HASH_FAILURE
	Reason                    string // why, in English (technical details)
	Format                    string
	TimeSource                string // the suffix of verify.time_source.* ("" no time)
	ByteRange                 []int64
	Chain                     []ChainResult
	Changes                   []pades.Change // changes after the signature
}

// ChainResult is one certificate of a signer's chain and how its
// revocation status was checked.
type ChainResult struct {
	Subject   string
	Anchor    bool
	Status    string // good, revoked, not_checked: the suffix of verify.revocation.*
	Source    string // dss_ocsp, dss_crl, online_ocsp, online_crl, "": verify.revocation.source.*
	RevokedAt time.Time
	Reason    string // why not checked (English)
}

// CheckResult is one check of a signature: Key is the suffix of the
// message keys verify.check.<key> (its name) and verify.check.<key>.ok /
// .failed (its result in words).
type CheckResult struct {
	Key string
	OK  bool
}

// The check keys, in the order the page shows them.
const (
	checkIntegrity = "integrity" // the signed bytes are unchanged, the signature value is right
	checkTrust     = "trust"     // the signer's certificate chains to a trust anchor
	checkTimestamp = "timestamp" // the time-stamp is valid
	checkUnchanged = "unchanged" // no change after signing that is not allowed
)

// newReport turns the verifier's report into the page's.
func newReport(name string, size int64, sum string, rep *pades.Report, now time.Time) *Report {
	r := &Report{Name: name, Size: size, SHA256: sum, Revisions: rep.Revisions, Signatures: []SignatureResult{}}
	vr := validation.Build(rep, validation.Input{Name: name, SHA256: sum, Now: now})
	r.ETSI, r.ETSISub = vr.Indication, vr.SubIndication
	switch vr.Indication {
	case validation.TotalPassed:
		r.Verdict = "passed"
	case validation.TotalFailed:
		r.Verdict = "failed"
	case validation.Indeterminate:
		r.Verdict = "indeterminate"
	default:
		r.Verdict = "unsigned"
	}
	switch {
	case !rep.Signed:
		r.Indication = "unsigned"
	case rep.Valid():
		r.Indication = "valid"
	default:
		r.Indication = "invalid"
	}
	for i, s := range rep.Signatures {
		vs := vr.Signatures[i]
		sr := SignatureResult{Indication: vs.Indication, SubIndication: vs.SubIndication, Reason: vs.Reason, Format: vs.Format,
			ByteRange: vs.ByteRange, Changes: vs.Changes, Field: s.Field, DocTimestamp: s.Type == "document_timestamp", Valid: s.Valid,
			ClaimedTime: pdfDate(s.SigningTime), Level: s.Level, WholeFile: s.CoversWholeFile,
			Attacks: append([]string(nil), s.Attacks...), Problems: append([]string(nil), s.Problems...)}
		if c := s.Signer; c != nil {
			sr.Signer, sr.Issuer, sr.NotBefore, sr.NotAfter = c.Subject, c.Issuer, c.NotBefore, c.NotAfter
		}
		sr.Checks = append(sr.Checks, CheckResult{Key: checkIntegrity, OK: s.Integrity.OK})
		// The chain is checked only once the signature value is: a
		// signature that failed before has no trust result to show.
		if !sr.DocTimestamp && (s.Chain.OK || s.Chain.Error != "") {
			sr.Checks = append(sr.Checks, CheckResult{Key: checkTrust, OK: s.Chain.OK})
		}
		if t := s.Timestamp; t != nil {
			sr.Time, sr.TSA = t.Time, t.TSA
			sr.Checks = append(sr.Checks, CheckResult{Key: checkTimestamp, OK: t.Check.OK})
		}
		sr.Checks = append(sr.Checks, CheckResult{Key: checkUnchanged, OK: !s.Modified})
		for _, c := range s.Changes {
			if c.Allowed {
				sr.AllowedChange++
			}
		}
		if t := vs.SigningTime; t != nil {
			sr.TimeSource = t.Source
		}
		for _, c := range vs.Chain {
			cr := ChainResult{Subject: c.Subject, Anchor: c.TrustAnchor, Status: c.Revocation.Status, Source: c.Revocation.Source, Reason: c.Revocation.Reason}
			if c.Revocation.RevokedAt != nil {
				cr.RevokedAt = *c.Revocation.RevokedAt
			}
			sr.Chain = append(sr.Chain, cr)
		}
		r.Signatures = append(r.Signatures, sr)
	}
	return r
}

// pdfDate shows a PDF date (D:YYYYMMDDHHmmSS with an offset or Z) as
// "2006-01-02 15:04:05 UTC"; anything else is shown as written.
func pdfDate(s string) string {
	v := strings.TrimPrefix(s, "D:")
	if len(v) < 14 {
		return s
	}
	t, err := time.Parse("20060102150405", v[:14])
	if err != nil {
		return s
	}
	if rest := strings.ReplaceAll(v[14:], "'", ""); len(rest) == 5 && (rest[0] == '+' || rest[0] == '-') {
		if off, err := time.Parse("-0700", rest); err == nil {
			_, sec := off.Zone()
			t = t.Add(-time.Duration(sec) * time.Second)
		}
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}
