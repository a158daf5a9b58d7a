// Package csc speaks the Cloud Signature Consortium API v2.0 for remote
// signing: a client that signs a digest with a credential held by a remote
// signing service (a qualified trust service provider, QTSP), and a small
// server of the same API backed by a local key, for development and tests
// (esign csc-server). Only the digest is sent to the service; every
// signature that comes back is verified against the credential's
// certificate before it is used (docs/key-custody.md).
//
// The subset implemented, from the specification (CSC API v2.0, section 11):
// info, oauth2/token with grant_type=client_credentials (RFC 6749 4.4),
// credentials/list, credentials/info (certificates "chain", certInfo,
// authInfo), credentials/authorize (explicit authorisation with "Password"
// objects such as a PIN, which SCAL2 binds to the hashes) and
// signatures/signHash in synchronous mode. Not implemented: the
// oauth2/authorize user flow (the "credential" scope and oauth2code
// authorisation), OTP objects that need a person, asynchronous signHash,
// signatures/signDoc and credentials/extendTransaction.
package csc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
)

// Spec is the version of the specification this package follows.
const Spec = "2.0.0.2"

// Errors of the specification (section 10.1) and of OAuth 2.0 (RFC 6749
// 5.2) the server answers and the client recognises.
const (
	ErrInvalidRequest = "invalid_request"
	ErrInvalidClient  = "invalid_client"
	ErrInvalidGrant   = "invalid_grant"
	ErrUnsupported    = "unsupported_grant_type"
	ErrInvalidToken   = "invalid_token"
	ErrAccessDenied   = "access_denied"
	ErrRateLimited    = "too_many_requests"
)

// ErrorResponse is the body of an error answer.
type ErrorResponse struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// InfoRequest and InfoResponse: POST info (11.1), unauthenticated.
type InfoRequest struct {
	Lang string `json:"lang,omitempty"`
}

type InfoResponse struct {
	Specs          string         `json:"specs"`
	Name           string         `json:"name"`
	Logo           string         `json:"logo"`
	Region         string         `json:"region"`
	Lang           string         `json:"lang"`
	Description    string         `json:"description"`
	AuthType       []string       `json:"authType"`
	OAuth2         string         `json:"oauth2,omitempty"`
	Methods        []string       `json:"methods"`
	SignAlgorithms SignAlgorithms `json:"signAlgorithms"`
}

type SignAlgorithms struct {
	Algos []string `json:"algos"`
}

// TokenResponse: POST oauth2/token (8.3.3, RFC 6749 5.1).
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// ListRequest and ListResponse: POST credentials/list (11.4).
type ListRequest struct {
	UserID         string `json:"userID,omitempty"`
	CredentialInfo bool   `json:"credentialInfo,omitempty"`
	Certificates   string `json:"certificates,omitempty"`
	CertInfo       bool   `json:"certInfo,omitempty"`
	AuthInfo       bool   `json:"authInfo,omitempty"`
	OnlyValid      bool   `json:"onlyValid,omitempty"`
}

type ListResponse struct {
	CredentialIDs []string `json:"credentialIDs"`
	OnlyValid     bool     `json:"onlyValid,omitempty"`
}

// CredentialInfoRequest and CredentialInfo: POST credentials/info (11.5).
type CredentialInfoRequest struct {
	CredentialID string `json:"credentialID"`
	Certificates string `json:"certificates,omitempty"` // none, single, chain
	CertInfo     bool   `json:"certInfo,omitempty"`
	AuthInfo     bool   `json:"authInfo,omitempty"`
}

type CredentialInfo struct {
	Description        string   `json:"description,omitempty"`
	SignatureQualifier string   `json:"signatureQualifier,omitempty"`
	Key                KeyInfo  `json:"key"`
	Cert               CertInfo `json:"cert"`
	Auth               AuthInfo `json:"auth"`
	SCAL               string   `json:"SCAL,omitempty"` // "1" (default) or "2"
	Multisign          int      `json:"multisign"`
	Lang               string   `json:"lang,omitempty"`
}

type KeyInfo struct {
	Status string   `json:"status"` // enabled, disabled
	Algo   []string `json:"algo"`
	Len    int      `json:"len"`
	Curve  string   `json:"curve,omitempty"`
}

type CertInfo struct {
	Status       string   `json:"status,omitempty"` // valid, expired, revoked, suspended
	Certificates []string `json:"certificates,omitempty"`
	IssuerDN     string   `json:"issuerDN,omitempty"`
	SerialNumber string   `json:"serialNumber,omitempty"`
	SubjectDN    string   `json:"subjectDN,omitempty"`
	ValidFrom    string   `json:"validFrom,omitempty"`
	ValidTo      string   `json:"validTo,omitempty"`
}

