package pades

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Sources of a signature's time (SignatureReport.TimeSource).
const (
	TimeSignatureTimestamp = "signature_timestamp" // a valid signature time-stamp: proof of existence
	TimeDocumentTimestamp  = "document_timestamp"  // a valid later document time-stamp covers the signature: proof of existence
	TimeSignedAttribute    = "signed_attribute"    // the CMS signing-time attribute: the signer's claim
	TimeDictionary         = "dictionary"          // the signature dictionary's /M: the signer's claim
	TimeValidation         = "validation_time"     // none: the time of validation
)

// Revocation statuses of a chain element (RevocationCheck.Status).
const (
	RevocationGood       = "good"
	RevocationRevoked    = "revoked"
	RevocationNotChecked = "not_checked"
)

// Reasons the chain check failed (SignatureReport.ChainReason).
const (
	ChainNoPath      = "no_chain"      // no path to a trust anchor
	ChainExpired     = "expired"       // a certificate was outside its validity at the signature's time
	ChainNotYetValid = "not_yet_valid" // before its validity
	ChainOther       = "other"         // another X.509 failure (key usage, constraints, …)
)

// Reasons the integrity check failed (SignatureReport.IntegrityReason).
const (
	IntegrityHash      = "hash_mismatch"     // the signed bytes' digest differs from the signed one
	IntegritySignature = "signature_invalid" // the signature value does not verify
	IntegrityNoSigner  = "no_signer_cert"    // the signer's certificate is not in the signature or the DSS
	IntegrityFormat    = "format"            // the signature cannot be read, or the ByteRange is wrong
	IntegrityAlgorithm = "weak_algorithm"    // an algorithm no longer accepted (SHA-1)
)

// ChainElement is one certificate of a signer's chain, from the signer to
// the trust anchor, and how its revocation status was checked.
type ChainElement struct {
	Certificate CertInfo        `json:"certificate"`
	TrustAnchor bool            `json:"trust_anchor"`
	Revocation  RevocationCheck `json:"revocation"`
}

// RevocationCheck is the revocation status of a chain element.
type RevocationCheck struct {
	Status string `json:"status"` // RevocationGood, RevocationRevoked or RevocationNotChecked
	// Source: "ocsp" or "crl", from "dss" or "online" (e.g. "dss_ocsp").
	Source     string     `json:"source,omitempty"`
	ThisUpdate *time.Time `json:"this_update,omitempty"` // of the OCSP response or CRL used
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	// Reason says why the status was not checked (trust anchor, no data
	// in the DSS, online checking off, …).
	Reason string `json:"reason,omitempty"`
}

