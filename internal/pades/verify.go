package pades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"

	"esign/internal/cms"
	"esign/internal/esign"
	"esign/internal/pdf"
	"esign/internal/tsa"
)

// Attack classes flagged by the verifier.
const (
	AttackIncrementalSaving = "incremental_saving"          // content changed by a later update
	AttackSignatureWrapping = "signature_wrapping"          // the ByteRange does not cover exactly the file minus this /Contents
	AttackUSF               = "universal_signature_forgery" // empty, missing or malformed signature values
	AttackShadow            = "shadow_attack"               // objects replaced, hidden or revealed by a later update
)

// LevelLegacyCMS is the level reported for a valid CMS signature that is
// not PAdES baseline: one without the ESS signing-certificate(-v2)
// attribute, as PKCS #7 signers (adbe.pkcs7.detached) write.
const LevelLegacyCMS = "not PAdES baseline (legacy CMS)"

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// Roots are the trust anchors for signer and TSA certificates; nil
	// means the system roots.
	Roots *x509.CertPool
	// Now is the validation time used when a signature has no valid
	// time-stamp; default time.Now.
	Now func() time.Time
	// Online lets the verifier ask the OCSP responders and CRL
	// distribution points named in the certificates for the revocation
	// status the DSS does not hold; HTTPClient is used for that (default
	// one with a 10 s timeout).
	Online     bool
	HTTPClient *http.Client
}

// Report is the result of verifying a PDF.
type Report struct {
	Size       int64             `json:"size"`
	Revisions  int               `json:"revisions"`
	Signed     bool              `json:"signed"`
	Encryption *EncryptionReport `json:"encryption,omitempty"`
	DSS        *DSSReport        `json:"dss"` // nil when the document has no DSS
	Signatures []SignatureReport `json:"signatures"`
	// Warnings are facts about the file that do not make a signature
	// invalid (bytes outside the PDF, see docs/pades.md).
	Warnings []string `json:"warnings"`
}

// DSSReport counts the readable entries of the Document Security Store.
type DSSReport struct {
	Certs int `json:"certs"`
	OCSPs int `json:"ocsps"`
	CRLs  int `json:"crls"`
}

// Check is the outcome of one verification step.
type Check struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// CertInfo describes a certificate.
type CertInfo struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
}

// TimestampReport describes a time-stamp token.
type TimestampReport struct {
	Time  time.Time `json:"time"`
	TSA   string    `json:"tsa,omitempty"`
	Check Check     `json:"check"`
}

// Change is an object changed or added after a signature.
type Change struct {
	Object  int    `json:"object"`
	Kind    string `json:"kind"` // e.g. "dss", "signature_field", "page_modified"
	Allowed bool   `json:"allowed"`
}

// SignatureReport is the verification result of one signature or
// document time-stamp.
type SignatureReport struct {
	Field           string           `json:"field"`
	Type            string           `json:"type"` // "signature" or "document_timestamp"
	SubFilter       string           `json:"sub_filter"`
	ByteRange       []int64          `json:"byte_range"`
	RevisionEnd     int64            `json:"revision_end"`
	CoversWholeFile bool             `json:"covers_whole_file"`
	SigningTime     string           `json:"signing_time,omitempty"` // /M as written
	Signer          *CertInfo        `json:"signer,omitempty"`
	Integrity       Check            `json:"integrity"` // ByteRange sanity, digest and signature
	Chain           Check            `json:"chain"`     // signer certificate chains to a trust anchor
	Timestamp       *TimestampReport `json:"timestamp"` // signature time-stamp (or the document time-stamp itself)
	DSS             bool             `json:"dss"`       // the DSS holds the chain and revocation data
	Level           string           `json:"level"`     // PAdES baseline level reached, "" if none
	Changes         []Change         `json:"changes"`   // objects changed or added by later revisions
	Modified        bool             `json:"modified"`  // a later change is not allowed
	Attacks         []string         `json:"attacks"`   // attack classes detected
	Valid           bool             `json:"valid"`
	Problems        []string         `json:"problems"` // human-readable reasons for invalidity
	Warnings        []string         `json:"warnings"` // what a valid signature lacks (e.g. legacy CMS)

	// Details for validation reports (internal/validation, docs/validation-report.md).
	SignedTime      *time.Time     `json:"signed_time,omitempty"`      // the CMS signing-time attribute
	TimeSource      string         `json:"time_source,omitempty"`      // Time* constant: what BestTime comes from
	BestTime        *time.Time     `json:"best_time,omitempty"`        // the time-stamp's time the chain was validated at (nil: at VerifyOptions.Now)
	IntegrityReason string         `json:"integrity_reason,omitempty"` // Integrity* constant when integrity failed
	ChainReason     string         `json:"chain_reason,omitempty"`     // Chain* constant when the chain failed
	ChainElements   []ChainElement `json:"chain_elements,omitempty"`   // the signer's chain, signer first
	Revoked         bool           `json:"revoked,omitempty"`          // a chain certificate was revoked before BestTime
	RevokedCA       bool           `json:"revoked_ca,omitempty"`       // … and it was a CA's
}

