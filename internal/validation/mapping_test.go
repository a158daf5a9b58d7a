package validation

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/pades"
)

// TestIndicationRules covers the mapping rules (docs/validation-report.md,
// "Indications") that the signed cases of TestIndications do not reach,
// on the verifier's findings as it reports them.
func TestIndicationRules(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	before, after := now.Add(-48*time.Hour), now.Add(-time.Hour)
	signer := &pades.CertInfo{Subject: "CN=Signer", NotBefore: now.Add(-365 * 24 * time.Hour), NotAfter: now.Add(365 * 24 * time.Hour)}
	good := pades.ChainElement{Certificate: *signer, Revocation: pades.RevocationCheck{Status: pades.RevocationGood, Source: "dss_ocsp"}}
	anchor := pades.ChainElement{Certificate: pades.CertInfo{Subject: "CN=Root"}, TrustAnchor: true, Revocation: pades.RevocationCheck{Status: pades.RevocationNotChecked}}
	revokedAt := func(at time.Time) pades.ChainElement {
		e := good
		e.Revocation = pades.RevocationCheck{Status: pades.RevocationRevoked, Source: "dss_crl", RevokedAt: &at}
		return e
	}
	ok := pades.Check{OK: true}
	valid := func(f func(s *pades.SignatureReport)) pades.SignatureReport {
		s := pades.SignatureReport{Type: "signature", SubFilter: "ETSI.CAdES.detached", Integrity: ok, Chain: ok, Signer: signer,
			TimeSource: pades.TimeSignatureTimestamp, BestTime: &after, Timestamp: &pades.TimestampReport{Time: after, Check: ok},
			ChainElements: []pades.ChainElement{good, anchor}, Valid: true, Level: "B-LT"}
		f(&s)
		return s
	}
	fail := func(s *pades.SignatureReport, msg string) { s.Valid = false; s.Problems = append(s.Problems, msg) }
	tests := []struct {
		name     string
		sig      pades.SignatureReport
		ind, sub string
	}{
		{"passed", valid(func(*pades.SignatureReport) {}), TotalPassed, ""},
		{"sha1", valid(func(s *pades.SignatureReport) {
			s.Integrity, s.IntegrityReason = pades.Check{}, pades.IntegrityAlgorithm
			fail(s, "SHA-1")
		}), Indeterminate, CryptoConstraintsFailureNoPOE},
		{"no_signer_cert", valid(func(s *pades.SignatureReport) {
			s.Integrity, s.IntegrityReason = pades.Check{Error: "signer certificate not found"}, pades.IntegrityNoSigner
			fail(s, "no signer")
		}), Indeterminate, NoSigningCertificateFound},
		{"bad_signature", valid(func(s *pades.SignatureReport) {
			s.Integrity, s.IntegrityReason = pades.Check{Error: "bad signature"}, pades.IntegritySignature
			fail(s, "bad signature")
		}), TotalFailed, SigCryptoFailure},
		{"wrapping", valid(func(s *pades.SignatureReport) {
			s.Integrity, s.Attacks = pades.Check{}, []string{pades.AttackSignatureWrapping}
			fail(s, "wrapped")
		}), TotalFailed, FormatFailure},
		{"revoked_ca", valid(func(s *pades.SignatureReport) {
			s.ChainElements = []pades.ChainElement{good, revokedAt(before), anchor}
			s.Revoked, s.RevokedCA = true, true
			fail(s, "CA revoked")
		}), Indeterminate, RevokedCANoPOE},
		{"revoked_no_poe", valid(func(s *pades.SignatureReport) {
			s.TimeSource, s.BestTime, s.Timestamp, s.SignedTime = pades.TimeValidation, &now, nil, &before
			s.ChainElements = []pades.ChainElement{revokedAt(after), anchor}
			s.Revoked = true
			fail(s, "revoked")
		}), Indeterminate, RevokedNoPOE},
		{"revoked_claimed_after", valid(func(s *pades.SignatureReport) {
			s.TimeSource, s.BestTime, s.Timestamp, s.SigningTime = pades.TimeValidation, &now, nil, "D:20260601113000Z"
			s.ChainElements = []pades.ChainElement{revokedAt(before), anchor}
			s.Revoked = true
			fail(s, "revoked")
		}), TotalFailed, Revoked},
		{"expired_at_poe", valid(func(s *pades.SignatureReport) {
			s.Chain, s.ChainReason = pades.Check{Error: "expired"}, pades.ChainExpired
			fail(s, "expired")
		}), TotalFailed, Expired},
		{"not_yet_valid", valid(func(s *pades.SignatureReport) {
			s.TimeSource, s.Timestamp = pades.TimeValidation, nil
			s.Chain, s.ChainReason = pades.Check{Error: "not yet valid"}, pades.ChainNotYetValid
			fail(s, "not yet valid")
		}), Indeterminate, NotYetValid},
		{"chain_other", valid(func(s *pades.SignatureReport) {
			s.Chain, s.ChainReason = pades.Check{Error: "key usage"}, pades.ChainOther
			fail(s, "key usage")
		}), Indeterminate, CertificateChainGeneralFailure},
		{"bad_timestamp", valid(func(s *pades.SignatureReport) {
			s.TimeSource, s.Timestamp = pades.TimeValidation, &pades.TimestampReport{Check: pades.Check{Error: "bad token"}}
			fail(s, "bad time-stamp")
		}), Indeterminate, NoPOE},
		{"unreadable", valid(func(s *pades.SignatureReport) {
			s.Integrity = pades.Check{}
			fail(s, "cannot read the signed byte ranges")
		}), Indeterminate, SignedDataNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Build(&pades.Report{Signed: true, Signatures: []pades.SignatureReport{tt.sig}}, Input{Name: "x.pdf", Now: now})
			if r.Indication != tt.ind || r.SubIndication != tt.sub {
				t.Errorf("%s/%s, want %s/%s (%s)", r.Indication, r.SubIndication, tt.ind, tt.sub, r.Signatures[0].Reason)
			}
		})
	}
	if r := Build(&pades.Report{Signatures: []pades.SignatureReport{}}, Input{Now: now}); r.Indication != NoSignature || len(r.Signatures) != 0 {
		t.Errorf("unsigned: %s", r.Indication)
	}
}

// TestPDFReportOnePage: a report longer than a page is cut, on one page,
// with a line saying where the rest is.
func TestPDFReportOnePage(t *testing.T) {
	var sigs []pades.SignatureReport
	for range 15 {
		sigs = append(sigs, pades.SignatureReport{Type: "signature", SubFilter: "ETSI.CAdES.detached", Integrity: pades.Check{Error: "bad"},
			IntegrityReason: pades.IntegrityHash, Problems: []string{"message digest mismatch"}})
	}
	r := Build(&pades.Report{Signed: true, Signatures: sigs}, Input{Name: "long.pdf", Now: time.Now()})
	var b bytes.Buffer
	if err := r.PDF(&b); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext not installed")
	}
	p := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", p, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "The report continues") || !strings.Contains(string(out), "Result: TOTAL-FAILED / HASH_FAILURE") {
		t.Errorf("pdftotext:\n%s", out)
	}
	if strings.Count(string(out), "\f") != 1 {
		t.Errorf("%d pages", strings.Count(string(out), "\f"))
	}
}