// chainOf returns the chain verified for cert (signer first, anchor
// last) and the x509 error if none verifies; on error the chain is the
// best one the pool offers, for the report.
func (v *verifier) chainOf(cert *x509.Certificate, embedded []*x509.Certificate, at time.Time) ([]*x509.Certificate, error) {
	inter := v.pool()
	for _, c := range embedded {
		inter.AddCert(c)
	}
	chains, err := cert.Verify(x509.VerifyOptions{Roots: v.opt.Roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err == nil && len(chains) > 0 {
		return chains[0], nil
	}
	pool := append(append([]*x509.Certificate(nil), v.dssCerts...), embedded...)
	chain := []*x509.Certificate{cert}
	for c := cert; !isSelfSigned(c) && len(chain) < 9; {
		issuer := findIssuer(c, pool)
		if issuer == nil {
			break
		}
		chain = append(chain, issuer)
		c = issuer
	}
	return chain, err
}

// chainReason classifies an x509 verification error.
func chainReason(err error) string {
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return ChainNoPath
	}
	var ci x509.CertificateInvalidError
	if errors.As(err, &ci) {
		switch ci.Reason {
		case x509.Expired:
			if strings.Contains(ci.Detail, "is before") {
				return ChainNotYetValid
			}
			return ChainExpired
		}
	}
	return ChainOther
}

// checkChain verifies cert's chain at the time at and records each
// element and its revocation status in rep; a certificate revoked before
// at is a problem.
func (v *verifier) checkChain(rep *SignatureReport, cert *x509.Certificate, embedded []*x509.Certificate, at time.Time) {
	chain, err := v.chainOf(cert, embedded, at)
	if err != nil {
		rep.Chain = Check{Error: err.Error()}
		rep.ChainReason = chainReason(err)
		rep.fail("", "the signer certificate is not trusted: %v", err)
	} else {
		rep.Chain = Check{OK: true}
	}
	rep.ChainElements = []ChainElement{}
	pool := append(append([]*x509.Certificate(nil), v.dssCerts...), embedded...)
	for i, c := range chain {
		el := ChainElement{Certificate: *certInfo(c)}
		switch {
		case err == nil && i == len(chain)-1:
			el.TrustAnchor = true
			el.Revocation = RevocationCheck{Status: RevocationNotChecked, Reason: "trust anchor"}
		case isSelfSigned(c):
			el.Revocation = RevocationCheck{Status: RevocationNotChecked, Reason: "a self-signed root certificate has no revocation status"}
		case err != nil && rep.ChainReason == ChainNoPath:
			el.Revocation = RevocationCheck{Status: RevocationNotChecked, Reason: "no chain to a trust anchor"}
		default:
			var issuer *x509.Certificate
			if i+1 < len(chain) {
				issuer = chain[i+1]
			} else {
				issuer = findIssuer(c, pool)
			}
			el.Revocation = v.revocation(c, issuer)
		}
		rep.ChainElements = append(rep.ChainElements, el)
	}
	for i, el := range rep.ChainElements {
		if r := el.Revocation; r.Status == RevocationRevoked && r.RevokedAt != nil && !r.RevokedAt.After(at) {
			what := "the signer certificate"
			if i > 0 {
				what = "the issuing CA certificate " + el.Certificate.Subject
				rep.RevokedCA = true
			}
			rep.Revoked = true
			rep.fail("", "%s was revoked at %s, before the signature's time %s", what,
				r.RevokedAt.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
		}
	}
}

// revocation finds the revocation status of c (issued by issuer) in the
// DSS, then online when VerifyOptions.Online is set.
func (v *verifier) revocation(c, issuer *x509.Certificate) RevocationCheck {
	if issuer == nil {
		return RevocationCheck{Status: RevocationNotChecked, Reason: "the issuer's certificate is not in the signature or the DSS"}
	}
	if r, ok := revocationFrom("dss", c, issuer, v.dssOCSPs, v.dssCRLs); ok {
		return r
	}
	if !v.opt.Online {
		return RevocationCheck{Status: RevocationNotChecked, Reason: "no OCSP response or CRL for it in the DSS, and online checking is off"}
	}
	ocsps, crls, errs := v.fetchOnline(c, issuer)
	if r, ok := revocationFrom("online", c, issuer, ocsps, crls); ok {
		return r
	}
	reason := "no OCSP responder or CRL distribution point in the certificate"
	if len(errs) > 0 {
		reason = "online: " + errors.Join(errs...).Error()
		reason = strings.ReplaceAll(reason, "\n", "; ")
	}
	return RevocationCheck{Status: RevocationNotChecked, Reason: reason}
}

// revocationFrom looks for c's status in OCSP responses and CRLs: revoked
// in any of them wins (a revocation is final), else the first good one,
// OCSP before CRL.
func revocationFrom(where string, c, issuer *x509.Certificate, ocsps, crls [][]byte) (RevocationCheck, bool) {
	var good, revoked *RevocationCheck
	for _, der := range ocsps {
		r, err := ParseOCSPFor(der, c, issuer)
		if err != nil {
			continue
		}
		tu := r.ThisUpdate
		switch {
		case r.Status == ocsp.Revoked && revoked == nil:
			at := r.RevokedAt
			revoked = &RevocationCheck{Status: RevocationRevoked, Source: where + "_ocsp", ThisUpdate: &tu, RevokedAt: &at}
		case r.Status == ocsp.Good && good == nil:
			good = &RevocationCheck{Status: RevocationGood, Source: where + "_ocsp", ThisUpdate: &tu}
		}
	}
	for _, der := range crls {
		crl, err := x509.ParseRevocationList(der)
		if err != nil || crl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		tu := crl.ThisUpdate
		i := slices.IndexFunc(crl.RevokedCertificateEntries, func(e x509.RevocationListEntry) bool {
			return e.SerialNumber.Cmp(c.SerialNumber) == 0
		})
		switch {
		case i >= 0 && revoked == nil:
			at := crl.RevokedCertificateEntries[i].RevocationTime
			revoked = &RevocationCheck{Status: RevocationRevoked, Source: where + "_crl", ThisUpdate: &tu, RevokedAt: &at}
		case i < 0 && good == nil:
			good = &RevocationCheck{Status: RevocationGood, Source: where + "_crl", ThisUpdate: &tu}
		}
	}
	switch {
	case revoked != nil:
		return *revoked, true
	case good != nil:
		return *good, true
	}
	return RevocationCheck{}, false
}

// fetchOnline asks c's OCSP responders and CRL distribution points.
func (v *verifier) fetchOnline(c, issuer *x509.Certificate) (ocsps, crls [][]byte, errs []error) {
	client := v.opt.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	for _, u := range c.OCSPServer {
		req, err := ocsp.CreateRequest(c, issuer, nil)
		if err == nil {
			var body []byte
			if body, err = httpDo(v.ctx, client, http.MethodPost, u, "application/ocsp-request", req); err == nil {
				ocsps = append(ocsps, body)
				continue
			}
		}
		errs = append(errs, fmt.Errorf("OCSP %s: %w", u, err))
	}
	for _, u := range c.CRLDistributionPoints {
		body, err := httpDo(v.ctx, client, http.MethodGet, u, "", nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("CRL %s: %w", u, err))
			continue
		}
		crls = append(crls, body)
	}
	return ocsps, crls, errs
}

// integrityReason classifies a CMS verification error.
func integrityReason(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "message digest mismatch"), strings.Contains(s, "digest does not match"):
		return IntegrityHash
	case strings.Contains(s, "signer certificate not found"):
		return IntegrityNoSigner
	}
	return IntegritySignature
}

// tsaChainReason classifies the text of a time-stamp's chain error.
func tsaChainReason(msg string) string {
	switch {
	case strings.Contains(msg, "unknown authority"):
		return ChainNoPath
	case strings.Contains(msg, "is before"):
		return ChainNotYetValid
	case strings.Contains(msg, "expired"):
		return ChainExpired
	}
	return ChainOther
}
