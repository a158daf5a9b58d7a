package cms

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Bounds applied while parsing outside input.
const (
	MaxSize         = 32 << 20 // largest ContentInfo accepted, in bytes
	maxCertificates = 64
	maxCRLs         = 64
	maxSignerInfos  = 16
	maxAttributes   = 64
	maxAttrValues   = 16
	maxAlgorithms   = 16
)

var (
	tagExplicit0 = cbasn1.Tag(0).Constructed().ContextSpecific()
	tagExplicit1 = cbasn1.Tag(1).Constructed().ContextSpecific()
	tagImplicit0 = cbasn1.Tag(0).ContextSpecific()
)

// ErrFormat is wrapped by every error Parse returns for malformed input.
var ErrFormat = errors.New("cms: malformed SignedData")

func formatErr(what string) error { return fmt.Errorf("%w: %s", ErrFormat, what) }

// AlgorithmIdentifier is an X.509 AlgorithmIdentifier; Parameters holds the
// DER of the parameters, nil when absent.
type AlgorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters []byte
}

// Attribute is a CMS attribute: a type and the DER of each of its values.
type Attribute struct {
	Type   asn1.ObjectIdentifier
	Values [][]byte
	Raw    []byte // DER of the whole Attribute SEQUENCE
}

// SignerInfo is one signer of a SignedData.
type SignerInfo struct {
	Version int
	// The signer identifier: IssuerRaw and SerialNumber (issuerAndSerialNumber)
	// or SubjectKeyID (subjectKeyIdentifier).
	IssuerRaw          []byte
	SerialNumber       *big.Int
	SubjectKeyID       []byte
	DigestAlgorithm    AlgorithmIdentifier
	SignedAttrs        []Attribute
	RawSignedAttrs     []byte // the signed attributes as a DER SET (tag 0x31): the bytes the signature covers
	SignatureAlgorithm AlgorithmIdentifier
	Signature          []byte // the signature value (input of a PAdES signature time-stamp)
	UnsignedAttrs      []Attribute
	Raw                []byte // DER of the SignerInfo

	rawPrefix []byte // SignerInfo content up to and including the signature
}

// SignedData is a parsed CMS ContentInfo of type signedData.
type SignedData struct {
	Version          int
	DigestAlgorithms []AlgorithmIdentifier
	EncapContentType asn1.ObjectIdentifier
	EncapContent     []byte // nil when detached; the DER TSTInfo for time-stamp tokens
	Certificates     []*x509.Certificate
	RawCRLs          [][]byte // DER of each RevocationInfoChoice
	SignerInfos      []SignerInfo
	Raw              []byte // DER of the ContentInfo

	rawPrefix []byte // SignedData content before signerInfos
}

// Attribute returns the first attribute of type oid among attrs, or nil.
func findAttribute(attrs []Attribute, oid asn1.ObjectIdentifier) *Attribute {
	for i := range attrs {
		if attrs[i].Type.Equal(oid) {
			return &attrs[i]
		}
	}
	return nil
}

// SignedAttribute returns the signed attribute of type oid, or nil.
func (si *SignerInfo) SignedAttribute(oid asn1.ObjectIdentifier) *Attribute {
	return findAttribute(si.SignedAttrs, oid)
}

// UnsignedAttribute returns the first unsigned attribute of type oid, or nil.
func (si *SignerInfo) UnsignedAttribute(oid asn1.ObjectIdentifier) *Attribute {
	return findAttribute(si.UnsignedAttrs, oid)
}

