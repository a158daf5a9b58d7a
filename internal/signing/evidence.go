package signing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"esign/internal/esign"
	"esign/internal/pades"
	"esign/internal/protocol"
	"esign/internal/tsa"
)

// MaxEvidenceSize bounds an evidence bundle read from a PDF (the photo is
// at most MaxPhoto, base64 in JSON).
const MaxEvidenceSize = 16 << 20

// ParseEvidence reads an evidence bundle strictly: known fields only, a
// known version, the fields every bundle has. Errors: Invalid.
func ParseEvidence(b []byte) (*Evidence, error) {
	const op = "signing.ParseEvidence"
	if len(b) > MaxEvidenceSize {
		return nil, esign.E(op, esign.Invalid, "the evidence bundle is too large")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var ev Evidence
	if err := dec.Decode(&ev); err != nil {
		return nil, esign.E(op, esign.Invalid, "the evidence bundle is not valid JSON of its format", err)
	}
	if dec.More() {
		return nil, esign.E(op, esign.Invalid, "data after the evidence bundle")
	}
	var missing []string
	for _, f := range []struct {
		name string
		ok   bool
	}{
		{"signatureId", ev.SignatureID != ""}, {"offerId", ev.OfferID != ""}, {"publicKey", ev.PublicKey != ""},
		{"m1Raw", len(ev.M1Raw) > 0}, {"m1SignedData", len(ev.M1SignedData) > 0}, {"m2", len(ev.M2) > 0},
		{"timestamps.ts1", len(ev.Timestamps["ts1"]) > 0},
	} {
		if !f.ok {
			missing = append(missing, f.name)
		}
	}
	switch {
	case ev.Version < 1 || ev.Version > EvidenceVersion:
		return nil, esign.Errorf(op, esign.Invalid, "unknown evidence version %d", ev.Version)
	case len(missing) > 0:
		return nil, esign.Errorf(op, esign.Invalid, "the evidence bundle lacks %s", strings.Join(missing, ", "))
	case ev.Version >= 2 && len(ev.M1Hashes) == 0:
		return nil, esign.E(op, esign.Invalid, "the evidence bundle (version 2) lacks m1Hashes")
	}
	for _, d := range ev.Documents {
		if h, err := hex.DecodeString(d.SHA256); err != nil || len(h) != sha256.Size {
			return nil, esign.Errorf(op, esign.Invalid, "the hash of document %q is not a hex SHA-256", d.Name)
		}
	}
	return &ev, nil
}

// EvidenceOptions configure VerifyEvidence.
type EvidenceOptions struct {
	// Roots are the trust anchors of the TSA's and the bank's certificates
	// (nil: the system roots).
	Roots *x509.CertPool
	// MaxSpan bounds TS3 − TS1 as when the signature was made (default
	// 10 minutes, the signing default).
	MaxSpan time.Duration
	// Now is the validation time of the seal when it has no valid
	// time-stamp (default time.Now).
	Now func() time.Time
}

// Check results.
const (
	CheckPass    = "pass"
	CheckFail    = "FAIL"
	CheckSkipped = "skipped" // the data is not in the evidence
	CheckNotRun  = "not run" // an earlier Phase-4 check failed
)

// EvidenceCheck is one line of the offline check.
type EvidenceCheck struct {
	Name   string `json:"name"`
	Result string `json:"result"`
	Detail string `json:"detail,omitempty"`
}

// EvidenceReport is the outcome of VerifyEvidence.
type EvidenceReport struct {
	SignatureID string          `json:"signatureId,omitempty"`
	OfferID     string          `json:"offerId,omitempty"`
	CustomerID  string          `json:"customerId,omitempty"`
	UserName    string          `json:"userName,omitempty"`
	Version     int             `json:"evidenceVersion,omitempty"`
	Checks      []EvidenceCheck `json:"checks"`
	OK          bool            `json:"ok"`
}

// Check returns the named check (nil: not in the report).
func (r *EvidenceReport) Check(name string) *EvidenceCheck {
	for i := range r.Checks {
		if r.Checks[i].Name == name {
			return &r.Checks[i]
		}
	}
	return nil
}

// phase4Names are the Phase-4 checks in their order, as run names them.
var phase4Names = []string{"version", "evidence", "public_key", "algorithm", "username", "offer_hashes", "offer_changed",
	"signature1", "ts1_invalid", "ts2_invalid", "signature_hash", "signature2", "ts3_invalid", "ts_order", "ts_window"}

// displayName is how the report names a Phase-4 check.
func displayName(code string) string {
	switch code {
	case "ts1_invalid", "ts2_invalid", "ts3_invalid":
		return strings.TrimSuffix(code, "_invalid")
	case "algorithm_refused":
		return "algorithm"
	}
	return code
}

// VerifyEvidence checks a sealed contract offline, from the PDF alone: it
// reads the evidence attachment (evidence.json) and re-runs every Phase-4
// check of the signature from it with the same code as M2 (phase4.run):
// SIGNATURE1 and SIGNATURE2 with the stored public key, the offer hashes
// against the documents' hashes, TS1/TS2/TS3 (imprint, TSA signature and
// certificate), their order and window, the customer signature hash. It
// also checks that the evidence's copies agree (evidence_consistency),
// that the document inside the PDF is one of the signed offer documents
// (document), and the bank's seal (pades.Verify). No database, no
// network. The error is for a file that cannot be read; every finding is
// a check of the report.
func VerifyEvidence(ctx context.Context, r io.ReaderAt, size int64, opt EvidenceOptions) (*EvidenceReport, error) {
	rep := &EvidenceReport{Checks: []EvidenceCheck{}}
	add := func(name, result, detail string) {
		rep.Checks = append(rep.Checks, EvidenceCheck{Name: name, Result: result, Detail: detail})
	}
	defer func() {
		rep.OK = len(rep.Checks) > 0
		for _, c := range rep.Checks {
			if c.Result == CheckFail || c.Result == CheckNotRun {
				rep.OK = false
			}
		}
	}()
	seal, err := pades.Verify(ctx, r, size, pades.VerifyOptions{Roots: opt.Roots, Now: opt.Now})
	if err != nil {
		return nil, err
	}
	ev, evErr := readEvidence(r, size)
	if evErr != nil {
		add("evidence_format", CheckFail, esign.ErrorMessage(evErr))
	} else {
		add("evidence_format", CheckPass, fmt.Sprintf("evidence.json, version %d", ev.Version))
		rep.SignatureID, rep.OfferID, rep.CustomerID, rep.UserName, rep.Version = ev.SignatureID, ev.OfferID, ev.CustomerID, ev.UserName, ev.Version
		checkEvidence(ev, opt, add)
		checkDocument(r, size, ev, add)
	}
	checkSeal(seal, add)
	return rep, nil
}

func readEvidence(r io.ReaderAt, size int64) (*Evidence, error) {
	atts, err := pades.EmbeddedFiles(r, size, MaxEvidenceSize)
	if err != nil {
		return nil, err
	}
	for _, a := range atts {
		if a.Name == "evidence.json" {
			return ParseEvidence(a.Data)
		}
	}
	return nil, esign.E("signing.VerifyEvidence", esign.Invalid, "the PDF has no evidence.json attachment")
}

// checkEvidence runs the Phase-4 checks and the consistency check of ev.
func checkEvidence(ev *Evidence, opt EvidenceOptions, add func(name, result, detail string)) {
	var m M2
	dec := json.NewDecoder(bytes.NewReader(ev.M2))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		add("evidence_consistency", CheckFail, "the M2 message in the evidence cannot be read: "+err.Error())
		for _, n := range phase4Names {
			add(displayName(n), CheckNotRun, "")
		}
		return
	}
	checkConsistency(ev, &m, add)
	in := &phase4{publicKeyPEM: ev.PublicKey, userName: ev.UserName, m1Raw: ev.M1Raw, m1Signed: ev.M1SignedData,
		m1Hashes: ev.M1Hashes, ts1: ev.Timestamps["ts1"], allowed: func(string) bool { return true },
		maxSpan: opt.MaxSpan, tsa: tsa.VerifyOptions{Roots: opt.Roots}, skipMissing: ev.Version < 2}
	if in.maxSpan <= 0 {
		in.maxSpan = 10 * time.Minute
	}
	for _, d := range ev.Documents {
		h, _ := hex.DecodeString(d.SHA256) // ParseEvidence checked it
		in.offerHashes = append(in.offerHashes, h)
	}
	var checks []check
	in.run(&m, &checks)
	ran := map[string]bool{}
	for _, c := range checks {
		ran[c.Name] = true
		switch {
		case c.Skipped:
			add(displayName(c.Name), CheckSkipped, c.Reason)
		case c.OK:
			add(displayName(c.Name), CheckPass, "")
		default:
			add(displayName(c.Name), CheckFail, c.Reason)
		}
	}
	for _, n := range phase4Names {
		if !ran[n] && !(n == "algorithm" && ran["algorithm_refused"]) && !(n == "evidence" && ran["public_key"]) {
			add(displayName(n), CheckNotRun, "")
		}
	}
}