// Valid reports whether the document is signed and every signature and
// document time-stamp in it is valid.
func (r *Report) Valid() bool {
	if !r.Signed {
		return false
	}
	for _, s := range r.Signatures {
		if !s.Valid {
			return false
		}
	}
	return true
}

// VerifyFile verifies the PDF at path.
func VerifyFile(ctx context.Context, path string, opt VerifyOptions) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, esign.E("pades.VerifyFile", esign.NotFound, "cannot open the PDF", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, esign.E("pades.VerifyFile", err)
	}
	return Verify(ctx, f, st.Size(), opt)
}

// sigRef is a signature dictionary found through the AcroForm.
type sigRef struct {
	field string
	ref   pdf.Ref
	dict  pdf.Dict
}

// Verify verifies every signature and document time-stamp of the PDF in r
// (size bytes). It returns an error only when the file cannot be read as a
// PDF; an unsigned file gives a Report with Signed false.
func Verify(ctx context.Context, r io.ReaderAt, size int64, opt VerifyOptions) (*Report, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	doc, err := pdf.Open(r, size)
	if err != nil {
		return nil, err
	}
	rep := &Report{Size: size, Revisions: len(doc.Sections), Signatures: []SignatureReport{}, Warnings: framingWarnings(doc)}
	sigs, err := findSignatures(doc)
	if err != nil {
		return nil, pdf.Unreadable("pades.Verify", err)
	}
	rep.Signed = len(sigs) > 0
	rep.Encryption = encryptionReport(doc)
	v := &verifier{ctx: ctx, r: r, size: size, doc: doc, opt: opt}
	if v.readDSS() {
		rep.DSS = &DSSReport{Certs: len(v.dssCerts), OCSPs: len(v.dssOCSPs), CRLs: len(v.dssCRLs)}
	}
	for _, s := range sigs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rep.Signatures = append(rep.Signatures, v.verifyOne(s))
	}
	v.levels(rep)
	return rep, nil
}

