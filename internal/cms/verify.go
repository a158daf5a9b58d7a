package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// VerifyOptions tunes SignedData.Verify.
type VerifyOptions struct {
	// Roots, when set, turns on chain building: the signer certificate must
	// chain to Roots (through Intermediates and the embedded certificates)
	// at CurrentTime (default: now) for KeyUsages (default: any).
	Roots         *x509.CertPool
	Intermediates *x509.CertPool
	CurrentTime   time.Time
	KeyUsages     []x509.ExtKeyUsage
	// Certificates are candidate signer certificates besides the embedded
	// ones (a time-stamp token requested without certReq embeds none).
	Certificates []*x509.Certificate
	// Legacy accepts PKCS #7-era SignerInfos: without the ESS
	// signing-certificate(-v2) attribute, or without signed attributes at
	// all (the signature is then over the content digest itself). The
	// signer certificate is then bound only by the SignerIdentifier and
	// the key: the one certificate it names whose key verifies the
	// signature; if two different certificates do, Verify fails. When the
	// attribute is present it is checked as without Legacy.
	Legacy bool
}

// ErrVerify is wrapped by every verification failure.
var ErrVerify = errors.New("cms: verification failed")

func verifyErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrVerify, fmt.Sprintf(format, args...))
}

// Verify verifies every SignerInfo and returns the certificate of the first.
// digest is the message digest of the detached content (computed with the
// signer's digest algorithm); it may be nil when the content is encapsulated,
// in which case it is computed from EncapContent.
func (sd *SignedData) Verify(digest []byte, opt VerifyOptions) (*x509.Certificate, error) {
	if len(sd.SignerInfos) == 0 {
		return nil, verifyErr("no signerInfos")
	}
	var first *x509.Certificate
	for i := range sd.SignerInfos {
		c, err := sd.VerifySigner(i, digest, opt)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			first = c
		}
	}
	return first, nil
}

// VerifySigner verifies SignerInfos[i]; see Verify.
func (sd *SignedData) VerifySigner(i int, digest []byte, opt VerifyOptions) (*x509.Certificate, error) {
	if i < 0 || i >= len(sd.SignerInfos) {
		return nil, verifyErr("no signerInfo %d", i)
	}
	si := &sd.SignerInfos[i]
	h, ok := HashFromOID(si.DigestAlgorithm.Algorithm)
	if !ok {
		return nil, verifyErr("unsupported digest algorithm %v", si.DigestAlgorithm.Algorithm)
	}
	if !slices.ContainsFunc(sd.DigestAlgorithms, func(a AlgorithmIdentifier) bool { return a.Algorithm.Equal(si.DigestAlgorithm.Algorithm) }) {
		return nil, verifyErr("digest algorithm %v not listed in digestAlgorithms", si.DigestAlgorithm.Algorithm)
	}
	if sd.EncapContent != nil {
		hh := h.New()
		hh.Write(sd.EncapContent)
		sum := hh.Sum(nil)
		if digest != nil && !bytes.Equal(digest, sum) {
			return nil, verifyErr("digest does not match the encapsulated content")
		}
		digest = sum
	}
	if digest == nil {
		return nil, verifyErr("detached signature: the message digest is required")
	}
	if len(digest) != h.Size() {
		return nil, verifyErr("digest is %d bytes, %v needs %d", len(digest), h, h.Size())
	}
	signed := digest // what the signature is over
	if si.RawSignedAttrs == nil {
		if !opt.Legacy {
			return nil, verifyErr("signed attributes are required")
		}
	} else {
		if err := checkSignedAttrs(si, sd.EncapContentType, digest); err != nil {
			return nil, err
		}
		hh := h.New()
		hh.Write(si.RawSignedAttrs)
		signed = hh.Sum(nil)
	}
	cert, err := sd.signerCert(si, h, signed, opt)
	if err != nil {
		return nil, err
	}
	if opt.Roots != nil {
		inter := x509.NewCertPool()
		if opt.Intermediates != nil {
			inter = opt.Intermediates.Clone()
		}
		for _, c := range sd.Certificates {
			inter.AddCert(c)
		}
		ku := opt.KeyUsages
		if len(ku) == 0 {
			ku = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: opt.Roots, Intermediates: inter, CurrentTime: opt.CurrentTime, KeyUsages: ku}); err != nil {
			return nil, fmt.Errorf("%w: certificate chain: %w", ErrVerify, err)
		}
	}
	return cert, nil
}