type AuthInfo struct {
	Mode       string       `json:"mode"` // implicit, explicit, oauth2code
	Expression string       `json:"expression,omitempty"`
	Objects    []AuthObject `json:"objects,omitempty"`
}

type AuthObject struct {
	Type        string `json:"type"` // Password, OTP
	ID          string `json:"id"`
	Format      string `json:"format,omitempty"` // A, N
	Label       string `json:"label,omitempty"`
	Description string `json:"description,omitempty"`
}

// AuthorizeRequest and AuthorizeResponse: POST credentials/authorize (11.6).
type AuthorizeRequest struct {
	CredentialID     string     `json:"credentialID"`
	NumSignatures    int        `json:"numSignatures"`
	Hashes           []string   `json:"hashes,omitempty"`
	HashAlgorithmOID string     `json:"hashAlgorithmOID,omitempty"`
	AuthData         []AuthData `json:"authData,omitempty"`
}

type AuthData struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

type AuthorizeResponse struct {
	SAD       string `json:"SAD"`
	ExpiresIn int64  `json:"expiresIn,omitempty"`
}

// SignHashRequest and SignHashResponse: POST signatures/signHash (11.9).
type SignHashRequest struct {
	CredentialID     string   `json:"credentialID"`
	SAD              string   `json:"SAD,omitempty"`
	Hashes           []string `json:"hashes"`
	HashAlgorithmOID string   `json:"hashAlgorithmOID,omitempty"`
	SignAlgo         string   `json:"signAlgo"`
	SignAlgoParams   string   `json:"signAlgoParams,omitempty"`
	OperationMode    string   `json:"operationMode,omitempty"`
}

type SignHashResponse struct {
	Signatures []string `json:"signatures"`
}

// Object identifiers of the algorithms used.
const (
	oidRSA          = "1.2.840.113549.1.1.1"
	oidRSAPSS       = "1.2.840.113549.1.1.10"
	oidMGF1         = "1.2.840.113549.1.1.8"
	oidRSASHA256    = "1.2.840.113549.1.1.11"
	oidRSASHA384    = "1.2.840.113549.1.1.12"
	oidRSASHA512    = "1.2.840.113549.1.1.13"
	oidEC           = "1.2.840.10045.2.1"
	oidECDSASHA256  = "1.2.840.10045.4.3.2"
	oidECDSASHA384  = "1.2.840.10045.4.3.3"
	oidECDSASHA512  = "1.2.840.10045.4.3.4"
	oidSHA256       = "2.16.840.1.101.3.4.2.1"
	oidSHA384       = "2.16.840.1.101.3.4.2.2"
	oidSHA512       = "2.16.840.1.101.3.4.2.3"
	oidCurveP256    = "1.2.840.10045.3.1.7"
	oidCurveP384    = "1.3.132.0.34"
	oidCurveP521    = "1.3.132.0.35"
	signHashMaxHash = 100 // hashes in one request, server side
)

var hashOIDs = map[crypto.Hash]string{crypto.SHA256: oidSHA256, crypto.SHA384: oidSHA384, crypto.SHA512: oidSHA512}

func hashByOID(oid string) (crypto.Hash, bool) {
	for h, o := range hashOIDs {
		if o == oid {
			return h, true
		}
	}
	return 0, false
}

var curveOIDs = map[string]elliptic.Curve{oidCurveP256: elliptic.P256(), oidCurveP384: elliptic.P384(), oidCurveP521: elliptic.P521()}

func curveOID(c elliptic.Curve) string {
	for o, cc := range curveOIDs {
		if cc == c {
			return o
		}
	}
	return ""
}

// scheme is how one signature is made: the key type, the hash, and for
// RSA-PSS the salt length.
type scheme struct {
	hash crypto.Hash
	pss  bool
	salt int // PSS only
	ec   bool
}

// signAlgo returns the signAlgo, hashAlgorithmOID and signAlgoParams the
// client sends for sch.
func (sch scheme) signAlgo() (algo, hashOID, params string, err error) {
	hashOID = hashOIDs[sch.hash]
	if hashOID == "" {
		return "", "", "", fmt.Errorf("unsupported hash %v", sch.hash)
	}
	switch {
	case sch.ec:
		algo = map[crypto.Hash]string{crypto.SHA256: oidECDSASHA256, crypto.SHA384: oidECDSASHA384, crypto.SHA512: oidECDSASHA512}[sch.hash]
	case sch.pss:
		p, err := marshalPSSParams(sch.hash, sch.salt)
		if err != nil {
			return "", "", "", err
		}
		return oidRSAPSS, hashOID, b64(p), nil
	default:
		algo = map[crypto.Hash]string{crypto.SHA256: oidRSASHA256, crypto.SHA384: oidRSASHA384, crypto.SHA512: oidRSASHA512}[sch.hash]
	}
	return algo, hashOID, "", nil
}