// checkConsistency: the evidence's own copies of what the M2 message
// holds agree with it.
func checkConsistency(ev *Evidence, m *M2, add func(name, result, detail string)) {
	var diff []string
	if ev.SignatureID != m.SignatureID {
		diff = append(diff, "signatureId")
	}
	if ev.OfferID != m.OfferID {
		diff = append(diff, "offerId")
	}
	if raw, err := protocol.Decode(ev.M1Raw); err != nil || len(raw) != 5 || raw[4] != protocol.String(ev.OfferID) {
		diff = append(diff, "offerId (M1)")
	}
	if ev.Algorithm != m.Algorithm {
		diff = append(diff, "algorithm")
	}
	if !bytes.Equal(ev.SignedTS3, m.SignedTS3) {
		diff = append(diff, "signedTs3")
	}
	if !bytes.Equal(ev.Timestamps["ts2"], m.TS2) {
		diff = append(diff, "timestamps.ts2")
	}
	if !bytes.Equal(ev.Timestamps["ts3"], m.TS3) {
		diff = append(diff, "timestamps.ts3")
	}
	if ev.CustomerSignatureHash != hex.EncodeToString(m.CustomerSignatureHash) {
		diff = append(diff, "customerSignatureHash")
	}
	if cs, err := protocol.Encode(customerSignature(m.fields(), m.TS2)); err != nil || !bytes.Equal(cs, ev.CustomerSignature) {
		diff = append(diff, "customerSignature")
	}
	if len(diff) > 0 {
		add("evidence_consistency", CheckFail, "differs from the M2 message: "+strings.Join(diff, ", "))
		return
	}
	add("evidence_consistency", CheckPass, "")
}