// signerCert returns the certificate that signed si: among the distinct
// certificates its SignerIdentifier names, the one whose key verifies the
// signature over signed and, when si has the ESS signing-certificate
// attribute, that the attribute names. Without the attribute (Legacy) two
// such certificates make the signer ambiguous: an error.
func (sd *SignedData) signerCert(si *SignerInfo, h crypto.Hash, signed []byte, opt VerifyOptions) (*x509.Certificate, error) {
	var cands []*x509.Certificate
	for _, c := range slices.Concat(sd.Certificates, opt.Certificates) {
		if si.matches(c) && !slices.ContainsFunc(cands, c.Equal) {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return nil, verifyErr("signer certificate not found")
	}
	var verified []*x509.Certificate
	var sigErr error
	for _, c := range cands {
		if len(c.UnhandledCriticalExtensions) > 0 {
			sigErr = verifyErr("signer certificate has an unknown critical extension %v", c.UnhandledCriticalExtensions[0])
			continue
		}
		if err := checkSignature(c.PublicKey, h, si.SignatureAlgorithm, signed, si.Signature); err != nil {
			if sigErr == nil {
				sigErr = err
			}
			continue
		}
		verified = append(verified, c)
	}
	if len(verified) == 0 {
		return nil, sigErr
	}
	if si.SignedAttribute(OIDAttrSigningCertificateV2) != nil || si.SignedAttribute(OIDAttrSigningCertificate) != nil || !opt.Legacy {
		var essErr error
		for _, c := range verified {
			if essErr = checkESS(si, c); essErr == nil {
				return c, nil
			}
		}
		return nil, essErr
	}
	if len(verified) > 1 {
		return nil, verifyErr("%d different certificates match the signer identifier and verify the signature: the signer is ambiguous", len(verified))
	}
	return verified[0], nil
}

// matches reports whether c is the certificate si's SignerIdentifier names.
func (si *SignerInfo) matches(c *x509.Certificate) bool {
	if si.SubjectKeyID != nil {
		return len(c.SubjectKeyId) > 0 && bytes.Equal(c.SubjectKeyId, si.SubjectKeyID)
	}
	return bytes.Equal(c.RawIssuer, si.IssuerRaw) && c.SerialNumber.Cmp(si.SerialNumber) == 0
}

// checkSignedAttrs enforces RFC 5652 §5.3: contentType and messageDigest are
// present exactly once with one value, and no attribute type repeats.
func checkSignedAttrs(si *SignerInfo, ct asn1.ObjectIdentifier, digest []byte) error {
	for i, a := range si.SignedAttrs {
		for _, b := range si.SignedAttrs[:i] {
			if a.Type.Equal(b.Type) {
				return verifyErr("signed attribute %v repeated", a.Type)
			}
		}
	}
	a := si.SignedAttribute(OIDAttrContentType)
	if a == nil || len(a.Values) != 1 {
		return verifyErr("contentType attribute missing")
	}
	var got asn1.ObjectIdentifier
	v := cryptobyte.String(a.Values[0])
	if !v.ReadASN1ObjectIdentifier(&got) || !v.Empty() || !got.Equal(ct) {
		return verifyErr("contentType attribute does not match eContentType")
	}
	a = si.SignedAttribute(OIDAttrMessageDigest)
	if a == nil || len(a.Values) != 1 {
		return verifyErr("messageDigest attribute missing")
	}
	var md cryptobyte.String
	v = cryptobyte.String(a.Values[0])
	if !v.ReadASN1(&md, cbasn1.OCTET_STRING) || !v.Empty() {
		return verifyErr("messageDigest attribute malformed")
	}
	if subtle.ConstantTimeCompare(md, digest) != 1 {
		return verifyErr("message digest mismatch")
	}
	if a = si.SignedAttribute(OIDAttrSigningTime); a != nil {
		if len(a.Values) != 1 {
			return verifyErr("signingTime attribute malformed")
		}
		if _, err := parseTime(a.Values[0]); err != nil {
			return verifyErr("signingTime attribute: %v", err)
		}
	}
	return nil
}

// SigningTime returns the signingTime signed attribute, if present.
func (si *SignerInfo) SigningTime() (time.Time, bool) {
	a := si.SignedAttribute(OIDAttrSigningTime)
	if a == nil || len(a.Values) != 1 {
		return time.Time{}, false
	}
	t, err := parseTime(a.Values[0])
	return t, err == nil
}

func parseTime(der []byte) (time.Time, error) {
	var t time.Time
	s := cryptobyte.String(der)
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		if !s.ReadASN1UTCTime(&t) || !s.Empty() {
			return t, errors.New("bad UTCTime")
		}
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		if !s.ReadASN1GeneralizedTime(&t) || !s.Empty() {
			return t, errors.New("bad GeneralizedTime")
		}
	default:
		return t, errors.New("not a time")
	}
	return t, nil
}