func findSignatures(doc *pdf.Document) ([]sigRef, error) {
	cat, _, err := doc.Catalog()
	if err != nil {
		return nil, err
	}
	acro, err := doc.ResolveDict(cat["AcroForm"])
	if err != nil || acro == nil {
		return nil, err
	}
	fields, err := resolveArray(doc, acro["Fields"])
	if err != nil {
		return nil, err
	}
	var out []sigRef
	seen := map[int]bool{}
	var walk func(f pdf.Object, name string, ft pdf.Object, depth int) error
	walk = func(f pdf.Object, parent string, ft pdf.Object, depth int) error {
		if depth > pdf.MaxDepth {
			return nil
		}
		if r, ok := f.(pdf.Ref); ok {
			if seen[r.Num] {
				return nil
			}
			seen[r.Num] = true
		}
		d, err := doc.ResolveDict(f)
		if err != nil || d == nil {
			return err
		}
		name := parent
		if t, ok := pdf.AsString(d["T"]); ok {
			if name != "" {
				name += "."
			}
			name += decodeText(t)
		}
		if v, ok := d["FT"]; ok {
			ft = v
		}
		if kids, ok := d["Kids"]; ok {
			ka, err := resolveArray(doc, kids)
			if err != nil {
				return err
			}
			for _, k := range ka {
				if err := walk(k, name, ft, depth+1); err != nil {
					return err
				}
			}
		}
		if ft != pdf.Name("Sig") {
			return nil
		}
		vr, ok := d["V"].(pdf.Ref)
		if !ok {
			if vd, isDict := d["V"].(pdf.Dict); isDict {
				out = append(out, sigRef{field: name, ref: pdf.Ref{Num: -1}, dict: vd})
			}
			return nil
		}
		vd, err := doc.ResolveDict(vr)
		if err != nil || vd == nil {
			return err
		}
		out = append(out, sigRef{field: name, ref: vr, dict: vd})
		return nil
	}
	for _, f := range fields {
		if err := walk(f, "", nil, 0); err != nil {
			return nil, err
		}
	}
	// document order: by revision end
	slices.SortStableFunc(out, func(a, b sigRef) int {
		ea, eb := byteRangeEnd(a.dict), byteRangeEnd(b.dict)
		switch {
		case ea < eb:
			return -1
		case ea > eb:
			return 1
		}
		return 0
	})
	return out, nil
}

func byteRangeEnd(d pdf.Dict) int64 {
	br, _ := pdf.AsArray(d["ByteRange"])
	if len(br) != 4 {
		return 0
	}
	a, _ := pdf.AsInt(br[2])
	b, _ := pdf.AsInt(br[3])
	return a + b
}

type verifier struct {
	ctx      context.Context
	r        io.ReaderAt
	size     int64
	doc      *pdf.Document
	opt      VerifyOptions
	dssCerts []*x509.Certificate
	dssOCSPs [][]byte // DER OCSP responses in the DSS
	dssCRLs  [][]byte // DER CRLs in the DSS
}

func (s *SignatureReport) fail(attack, format string, args ...any) {
	s.Problems = append(s.Problems, fmt.Sprintf(format, args...))
	if attack != "" && !slices.Contains(s.Attacks, attack) {
		s.Attacks = append(s.Attacks, attack)
	}
}

func (v *verifier) verifyOne(s sigRef) (rep SignatureReport) {
	rep = SignatureReport{Field: s.field, Type: "signature", Changes: []Change{}, Attacks: []string{}, Problems: []string{}, Warnings: []string{}}
	if s.dict["Type"] == pdf.Name("DocTimeStamp") {
		rep.Type = "document_timestamp"
	}
	sf, _ := pdf.AsName(s.dict["SubFilter"])
	rep.SubFilter = string(sf)
	if sf == "ETSI.RFC3161" {
		rep.Type = "document_timestamp"
	}
	if m, ok := pdf.AsString(s.dict["M"]); ok {
		rep.SigningTime = string(m)
	}
	defer func() { rep.Valid = len(rep.Problems) == 0 }()

	// Universal signature forgery: values missing, empty or malformed.
	contents, ok := pdf.AsString(s.dict["Contents"])
	if !ok || len(bytes.Trim(contents, "\x00")) == 0 {
		rep.fail(AttackUSF, "the signature has no /Contents or it is empty")
		return rep
	}
	bra, ok := pdf.AsArray(s.dict["ByteRange"])
	if !ok || len(bra) != 4 {
		rep.fail(AttackUSF, "the signature has no valid /ByteRange")
		return rep
	}
	var br [4]int64
	for i := range br {
		n, ok := pdf.AsInt(bra[i])
		if !ok || n < 0 || n > v.size {
			rep.fail(AttackUSF, "the /ByteRange holds a value that is not an offset in the file")
			return rep
		}
		br[i] = n
	}
	rep.ByteRange = br[:]
	end := br[2] + br[3]
	rep.RevisionEnd = end
	rep.CoversWholeFile = br[0] == 0 && end == v.size
	if !v.checkByteRange(&rep, s, br, contents) {
		return rep
	}
	digest, err := v.rangeDigest(br)
	if err != nil {
		rep.fail("", "cannot read the signed byte ranges: %v", err)
		return rep
	}
	der := trimDER(contents)
	if rep.Type == "document_timestamp" {
		v.verifyDocTimestamp(&rep, der, digest)
	} else {
		v.verifyCMS(&rep, sf, der, digest)
	}
	v.changesAfter(&rep, s, end)
	return rep
}

