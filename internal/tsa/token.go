package tsa

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"esign/internal/cms"
)

// Token is a parsed RFC 3161 TimeStampToken.
type Token struct {
	DER        []byte // the TimeStampToken ContentInfo
	Info       TSTInfo
	Signer     *x509.Certificate // the TSA certificate (nil from ParseToken when not embedded)
	SignedData *cms.SignedData
}

// ErrVerify is wrapped by every token verification failure.
var ErrVerify = errors.New("tsa: token verification failed")

func verifyErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrVerify, fmt.Sprintf(format, args...))
}

var (
	oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidKPTimeStamp = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
)

// ParseToken parses a TimeStampToken without verifying it. Signer is set to
// the embedded certificate the SignerInfo names, if any.
func ParseToken(der []byte) (*Token, error) {
	sd, err := cms.Parse(der)
	if err != nil {
		return nil, fmt.Errorf("tsa: parse token: %w", err)
	}
	if !sd.EncapContentType.Equal(cms.OIDTSTInfo) || sd.EncapContent == nil {
		return nil, errors.New("tsa: parse token: content is not a TSTInfo")
	}
	if len(sd.SignerInfos) != 1 {
		return nil, fmt.Errorf("tsa: parse token: %d signerInfos, want 1", len(sd.SignerInfos))
	}
	ti, err := ParseTSTInfo(sd.EncapContent)
	if err != nil {
		return nil, fmt.Errorf("tsa: parse token: %w", err)
	}
	t := &Token{DER: sd.Raw, Info: *ti, SignedData: sd}
	si := &sd.SignerInfos[0]
	for _, c := range sd.Certificates {
		if si.IssuerRaw != nil && bytes.Equal(c.RawIssuer, si.IssuerRaw) && c.SerialNumber.Cmp(si.SerialNumber) == 0 ||
			si.SubjectKeyID != nil && bytes.Equal(c.SubjectKeyId, si.SubjectKeyID) {
			t.Signer = c
		}
	}
	return t, nil
}

// VerifyOptions tunes VerifyToken.
type VerifyOptions struct {
	// Roots are the trust anchors for the TSA certificate; nil means the
	// system roots. Intermediates are extra chain certificates.
	Roots         *x509.CertPool
	Intermediates *x509.CertPool
	// Certificates are TSA certificates to use when the token embeds none.
	Certificates []*x509.Certificate
	Nonce        *big.Int              // when set, the token must echo it
	Policy       asn1.ObjectIdentifier // when set, the token must carry it
	// CurrentTime is the time the chain is validated at; zero means the
	// token's genTime.
	CurrentTime time.Time
	// Chains, optional, remembers the chains that verified (ChainCache).
	Chains *ChainCache
}

// VerifyToken parses der and verifies that it time-stamps digest (computed
// with h): the message imprint, the CMS signature and ESS signing-certificate
// binding, the TSA certificate's critical extended key usage timeStamping,
// its chain to opt.Roots at genTime, and the nonce and policy when asked.
func VerifyToken(der, digest []byte, h crypto.Hash, opt VerifyOptions) (*Token, error) {
	t, err := ParseToken(der)
	if err != nil {
		return nil, err
	}
	if t.Info.HashAlgorithm != h {
		return nil, verifyErr("imprint hash is %v, want %v", t.Info.HashAlgorithm, h)
	}
	if !bytes.Equal(t.Info.HashedMessage, digest) {
		return nil, verifyErr("message imprint does not match the data")
	}
	if opt.Nonce != nil && (t.Info.Nonce == nil || t.Info.Nonce.Cmp(opt.Nonce) != 0) {
		return nil, verifyErr("nonce mismatch")
	}
	if opt.Policy != nil && !t.Info.Policy.Equal(opt.Policy) {
		return nil, verifyErr("policy is %v, want %v", t.Info.Policy, opt.Policy)
	}
	cert, err := t.SignedData.Verify(nil, cms.VerifyOptions{Certificates: opt.Certificates})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrVerify, err)
	}
	t.Signer = cert
	if err := CheckTSACertificate(cert); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrVerify, err)
	}
	at := opt.CurrentTime
	if at.IsZero() {
		at = t.Info.GenTime
	}
	key := newChainKey(opt.Roots, opt.Intermediates, cert, t.SignedData.Certificates)
	if opt.Chains.verifiedAt(key, at) {
		return t, nil
	}
	inter := x509.NewCertPool()
	if opt.Intermediates != nil {
		inter = opt.Intermediates.Clone()
	}
	for _, c := range t.SignedData.Certificates {
		inter.AddCert(c)
	}
	chains, err := cert.Verify(x509.VerifyOptions{Roots: opt.Roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}})
	if err != nil {
		return nil, verifyErr("TSA certificate chain: %v", err)
	}
	opt.Chains.remember(key, chains)
	return t, nil
}

// CheckTSACertificate checks RFC 3161 §2.3: the certificate has exactly one
// extended key usage, id-kp-timeStamping, in a critical extension, and
// allows digital signatures.
func CheckTSACertificate(c *x509.Certificate) error {
	var eku int
	for _, e := range c.Extensions {
		if e.Id.Equal(oidExtKeyUsage) {
			eku++
			if !e.Critical {
				return errors.New("TSA certificate: extended key usage is not critical")
			}
		}
	}
	if eku != 1 || len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(c.UnknownExtKeyUsage) != 0 {
		return errors.New("TSA certificate: extended key usage must be timeStamping only")
	}
	if c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return errors.New("TSA certificate: key usage does not allow signing")
	}
	return nil
}