// parseScheme is the server side of signAlgo: it checks that the request's
// algorithm fits the key pub.
func parseScheme(pub crypto.PublicKey, algo, hashOID, params string) (scheme, error) {
	var sch scheme
	hashGiven, okHash := hashByOID(hashOID)
	if hashOID != "" && !okHash {
		return sch, fmt.Errorf("unsupported hashAlgorithmOID %q", hashOID)
	}
	implied := func(h crypto.Hash) error {
		if hashOID != "" && hashGiven != h {
			return fmt.Errorf("hashAlgorithmOID %s does not match signAlgo %s", hashOID, algo)
		}
		sch.hash = h
		return nil
	}
	needHash := func() error {
		if !okHash {
			return fmt.Errorf("signAlgo %s needs hashAlgorithmOID", algo)
		}
		sch.hash = hashGiven
		return nil
	}
	var err error
	_, isRSA := pub.(*rsa.PublicKey)
	_, isEC := pub.(*ecdsa.PublicKey)
	switch algo {
	case oidRSA:
		err = needHash()
	case oidRSASHA256:
		err = implied(crypto.SHA256)
	case oidRSASHA384:
		err = implied(crypto.SHA384)
	case oidRSASHA512:
		err = implied(crypto.SHA512)
	case oidRSAPSS:
		sch.pss = true
		var h crypto.Hash
		if h, sch.salt, err = parsePSSParams(params); err == nil {
			err = implied(h)
		}
	case oidEC:
		sch.ec = true
		err = needHash()
	case oidECDSASHA256, oidECDSASHA384, oidECDSASHA512:
		sch.ec = true
		err = implied(map[string]crypto.Hash{oidECDSASHA256: crypto.SHA256, oidECDSASHA384: crypto.SHA384, oidECDSASHA512: crypto.SHA512}[algo])
	default:
		return sch, fmt.Errorf("unsupported signAlgo %q", algo)
	}
	if err != nil {
		return sch, err
	}
	if sch.ec != isEC || (!sch.ec && !isRSA) {
		return sch, fmt.Errorf("signAlgo %s does not fit the credential's key", algo)
	}
	return sch, nil
}

// pssParams is RSASSA-PSS-params (RFC 4055 3.1).
type pssParams struct {
	Hash         pkix.AlgorithmIdentifier `asn1:"explicit,tag:0"`
	MGF          pkix.AlgorithmIdentifier `asn1:"explicit,tag:1"`
	SaltLength   int                      `asn1:"explicit,tag:2"`
	TrailerField int                      `asn1:"optional,explicit,tag:3,default:1"`
}

func oid(s string) asn1.ObjectIdentifier {
	var o asn1.ObjectIdentifier
	for _, p := range strings.Split(s, ".") {
		var n int
		fmt.Sscan(p, &n)
		o = append(o, n)
	}
	return o
}

func marshalPSSParams(h crypto.Hash, salt int) ([]byte, error) {
	hashAlg := pkix.AlgorithmIdentifier{Algorithm: oid(hashOIDs[h]), Parameters: asn1.NullRawValue}
	mgfParams, err := asn1.Marshal(hashAlg)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(pssParams{
		Hash:         hashAlg,
		MGF:          pkix.AlgorithmIdentifier{Algorithm: oid(oidMGF1), Parameters: asn1.RawValue{FullBytes: mgfParams}},
		SaltLength:   salt,
		TrailerField: 1,
	})
}

func parsePSSParams(params string) (crypto.Hash, int, error) {
	der, err := unb64(params)
	if err != nil || len(der) == 0 {
		return 0, 0, fmt.Errorf("RSASSA-PSS needs signAlgoParams (base64 DER RSASSA-PSS-params)")
	}
	var p pssParams
	if rest, err := asn1.Unmarshal(der, &p); err != nil || len(rest) > 0 {
		return 0, 0, fmt.Errorf("signAlgoParams is not RSASSA-PSS-params")
	}
	h, ok := hashByOID(p.Hash.Algorithm.String())
	if !ok {
		return 0, 0, fmt.Errorf("unsupported PSS hash %s", p.Hash.Algorithm)
	}
	var mgfHash pkix.AlgorithmIdentifier
	if p.MGF.Algorithm.String() != oidMGF1 {
		return 0, 0, fmt.Errorf("unsupported PSS mask generation %s", p.MGF.Algorithm)
	}
	if _, err := asn1.Unmarshal(p.MGF.Parameters.FullBytes, &mgfHash); err != nil || !mgfHash.Algorithm.Equal(p.Hash.Algorithm) {
		return 0, 0, fmt.Errorf("PSS: MGF1 must use the signature's hash")
	}
	if p.SaltLength < 0 || p.SaltLength > 512 || p.TrailerField != 1 {
		return 0, 0, fmt.Errorf("PSS: bad salt length or trailer field")
	}
	return h, p.SaltLength, nil
}