// Parse parses the DER of a ContentInfo holding a SignedData. It accepts DER
// only (no indefinite lengths), bounds sizes and counts, and never panics.
// The returned value does not alias der.
func Parse(der []byte) (*SignedData, error) {
	if len(der) > MaxSize {
		return nil, formatErr("too large")
	}
	der = bytes.Clone(der)
	in := cryptobyte.String(der)
	var ci, content, body cryptobyte.String
	var ct asn1.ObjectIdentifier
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, formatErr("ContentInfo")
	}
	if !ci.ReadASN1ObjectIdentifier(&ct) {
		return nil, formatErr("content type")
	}
	if !ct.Equal(OIDSignedData) {
		return nil, formatErr("content type is not signedData")
	}
	if !ci.ReadASN1(&content, tagExplicit0) || !ci.Empty() {
		return nil, formatErr("ContentInfo content")
	}
	if !content.ReadASN1(&body, cbasn1.SEQUENCE) || !content.Empty() {
		return nil, formatErr("SignedData")
	}
	sd := &SignedData{Raw: der}
	start := body
	if !body.ReadASN1Integer(&sd.Version) || sd.Version < 1 || sd.Version > 5 || sd.Version == 2 {
		return nil, formatErr("version")
	}
	var algs cryptobyte.String
	if !body.ReadASN1(&algs, cbasn1.SET) {
		return nil, formatErr("digestAlgorithms")
	}
	for !algs.Empty() {
		a, err := readAlgorithm(&algs)
		if err != nil {
			return nil, err
		}
		if len(sd.DigestAlgorithms) == maxAlgorithms {
			return nil, formatErr("too many digest algorithms")
		}
		sd.DigestAlgorithms = append(sd.DigestAlgorithms, a)
	}
	var eci cryptobyte.String
	if !body.ReadASN1(&eci, cbasn1.SEQUENCE) || !eci.ReadASN1ObjectIdentifier(&sd.EncapContentType) {
		return nil, formatErr("encapContentInfo")
	}
	if !eci.Empty() {
		var ec, oct cryptobyte.String
		if !eci.ReadASN1(&ec, tagExplicit0) || !eci.Empty() ||
			!ec.ReadASN1(&oct, cbasn1.OCTET_STRING) || !ec.Empty() {
			return nil, formatErr("eContent")
		}
		sd.EncapContent = []byte(oct)
		if sd.EncapContent == nil {
			sd.EncapContent = []byte{}
		}
	}
	if body.PeekASN1Tag(tagExplicit0) {
		var certs cryptobyte.String
		if !body.ReadASN1(&certs, tagExplicit0) {
			return nil, formatErr("certificates")
		}
		for !certs.Empty() {
			var el cryptobyte.String
			var tag cbasn1.Tag
			if !certs.ReadAnyASN1Element(&el, &tag) {
				return nil, formatErr("certificates")
			}
			if tag != cbasn1.SEQUENCE {
				continue // other CertificateChoices (attribute certificates) are ignored
			}
			if len(sd.Certificates) == maxCertificates {
				return nil, formatErr("too many certificates")
			}
			c, err := x509.ParseCertificate(el)
			if err != nil {
				return nil, fmt.Errorf("%w: certificate: %v", ErrFormat, err)
			}
			sd.Certificates = append(sd.Certificates, c)
		}
	}
	if body.PeekASN1Tag(tagExplicit1) {
		var crls cryptobyte.String
		if !body.ReadASN1(&crls, tagExplicit1) {
			return nil, formatErr("crls")
		}
		for !crls.Empty() {
			var el cryptobyte.String
			if !crls.ReadAnyASN1Element(&el, nil) {
				return nil, formatErr("crls")
			}
			if len(sd.RawCRLs) == maxCRLs {
				return nil, formatErr("too many crls")
			}
			sd.RawCRLs = append(sd.RawCRLs, []byte(el))
		}
	}
	sd.rawPrefix = start[:len(start)-len(body)]
	var sis cryptobyte.String
	if !body.ReadASN1(&sis, cbasn1.SET) || !body.Empty() {
		return nil, formatErr("signerInfos")
	}
	for !sis.Empty() {
		if len(sd.SignerInfos) == maxSignerInfos {
			return nil, formatErr("too many signerInfos")
		}
		si, err := readSignerInfo(&sis)
		if err != nil {
			return nil, err
		}
		sd.SignerInfos = append(sd.SignerInfos, si)
	}
	return sd, nil
}

func readAlgorithm(s *cryptobyte.String) (AlgorithmIdentifier, error) {
	var seq cryptobyte.String
	var a AlgorithmIdentifier
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&a.Algorithm) {
		return a, formatErr("AlgorithmIdentifier")
	}
	if !seq.Empty() {
		var p cryptobyte.String
		if !seq.ReadAnyASN1Element(&p, nil) || !seq.Empty() {
			return a, formatErr("AlgorithmIdentifier parameters")
		}
		a.Parameters = []byte(p)
	}
	return a, nil
}

