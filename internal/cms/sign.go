package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Signer is the key and certificates of a CMS signer.
type Signer struct {
	Certificate *x509.Certificate
	Chain       []*x509.Certificate // intermediates and root to embed after Certificate
	Key         crypto.Signer       // RSA or ECDSA
}

// SignOptions tunes Sign and SignDetached. The zero value signs with
// SHA-256, PKCS #1 v1.5 for RSA, content type id-data, no signing time.
type SignOptions struct {
	Hash        crypto.Hash           // SHA-256 (default), SHA-384 or SHA-512
	SigningTime *time.Time            // nil: no signing-time attribute (PAdES puts the time in the PDF)
	ContentType asn1.ObjectIdentifier // default id-data
	RSAPSS      bool                  // RSASSA-PSS instead of PKCS #1 v1.5 for RSA keys
	// OmitCertificates leaves the certificates field out (RFC 3161 certReq=false).
	OmitCertificates bool
}

// SignDetached builds a detached CMS SignedData over a precomputed message
// digest (computed with opt.Hash) with the signed attributes contentType,
// messageDigest, signingCertificateV2 and (optionally) signingTime. It returns
// the DER of the ContentInfo.
func SignDetached(s Signer, digest []byte, opt SignOptions) ([]byte, error) {
	return sign(s, digest, nil, opt)
}

// Sign builds a CMS SignedData with content encapsulated (for example a
// TSTInfo with ContentType OIDTSTInfo). It returns the DER of the ContentInfo.
func Sign(s Signer, content []byte, opt SignOptions) ([]byte, error) {
	h := opt.Hash
	if h == 0 {
		h = crypto.SHA256
	}
	if !h.Available() {
		return nil, fmt.Errorf("cms: sign: hash %v not available", h)
	}
	hh := h.New()
	hh.Write(content)
	if content == nil {
		content = []byte{}
	}
	return sign(s, hh.Sum(nil), content, opt)
}

func sign(s Signer, digest, content []byte, opt SignOptions) ([]byte, error) {
	if s.Certificate == nil || s.Key == nil {
		return nil, errors.New("cms: sign: signer certificate and key are required")
	}
	if opt.Hash == 0 {
		opt.Hash = crypto.SHA256
	}
	hashOID, ok := HashOID(opt.Hash)
	if !ok {
		return nil, fmt.Errorf("cms: sign: unsupported hash %v", opt.Hash)
	}
	if len(digest) != opt.Hash.Size() {
		return nil, fmt.Errorf("cms: sign: digest is %d bytes, %v needs %d", len(digest), opt.Hash, opt.Hash.Size())
	}
	ct := opt.ContentType
	if ct == nil {
		ct = OIDData
	}
	sigAlg, signerOpts, err := signatureAlgorithm(s.Key.Public(), opt)
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(s.Key.Public(), s.Certificate.PublicKey) {
		return nil, errors.New("cms: sign: key does not match the signer certificate")
	}

	// Signed attributes, DER-sorted as a SET OF.
	attrs := [][]byte{
		attribute(OIDAttrContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(ct) }),
		attribute(OIDAttrMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) }),
		attribute(OIDAttrSigningCertificateV2, func(b *cryptobyte.Builder) {
			addSigningCertificateV2(b, s.Certificate, opt.Hash, hashOID)
		}),
	}
	if opt.SigningTime != nil {
		t := opt.SigningTime.UTC()
		attrs = append(attrs, attribute(OIDAttrSigningTime, func(b *cryptobyte.Builder) {
			if t.Year() >= 1950 && t.Year() < 2050 {
				b.AddASN1UTCTime(t)
			} else {
				b.AddASN1GeneralizedTime(t)
			}
		}))
	}
	slices.SortFunc(attrs, bytes.Compare)
	sab := cryptobyte.NewBuilder(nil)
	sab.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			b.AddBytes(a)
		}
	})
	signedAttrs, err := sab.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cms: sign: encode signed attributes: %w", err)
	}
	hh := opt.Hash.New()
	hh.Write(signedAttrs)
	sig, err := s.Key.Sign(rand.Reader, hh.Sum(nil), signerOpts)
	if err != nil {
		return nil, fmt.Errorf("cms: sign: %w", err)
	}

	version := int64(1)
	if !ct.Equal(OIDData) {
		version = 3
	}
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(OIDSignedData)
		b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(version)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					addAlgorithm(b, hashOID, nil)
				})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(ct)
					if content != nil {
						b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { b.AddASN1OctetString(content) })
					}
				})
				if !opt.OmitCertificates {
					b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) {
						b.AddBytes(s.Certificate.Raw)
						for _, c := range s.Chain {
							if c != nil && !c.Equal(s.Certificate) {
								b.AddBytes(c.Raw)
							}
						}
					})
				}
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1Int64(1)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddBytes(s.Certificate.RawIssuer)
							b.AddASN1BigInt(s.Certificate.SerialNumber)
						})
						addAlgorithm(b, hashOID, nil)
						b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { b.AddBytes(signedAttrs[lenHeader(signedAttrs):]) })
						b.AddBytes(sigAlg)
						b.AddASN1OctetString(sig)
					})
				})
			})
		})
	})
	return b.Bytes()
}