func checkSignature(pub crypto.PublicKey, h crypto.Hash, alg AlgorithmIdentifier, hashed, sig []byte) error {
	a := alg.Algorithm
	switch {
	case a.Equal(oidRSAEncryption), a.Equal(oidSHA256WithRSA), a.Equal(oidSHA384WithRSA), a.Equal(oidSHA512WithRSA):
		if ah := rsaHash(a); ah != 0 && ah != h {
			return verifyErr("signature algorithm hash differs from digest algorithm")
		}
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return verifyErr("signature algorithm is RSA, key is %T", pub)
		}
		if err := rsa.VerifyPKCS1v15(k, h, hashed, sig); err != nil {
			return verifyErr("bad signature")
		}
	case a.Equal(oidRSAPSS):
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return verifyErr("signature algorithm is RSA-PSS, key is %T", pub)
		}
		ph, salt, err := parsePSSParams(alg.Parameters)
		if err != nil {
			return err
		}
		if ph != h {
			return verifyErr("RSA-PSS hash differs from digest algorithm")
		}
		if err := rsa.VerifyPSS(k, h, hashed, sig, &rsa.PSSOptions{SaltLength: salt, Hash: h}); err != nil {
			return verifyErr("bad signature")
		}
	case a.Equal(oidECDSAWithSHA256), a.Equal(oidECDSAWithSHA384), a.Equal(oidECDSAWithSHA512), a.Equal(oidECPublicKey):
		if ah := ecdsaHash(a); ah != 0 && ah != h {
			return verifyErr("signature algorithm hash differs from digest algorithm")
		}
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return verifyErr("signature algorithm is ECDSA, key is %T", pub)
		}
		if !ecdsa.VerifyASN1(k, hashed, sig) {
			return verifyErr("bad signature")
		}
	default:
		return verifyErr("unsupported signature algorithm %v", a)
	}
	return nil
}

func ecdsaHash(a asn1.ObjectIdentifier) crypto.Hash {
	switch {
	case a.Equal(oidECDSAWithSHA256):
		return crypto.SHA256
	case a.Equal(oidECDSAWithSHA384):
		return crypto.SHA384
	case a.Equal(oidECDSAWithSHA512):
		return crypto.SHA512
	}
	return 0
}

func rsaHash(a asn1.ObjectIdentifier) crypto.Hash {
	switch {
	case a.Equal(oidSHA256WithRSA):
		return crypto.SHA256
	case a.Equal(oidSHA384WithRSA):
		return crypto.SHA384
	case a.Equal(oidSHA512WithRSA):
		return crypto.SHA512
	}
	return 0
}

// parsePSSParams reads RSASSA-PSS-params (RFC 4055); SHA-1 defaults are refused.
func parsePSSParams(p []byte) (crypto.Hash, int, error) {
	s := cryptobyte.String(p)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return 0, 0, verifyErr("RSA-PSS parameters malformed")
	}
	var h, mh crypto.Hash
	salt := 20
	var f cryptobyte.String
	if seq.ReadOptionalASN1(&f, nil, tagExplicit0) && len(f) > 0 {
		a, err := readAlgorithm(&f)
		if err != nil {
			return 0, 0, err
		}
		h, _ = HashFromOID(a.Algorithm)
	}
	f = nil
	if seq.ReadOptionalASN1(&f, nil, tagExplicit1) && len(f) > 0 {
		a, err := readAlgorithm(&f)
		if err != nil || !a.Algorithm.Equal(oidMGF1) {
			return 0, 0, verifyErr("RSA-PSS mask generation function")
		}
		ps := cryptobyte.String(a.Parameters)
		ma, err := readAlgorithm(&ps)
		if err != nil {
			return 0, 0, err
		}
		mh, _ = HashFromOID(ma.Algorithm)
	}
	f = nil
	if seq.ReadOptionalASN1(&f, nil, cbasn1.Tag(2).Constructed().ContextSpecific()) && len(f) > 0 {
		if !f.ReadASN1Integer(&salt) || salt < 0 || salt > 1024 {
			return 0, 0, verifyErr("RSA-PSS salt length")
		}
	}
	if h == 0 || mh != h {
		return 0, 0, verifyErr("RSA-PSS hash parameters unsupported")
	}
	return h, salt, nil
}