// checkByteRange detects signature wrapping: the ByteRange must start at
// 0, end at a revision of this document, and exclude exactly the /Contents
// hex string of this signature dictionary.
func (v *verifier) checkByteRange(rep *SignatureReport, s sigRef, br [4]int64, contents []byte) bool {
	if br[0] != 0 {
		rep.fail(AttackSignatureWrapping, "the ByteRange does not start at the beginning of the file")
		return false
	}
	if br[1] <= 0 || br[2] <= br[1] || br[2]+br[3] > v.size {
		rep.fail(AttackSignatureWrapping, "the ByteRange has overlapping, empty or out-of-file ranges")
		return false
	}
	gapLen := br[2] - br[1]
	if gapLen > 2*int64(MaxContentsSize)+2 {
		rep.fail(AttackSignatureWrapping, "the ByteRange leaves an unsigned gap of %d bytes", gapLen)
		return false
	}
	gap := make([]byte, gapLen)
	if _, err := v.r.ReadAt(gap, br[1]); err != nil {
		rep.fail("", "cannot read the file: %v", err)
		return false
	}
	if gap[0] != '<' || gap[len(gap)-1] != '>' {
		rep.fail(AttackSignatureWrapping, "the unsigned gap of the ByteRange is not a hex string")
		return false
	}
	raw := gap[1 : len(gap)-1]
	dec := make([]byte, hex.DecodedLen(len(raw)))
	if len(raw)%2 != 0 {
		rep.fail(AttackSignatureWrapping, "the unsigned gap of the ByteRange is not a hex string")
		return false
	}
	if _, err := hex.Decode(dec, raw); err != nil {
		rep.fail(AttackSignatureWrapping, "the unsigned gap of the ByteRange is not a hex string")
		return false
	}
	if !bytes.Equal(dec, contents) {
		rep.fail(AttackSignatureWrapping, "the unsigned gap of the ByteRange is not this signature's /Contents")
		return false
	}
	// The signed revision must be a revision of this document, and the gap
	// must lie inside this signature's own dictionary there.
	end := br[2] + br[3]
	signed, err := pdf.Open(io.NewSectionReader(v.r, 0, end), end)
	if err == nil {
		// the signed bytes end with the revision (white space aside)
		if tail, terr := signed.ReadTrailing(maxInspected); terr != nil || signed.Framing().After > maxInspected || !onlyPadding(tail) {
			err = errors.New("data after the revision's %%EOF")
		}
	}
	if err != nil {
		rep.fail(AttackSignatureWrapping, "the signed bytes are not a complete PDF revision")
		return false
	}
	inHistory := false
	for _, sec := range v.doc.Sections {
		if sec.Offset == signed.StartXRef {
			inHistory = true
		}
	}
	if !inHistory {
		rep.fail(AttackSignatureWrapping, "the signed revision is not part of this document's history")
		return false
	}
	if s.ref.Num < 0 {
		rep.fail(AttackSignatureWrapping, "the signature dictionary is not an indirect object")
		return false
	}
	start, objEnd, ok, err := signed.ObjectSpan(s.ref.Num)
	if err != nil || !ok || start >= br[1] || objEnd <= br[2] {
		rep.fail(AttackSignatureWrapping, "the /Contents excluded by the ByteRange is not inside this signature's dictionary")
		return false
	}
	if off, ok := v.doc.ObjectOffset(s.ref.Num); !ok || off != start {
		rep.fail(AttackShadow, "the signature dictionary was replaced by a later update")
		return false
	}
	obj := make([]byte, objEnd-start)
	if _, err := v.r.ReadAt(obj, start); err != nil {
		rep.fail("", "cannot read the file: %v", err)
		return false
	}
	g0, g1 := br[1]-start, br[2]-start
	outside := append(append([]byte(nil), obj[:g0]...), obj[g1:]...)
	if n := bytes.Count(outside, []byte("/Contents")); n != 1 {
		rep.fail(AttackSignatureWrapping, "the signature dictionary has %d /Contents entries", n)
		return false
	}
	if !bytes.HasSuffix(bytes.TrimRight(obj[:g0], " \t\r\n\f\x00"), []byte("/Contents")) {
		rep.fail(AttackSignatureWrapping, "the ByteRange gap is not the value of /Contents")
		return false
	}
	return true
}

