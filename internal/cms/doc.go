// Package cms builds, parses and verifies CMS SignedData (RFC 5652) as used by
// PAdES signatures and RFC 3161 time-stamp tokens.
//
// Building:
//
//	der, err := cms.SignDetached(cms.Signer{Certificate: cert, Chain: chain, Key: key}, digest, cms.SignOptions{})
//
// produces a detached ContentInfo/SignedData over a precomputed message digest
// with the signed attributes contentType, messageDigest,
// signingCertificateV2 (ESSCertIDv2, RFC 5035) and, when asked, signingTime.
// Sign does the same with the content encapsulated (used for TSTInfo).
// RSA (PKCS #1 v1.5 or PSS) and ECDSA keys are supported.
//
// Parsing and verifying:
//
//	sd, err := cms.Parse(der)                       // strict DER, bounded, never panics
//	cert, err := sd.Verify(digest, cms.VerifyOptions{Roots: pool})
//
// Verify checks the contentType and messageDigest attributes, the signature
// over the exact signed-attribute bytes, the ESS signing-certificate binding
// (v2, or v1 with SHA-1 as written by older TSAs) and, when Roots is set, the
// certificate chain at CurrentTime.
//
// SignerInfo.Signature is the signature value a PAdES signature time-stamp is
// computed over; SignedData.AddUnsignedAttribute adds the returned token as
// id-aa-signatureTimeStampToken (OIDSignatureTimeStampToken) and returns the
// re-encoded ContentInfo.
package cms