// checkDocument: the file as it was before one of its incremental updates
// (the offer document before the seal) is one of the documents the
// evidence names.
func checkDocument(r io.ReaderAt, size int64, ev *Evidence, add func(name, result, detail string)) {
	starts, err := pades.UpdateStarts(r, size)
	if err != nil {
		add("document", CheckFail, esign.ErrorMessage(err))
		return
	}
	want := map[string]string{}
	for _, d := range ev.Documents {
		want[d.SHA256] = d.Name
	}
	for _, end := range starts {
		ends := []int64{end}
		if end > 0 {
			b := make([]byte, 1)
			if _, err := r.ReadAt(b, end-1); err == nil && b[0] == '\n' {
				ends = append(ends, end-1) // the line feed the update added
			}
		}
		for _, e := range ends {
			h := sha256.New()
			if _, err := io.Copy(h, io.NewSectionReader(r, 0, e)); err != nil {
				add("document", CheckFail, err.Error())
				return
			}
			if name, ok := want[hex.EncodeToString(h.Sum(nil))]; ok {
				add("document", CheckPass, fmt.Sprintf("%q, the first %d bytes", name, e))
				return
			}
		}
	}
	add("document", CheckFail, "no revision of the PDF before its seal is one of the signed offer documents")
}

// checkSeal reports the bank's seal: every signature valid.
func checkSeal(rep *pades.Report, add func(name, result, detail string)) {
	i := slices.IndexFunc(rep.Signatures, func(s pades.SignatureReport) bool { return s.Type == "signature" })
	switch {
	case i < 0:
		add("seal", CheckFail, "the PDF has no signature")
	case !rep.Valid():
		var probs []string
		for _, s := range rep.Signatures {
			probs = append(probs, s.Problems...)
		}
		add("seal", CheckFail, strings.Join(probs, "; "))
	default:
		s := rep.Signatures[i]
		who := ""
		if s.Signer != nil {
			who = s.Signer.Subject + ", "
		}
		add("seal", CheckPass, fmt.Sprintf("%sPAdES %s", who, s.Level))
	}
}