// MaxContentsSize bounds the signature value read from /Contents.
const MaxContentsSize = 1 << 20

func (v *verifier) rangeDigest(br [4]int64) ([]byte, error) {
	h := sha256.New()
	for _, r := range [][2]int64{{br[0], br[1]}, {br[2], br[3]}} {
		if err := copyHash(v.ctx, nil, h, v.r, r[0], r[1]); err != nil {
			return nil, err
		}
	}
	return h.Sum(nil), nil
}

func certInfo(c *x509.Certificate) *CertInfo {
	return &CertInfo{Subject: c.Subject.String(), Issuer: c.Issuer.String(), Serial: c.SerialNumber.Text(16),
		NotBefore: c.NotBefore, NotAfter: c.NotAfter}
}

func (v *verifier) verifyCMS(rep *SignatureReport, sf pdf.Name, der, digest []byte) {
	switch sf {
	case "ETSI.CAdES.detached", "adbe.pkcs7.detached":
	default:
		rep.IntegrityReason = IntegrityFormat
		rep.fail(AttackUSF, "unsupported /SubFilter %q", sf)
		return
	}
	sd, err := cms.Parse(der)
	if err != nil {
		// other signers write BER with indefinite lengths
		if d, berr := berToDER(der); berr == nil {
			sd, err = cms.Parse(d)
		}
	}
	if err != nil || len(sd.SignerInfos) != 1 {
		rep.IntegrityReason = IntegrityFormat
		rep.fail(AttackUSF, "the /Contents is not a CMS SignedData with one signer")
		return
	}
	si := &sd.SignerInfos[0]
	h, ok := cms.HashFromOID(si.DigestAlgorithm.Algorithm)
	if !ok {
		if si.DigestAlgorithm.Algorithm.Equal(oidSHA1) {
			// older signers' choice: not a forgery, but no longer evidence
			rep.IntegrityReason = IntegrityAlgorithm
			rep.fail("", "the signature uses the SHA-1 digest, which is not accepted (collisions can be made)")
			return
		}
		rep.IntegrityReason = IntegrityFormat
		rep.fail(AttackUSF, "unsupported digest algorithm")
		return
	}
	if h != crypto.SHA256 {
		// the ranges were hashed with SHA-256; hash again with the signer's choice
		hh := h.New()
		for _, r := range [][2]int64{{rep.ByteRange[0], rep.ByteRange[1]}, {rep.ByteRange[2], rep.ByteRange[3]}} {
			io.Copy(hh, io.NewSectionReader(v.r, r[0], r[1]))
		}
		digest = hh.Sum(nil)
	}
	cert, err := sd.Verify(digest, cms.VerifyOptions{Certificates: v.dssCerts, Legacy: true})
	if err != nil {
		rep.Integrity = Check{Error: err.Error()}
		rep.IntegrityReason = integrityReason(err)
		rep.fail(AttackUSF, "the signature does not match the signed bytes: %v", err)
		return
	}
	rep.Integrity = Check{OK: true}
	rep.Signer = certInfo(cert)
	legacy := legacyWarning(si, sf)
	if legacy != "" {
		rep.Warnings = append(rep.Warnings, legacy)
	}

	at := v.opt.Now()
	defer func() {
		if rep.TimeSource == TimeSignatureTimestamp {
			rep.BestTime = &at
		}
	}()
	rep.TimeSource = TimeValidation
	if t, ok := si.SigningTime(); ok {
		rep.SignedTime = &t
	}
	if a := si.UnsignedAttribute(cms.OIDSignatureTimeStampToken); a != nil && len(a.Values) > 0 {
		sum := sha256.Sum256(si.Signature)
		tr := &TimestampReport{}
		tok, err := tsa.VerifyToken(a.Values[0], sum[:], crypto.SHA256, tsa.VerifyOptions{Roots: v.opt.Roots, Intermediates: v.pool()})
		if err != nil {
			tr.Check = Check{Error: err.Error()}
			rep.fail("", "the signature time-stamp is not valid: %v", err)
		} else {
			tr.Check = Check{OK: true}
			tr.Time = tok.Info.GenTime
			if tok.Signer != nil {
				tr.TSA = tok.Signer.Subject.String()
			}
			at = tok.Info.GenTime
			rep.TimeSource = TimeSignatureTimestamp
		}
		rep.Timestamp = tr
	}
	v.checkChain(rep, cert, sd.Certificates, at)
	if legacy != "" {
		rep.Level = LevelLegacyCMS
	} else if sf == "ETSI.CAdES.detached" {
		rep.Level = string(LevelBB)
		if rep.Timestamp != nil && rep.Timestamp.Check.OK {
			rep.Level = string(LevelBT)
		}
		if rep.Level == string(LevelBT) && v.dssCovers(cert, sd.Certificates) {
			rep.DSS = true
			rep.Level = string(LevelBLT)
		}
	}
}