// checkESS verifies the signing-certificate binding: a signingCertificateV2
// (RFC 5035) or signingCertificate (RFC 2634, SHA-1) attribute whose first
// ESSCertID names cert.
func checkESS(si *SignerInfo, cert *x509.Certificate) error {
	v2 := si.SignedAttribute(OIDAttrSigningCertificateV2)
	v1 := si.SignedAttribute(OIDAttrSigningCertificate)
	var a *Attribute
	switch {
	case v2 != nil:
		a = v2
	case v1 != nil:
		a = v1
	default:
		return verifyErr("signing-certificate attribute missing")
	}
	if len(a.Values) != 1 {
		return verifyErr("signing-certificate attribute malformed")
	}
	s := cryptobyte.String(a.Values[0])
	var sc, certs, id cryptobyte.String
	if !s.ReadASN1(&sc, cbasn1.SEQUENCE) || !s.Empty() || !sc.ReadASN1(&certs, cbasn1.SEQUENCE) ||
		!certs.ReadASN1(&id, cbasn1.SEQUENCE) {
		return verifyErr("signing-certificate attribute malformed")
	}
	h := crypto.SHA1
	if a == v2 {
		h = crypto.SHA256
		if id.PeekASN1Tag(cbasn1.SEQUENCE) {
			alg, err := readAlgorithm(&id)
			if err != nil {
				return err
			}
			var ok bool
			if h, ok = HashFromOID(alg.Algorithm); !ok {
				return verifyErr("ESSCertIDv2 hash algorithm %v unsupported", alg.Algorithm)
			}
		}
	}
	var certHash cryptobyte.String
	if !id.ReadASN1(&certHash, cbasn1.OCTET_STRING) {
		return verifyErr("ESSCertID malformed")
	}
	var sum []byte
	if h == crypto.SHA1 {
		s := sha1.Sum(cert.Raw)
		sum = s[:]
	} else {
		hh := h.New()
		hh.Write(cert.Raw)
		sum = hh.Sum(nil)
	}
	if !bytes.Equal(sum, certHash) {
		return verifyErr("ESSCertID does not match the signer certificate")
	}
	if !id.Empty() {
		var is, names cryptobyte.String
		serial := new(big.Int)
		if !id.ReadASN1(&is, cbasn1.SEQUENCE) || !id.Empty() || !is.ReadASN1(&names, cbasn1.SEQUENCE) ||
			!is.ReadASN1Integer(serial) || !is.Empty() {
			return verifyErr("ESSCertID issuerSerial malformed")
		}
		if serial.Cmp(cert.SerialNumber) != 0 {
			return verifyErr("ESSCertID serial number does not match the signer certificate")
		}
		found := false
		for !names.Empty() {
			var gn cryptobyte.String
			var tag cbasn1.Tag
			if !names.ReadAnyASN1(&gn, &tag) {
				return verifyErr("ESSCertID issuer malformed")
			}
			if tag == cbasn1.Tag(4).Constructed().ContextSpecific() && bytes.Equal(gn, cert.RawIssuer) {
				found = true
			}
		}
		if !found {
			return verifyErr("ESSCertID issuer does not match the signer certificate")
		}
	}
	return nil
}

// AddUnsignedAttribute adds an unsigned attribute with one value (the DER of
// the attribute value, e.g. a time-stamp token ContentInfo for
// OIDSignatureTimeStampToken) to SignerInfos[signerIndex], re-encodes the
// ContentInfo, updates sd to it and returns the new DER. The signed parts
// are kept byte for byte.
func (sd *SignedData) AddUnsignedAttribute(signerIndex int, oid asn1.ObjectIdentifier, value []byte) ([]byte, error) {
	if signerIndex < 0 || signerIndex >= len(sd.SignerInfos) {
		return nil, fmt.Errorf("cms: add unsigned attribute: no signerInfo %d", signerIndex)
	}
	v := cryptobyte.String(value)
	var el cryptobyte.String
	if !v.ReadAnyASN1Element(&el, nil) || !v.Empty() {
		return nil, errors.New("cms: add unsigned attribute: value is not one DER element")
	}
	attrs := [][]byte{attribute(oid, func(b *cryptobyte.Builder) { b.AddBytes(value) })}
	si := &sd.SignerInfos[signerIndex]
	for _, a := range si.UnsignedAttrs {
		attrs = append(attrs, a.Raw)
	}
	slices.SortFunc(attrs, bytes.Compare)
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(OIDSignedData)
		b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(sd.rawPrefix)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					for i := range sd.SignerInfos {
						if i != signerIndex {
							b.AddBytes(sd.SignerInfos[i].Raw)
							continue
						}
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddBytes(si.rawPrefix)
							b.AddASN1(tagExplicit1, func(b *cryptobyte.Builder) {
								for _, a := range attrs {
									b.AddBytes(a)
								}
							})
						})
					}
				})
			})
		})
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cms: add unsigned attribute: %w", err)
	}
	nsd, err := Parse(der)
	if err != nil {
		return nil, fmt.Errorf("cms: add unsigned attribute: %w", err)
	}
	*sd = *nsd
	return der, nil
}