func readSignerInfo(s *cryptobyte.String) (SignerInfo, error) {
	var si SignerInfo
	var raw, body cryptobyte.String
	if !s.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
		return si, formatErr("SignerInfo")
	}
	si.Raw = raw
	if !raw.ReadASN1(&body, cbasn1.SEQUENCE) {
		return si, formatErr("SignerInfo")
	}
	start := body
	if !body.ReadASN1Integer(&si.Version) || (si.Version != 1 && si.Version != 3) {
		return si, formatErr("SignerInfo version")
	}
	switch {
	case body.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias, issuer cryptobyte.String
		si.SerialNumber = new(big.Int)
		if !body.ReadASN1(&ias, cbasn1.SEQUENCE) || !ias.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
			!ias.ReadASN1Integer(si.SerialNumber) || !ias.Empty() {
			return si, formatErr("issuerAndSerialNumber")
		}
		si.IssuerRaw = issuer
	case body.PeekASN1Tag(tagImplicit0):
		var ski cryptobyte.String
		if !body.ReadASN1(&ski, tagImplicit0) {
			return si, formatErr("subjectKeyIdentifier")
		}
		si.SubjectKeyID = ski
	default:
		return si, formatErr("SignerIdentifier")
	}
	var err error
	if si.DigestAlgorithm, err = readAlgorithm(&body); err != nil {
		return si, err
	}
	if body.PeekASN1Tag(tagExplicit0) {
		var el, attrs cryptobyte.String
		if !body.ReadASN1Element(&el, tagExplicit0) {
			return si, formatErr("signedAttrs")
		}
		si.RawSignedAttrs = bytes.Clone(el)
		si.RawSignedAttrs[0] = 0x31 // [0] IMPLICIT SET OF -> SET OF, as signed
		el.ReadASN1(&attrs, tagExplicit0)
		if si.SignedAttrs, err = readAttributes(attrs); err != nil {
			return si, err
		}
		if len(si.SignedAttrs) == 0 {
			return si, formatErr("empty signedAttrs")
		}
	}
	if si.SignatureAlgorithm, err = readAlgorithm(&body); err != nil {
		return si, err
	}
	var sig cryptobyte.String
	if !body.ReadASN1(&sig, cbasn1.OCTET_STRING) {
		return si, formatErr("signature")
	}
	si.Signature = sig
	si.rawPrefix = start[:len(start)-len(body)]
	if body.PeekASN1Tag(tagExplicit1) {
		var attrs cryptobyte.String
		if !body.ReadASN1(&attrs, tagExplicit1) {
			return si, formatErr("unsignedAttrs")
		}
		if si.UnsignedAttrs, err = readAttributes(attrs); err != nil {
			return si, err
		}
	}
	if !body.Empty() {
		return si, formatErr("trailing data in SignerInfo")
	}
	return si, nil
}

func readAttributes(s cryptobyte.String) ([]Attribute, error) {
	var out []Attribute
	for !s.Empty() {
		if len(out) == maxAttributes {
			return nil, formatErr("too many attributes")
		}
		var raw, body, vals cryptobyte.String
		var a Attribute
		if !s.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
			return nil, formatErr("Attribute")
		}
		a.Raw = raw
		if !raw.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1ObjectIdentifier(&a.Type) ||
			!body.ReadASN1(&vals, cbasn1.SET) || !body.Empty() {
			return nil, formatErr("Attribute")
		}
		for !vals.Empty() {
			var v cryptobyte.String
			if !vals.ReadAnyASN1Element(&v, nil) {
				return nil, formatErr("attribute value")
			}
			if len(a.Values) == maxAttrValues {
				return nil, formatErr("too many attribute values")
			}
			a.Values = append(a.Values, []byte(v))
		}
		if len(a.Values) == 0 {
			return nil, formatErr("attribute without values")
		}
		out = append(out, a)
	}
	return out, nil
}