func (v *verifier) pool() *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range v.dssCerts {
		p.AddCert(c)
	}
	return p
}

// dssCovers reports whether the DSS holds every certificate of the
// signer's chain except the trust anchor, and for each of them a good OCSP
// response or a CRL of its issuer that does not list it.
func (v *verifier) dssCovers(cert *x509.Certificate, embedded []*x509.Certificate) bool {
	have := func(c *x509.Certificate) bool {
		for _, d := range v.dssCerts {
			if d.Equal(c) {
				return true
			}
		}
		return false
	}
	pool := append(append([]*x509.Certificate(nil), v.dssCerts...), embedded...)
	for c, n := cert, 0; !isSelfSigned(c); n++ {
		issuer := findIssuer(c, pool)
		if n > 8 || issuer == nil || !have(c) || !v.notRevoked(c, issuer) {
			return false
		}
		c = issuer
	}
	return true
}

// notRevoked looks for revocation data about c in the DSS.
func (v *verifier) notRevoked(c, issuer *x509.Certificate) bool {
	for _, der := range v.dssOCSPs {
		if r, err := ParseOCSPFor(der, c, issuer); err == nil && r.Status == ocsp.Good {
			return true
		}
	}
	for _, der := range v.dssCRLs {
		crl, err := x509.ParseRevocationList(der)
		if err != nil || crl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		revoked := false
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(c.SerialNumber) == 0 {
				revoked = true
			}
		}
		if !revoked {
			return true
		}
	}
	return false
}