// lenHeader returns the length of the tag and length octets of a DER element.
func lenHeader(der []byte) int {
	if der[1] < 0x80 {
		return 2
	}
	return 2 + int(der[1]&0x7f)
}

func attribute(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(cbasn1.SET, value)
	})
	return b.BytesOrPanic()
}

func addAlgorithm(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, params []byte) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if params != nil {
			b.AddBytes(params)
		}
	})
}

var derNull = []byte{0x05, 0x00}

// addSigningCertificateV2 writes SigningCertificateV2 (RFC 5035) with one
// ESSCertIDv2 that names cert by hash and by issuer and serial number.
func addSigningCertificateV2(b *cryptobyte.Builder, cert *x509.Certificate, h crypto.Hash, hashOID asn1.ObjectIdentifier) {
	hh := h.New()
	hh.Write(cert.Raw)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SigningCertificateV2
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // certs
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ESSCertIDv2
				if h != crypto.SHA256 { // DEFAULT id-sha256 is omitted in DER
					addAlgorithm(b, hashOID, nil)
				}
				b.AddASN1OctetString(hh.Sum(nil))
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerSerial
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // GeneralNames
						b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddBytes(cert.RawIssuer)
						})
					})
					b.AddASN1BigInt(cert.SerialNumber)
				})
			})
		})
	})
}

// signatureAlgorithm returns the DER AlgorithmIdentifier of the signature
// and the crypto.SignerOpts to sign with.
func signatureAlgorithm(pub crypto.PublicKey, opt SignOptions) ([]byte, crypto.SignerOpts, error) {
	hashOID, _ := HashOID(opt.Hash)
	b := cryptobyte.NewBuilder(nil)
	var so crypto.SignerOpts = opt.Hash
	switch pub.(type) {
	case *rsa.PublicKey:
		if opt.RSAPSS {
			so = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: opt.Hash}
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidRSAPSS)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { addAlgorithm(b, hashOID, derNull) })
					b.AddASN1(tagExplicit1, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(oidMGF1)
							addAlgorithm(b, hashOID, derNull)
						})
					})
					b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddASN1Int64(int64(opt.Hash.Size()))
					})
				})
			})
		} else {
			oid := map[crypto.Hash]asn1.ObjectIdentifier{crypto.SHA256: oidSHA256WithRSA, crypto.SHA384: oidSHA384WithRSA, crypto.SHA512: oidSHA512WithRSA}[opt.Hash]
			addAlgorithm(b, oid, derNull)
		}
	case *ecdsa.PublicKey:
		oid := map[crypto.Hash]asn1.ObjectIdentifier{crypto.SHA256: oidECDSAWithSHA256, crypto.SHA384: oidECDSAWithSHA384, crypto.SHA512: oidECDSAWithSHA512}[opt.Hash]
		addAlgorithm(b, oid, nil)
	default:
		return nil, nil, fmt.Errorf("cms: sign: unsupported key type %T", pub)
	}
	der, err := b.Bytes()
	return der, so, err
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ka, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ka.Equal(b)
}