func (v *verifier) verifyDocTimestamp(rep *SignatureReport, der, digest []byte) {
	tr := &TimestampReport{}
	tok, err := tsa.VerifyToken(der, digest, crypto.SHA256, tsa.VerifyOptions{Roots: v.opt.Roots, Intermediates: v.pool()})
	if err != nil {
		rep.IntegrityReason = IntegrityFormat
		if errors.Is(err, tsa.ErrVerify) {
			rep.Integrity = Check{Error: err.Error()}
			rep.IntegrityReason = IntegritySignature
			if strings.Contains(err.Error(), "imprint does not match") {
				rep.IntegrityReason = IntegrityHash
			}
		}
		tr.Check = Check{Error: err.Error()}
		rep.Timestamp = tr
		if strings.Contains(err.Error(), "TSA certificate chain") {
			// intact, but its TSA is not trusted: not a forgery
			rep.Integrity, rep.IntegrityReason = Check{OK: true}, ""
			rep.Chain, rep.ChainReason = Check{Error: err.Error()}, tsaChainReason(err.Error())
			rep.fail("", "the document time-stamp is not valid: %v", err)
			return
		}
		rep.fail(AttackUSF, "the document time-stamp is not valid: %v", err)
		return
	}
	rep.Integrity = Check{OK: true}
	rep.Chain = Check{OK: true}
	tr.Check = Check{OK: true}
	tr.Time = tok.Info.GenTime
	if tok.Signer != nil {
		tr.TSA = tok.Signer.Subject.String()
		rep.Signer = certInfo(tok.Signer)
	}
	gt := tok.Info.GenTime
	rep.BestTime, rep.TimeSource = &gt, TimeDocumentTimestamp
	rep.Timestamp = tr
}

// readDSS loads the certificates and revocation data of the document's
// DSS and reports whether there is one.
func (v *verifier) readDSS() bool {
	cat, _, err := v.doc.Catalog()
	if err != nil {
		return false
	}
	dss, err := v.doc.ResolveDict(cat["DSS"])
	if err != nil || dss == nil {
		return false
	}
	arr, _ := resolveArray(v.doc, dss["Certs"])
	for _, o := range arr {
		if b := v.streamBytes(o); b != nil {
			if c, err := x509.ParseCertificate(b); err == nil {
				v.dssCerts = append(v.dssCerts, c)
			}
		}
	}
	for _, k := range []pdf.Name{"OCSPs", "CRLs"} {
		a, _ := resolveArray(v.doc, dss[k])
		for _, o := range a {
			if b := v.streamBytes(o); b != nil {
				if k == "OCSPs" {
					v.dssOCSPs = append(v.dssOCSPs, b)
				} else {
					v.dssCRLs = append(v.dssCRLs, b)
				}
			}
		}
	}
	return true
}

func (v *verifier) streamBytes(o pdf.Object) []byte {
	so, err := v.doc.Resolve(o)
	if err != nil {
		return nil
	}
	s, ok := so.(*pdf.Stream)
	if !ok {
		return nil
	}
	b, err := v.doc.StreamData(s, 1<<20)
	if err != nil {
		return nil
	}
	return b
}

// levels raises B-LT signatures to B-LTA when a valid document time-stamp
// covers a later revision.
func (v *verifier) levels(rep *Report) {
	for i := range rep.Signatures {
		s := &rep.Signatures[i]
		if s.Level != string(LevelBLT) {
			continue
		}
		for _, t := range rep.Signatures {
			if t.Type == "document_timestamp" && t.Valid && t.RevisionEnd > s.RevisionEnd {
				s.Level = string(LevelBLTA)
			}
		}
	}
}

// trimDER cuts the zero padding after a DER SEQUENCE in /Contents.
func trimDER(b []byte) []byte {
	if len(b) < 2 || b[0] != 0x30 {
		return b
	}
	n, hdr := int64(b[1]), 2
	if b[1]&0x80 != 0 {
		k := int(b[1] & 0x7f)
		if k == 0 || k > 4 || len(b) < 2+k {
			return b
		}
		n = 0
		for i := 0; i < k; i++ {
			n = n<<8 | int64(b[2+i])
		}
		hdr = 2 + k
	}
	if int64(hdr)+n <= int64(len(b)) {
		return b[:int64(hdr)+n]
	}
	return b
}
