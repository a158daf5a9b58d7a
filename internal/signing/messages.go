// Package signing is the offer → customer signature workflow: it receives
// the M1 (key registration) and M2 (signature with second factor) messages
// of the signing protocol, verifies every Phase-4 check and records the
// verdict. The arrays the device signs and time-stamps are built by the
// functions of this file, which the server and the reference device client
// (internal/device) share; docs/protocol.md specifies them.
package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"math/big"

	"esign/internal/esign"
	"esign/internal/protocol"
)

// The signature algorithms. The identifier is part of every signed array,
// so a signature made under one algorithm cannot be presented as one made
// under another.
const (
	// ECDSAP256 is ECDSA on P-256 over SHA-256; the signature is either
	// ASN.1 DER (Android Keystore, iOS) or 64 bytes r||s (WebCrypto).
	ECDSAP256 = "ecdsa-p256-sha256"
	// RSAPSS is RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt,
	// on a key of at least 2048 bits.
	RSAPSS = "rsa-pss-sha256"
	// RSAPKCS1 is RSASSA-PKCS1-v1_5 with SHA-256 on a key of at least 2048
	// bits: the original system's algorithm, accepted for compatibility.
	RSAPKCS1 = "rsa-pkcs1v15-sha256"
)

// Algorithms lists the known algorithms, the default first.
var Algorithms = []string{ECDSAP256, RSAPSS, RSAPKCS1}

// The domain labels: the first element of every array, so an array built
// for one step can never be accepted for another.
const (
	labelM1  = "esign/m1"
	labelTS1 = "esign/ts1"
	labelM2  = "esign/m2"
	labelCS  = "esign/customer-signature"
	labelS2  = "esign/signature2"
	labelTS3 = "esign/ts3"
)

// MaxPhoto and MaxDeviceInfo bound the outside input of M2.
const (
	MaxPhoto      = 4 << 20
	MaxDeviceInfo = 4 << 10
)

// M1Raw is rawData of M1: ["esign/m1", publicKey, userName, algorithm,
// offerId]. The offer id binds the key registration to one offer: an M1
// replayed for another offer does not verify.
func M1Raw(publicKey []byte, userName, algorithm, offerID string) ([]byte, error) {
	return protocol.Encode(protocol.List{protocol.String(labelM1), protocol.Bytes(publicKey),
		protocol.String(userName), protocol.String(algorithm), protocol.String(offerID)})
}

// TS1Data is what TS1 time-stamps (its SHA-256 is the token's imprint):
// ["esign/ts1", signedData, rawData].
func TS1Data(signedData, rawData []byte) ([]byte, error) {
	return protocol.Encode(protocol.List{protocol.String(labelTS1), protocol.Bytes(signedData), protocol.Bytes(rawData)})
}

// M2Fields are the elements of the customer signature.
type M2Fields struct {
	PublicKey   []byte   // SubjectPublicKeyInfo DER, as in M1
	Algorithm   string   // as in M1
	OfferID     string   // the offer signed
	OfferHashes [][]byte // SHA-256 of each offer document, in the offer's order
	UserName    string
	SMSToken    string
	DeviceInfo  string
	Photo       []byte // optional
}

func (f *M2Fields) list() protocol.List {
	hashes := make(protocol.List, len(f.OfferHashes))
	for i, h := range f.OfferHashes {
		hashes[i] = protocol.Bytes(h)
	}
	return protocol.List{protocol.String(labelM2), protocol.Bytes(f.PublicKey), protocol.String(f.Algorithm),
		protocol.String(f.OfferID), hashes, protocol.String(f.UserName), protocol.String(f.SMSToken),
		protocol.String(f.DeviceInfo), protocol.Bytes(f.Photo)}
}

// TS2Data is what TS2 time-stamps: ["esign/m2", publicKey, algorithm,
// offerId, [offerHash…], userName, smsToken, deviceInfo, photo].
func TS2Data(f *M2Fields) ([]byte, error) { return protocol.Encode(f.list()) }

// customerSignature is ["esign/customer-signature", ts2Data list, ts2].
func customerSignature(f *M2Fields, ts2 []byte) protocol.List {
	return protocol.List{protocol.String(labelCS), f.list(), protocol.Bytes(ts2)}
}

// CustomerSignatureHash is SHA-256 of the encoded customer signature
// ["esign/customer-signature", [ts2 data…], ts2].
func CustomerSignatureHash(f *M2Fields, ts2 []byte) ([]byte, error) {
	b, err := protocol.Encode(customerSignature(f, ts2))
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(b)
	return h[:], nil
}

// Signature2Data is what SIGNATURE2 (signedTs3) signs:
// ["esign/signature2", customerSignatureHash, customerSignature].
func Signature2Data(f *M2Fields, ts2, hash []byte) ([]byte, error) {
	return protocol.Encode(protocol.List{protocol.String(labelS2), protocol.Bytes(hash), customerSignature(f, ts2)})
}

// TS3Data is what TS3 time-stamps: ["esign/ts3", customerSignatureHash,
// customerSignature, signedTs3].
func TS3Data(f *M2Fields, ts2, hash, signedTs3 []byte) ([]byte, error) {
	return protocol.Encode(protocol.List{protocol.String(labelTS3), protocol.Bytes(hash), customerSignature(f, ts2),
		protocol.Bytes(signedTs3)})
}

// ParsePublicKey parses an SPKI DER key and checks that it fits algorithm:
// a P-256 key for ECDSAP256, an RSA key of 2048 to 8192 bits for the RSA
// algorithms. Errors: Invalid (key_invalid, algorithm).
func ParsePublicKey(der []byte, algorithm string) (crypto.PublicKey, error) {
	const op = "signing.ParsePublicKey"
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, esign.WithCode(op, esign.Invalid, "key_invalid", "the public key is not a valid SubjectPublicKeyInfo")
	}
	switch algorithm {
	case ECDSAP256:
		if k, ok := pub.(*ecdsa.PublicKey); ok && k.Curve == elliptic.P256() {
			return k, nil
		}
	case RSAPSS, RSAPKCS1:
		if k, ok := pub.(*rsa.PublicKey); ok && k.N.BitLen() >= 2048 && k.N.BitLen() <= 8192 {
			return k, nil
		}
	default:
		return nil, esign.WithCode(op, esign.Invalid, "algorithm", "unknown signature algorithm")
	}
	return nil, esign.WithCode(op, esign.Invalid, "key_invalid", "the public key does not fit the algorithm")
}

var pssOptions = &rsa.PSSOptions{SaltLength: 32, Hash: crypto.SHA256}

// Verify reports whether sig is a valid signature of data under pub with
// algorithm.
func Verify(pub crypto.PublicKey, algorithm string, data, sig []byte) bool {
	h := sha256.Sum256(data)
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if algorithm != ECDSAP256 {
			return false
		}
		if len(sig) == 64 {
			r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
			if ecdsa.Verify(k, h[:], r, s) {
				return true
			}
		}
		return ecdsa.VerifyASN1(k, h[:], sig)
	case *rsa.PublicKey:
		switch algorithm {
		case RSAPSS:
			return rsa.VerifyPSS(k, crypto.SHA256, h[:], sig, pssOptions) == nil
		case RSAPKCS1:
			return rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], sig) == nil
		}
	}
	return false
}

// Sign signs data with key under algorithm (the device side; ECDSA
// signatures are ASN.1 DER).
func Sign(key crypto.Signer, algorithm string, data []byte) ([]byte, error) {
	h := sha256.Sum256(data)
	switch algorithm {
	case ECDSAP256:
		return key.Sign(rand.Reader, h[:], crypto.SHA256)
	case RSAPSS:
		return key.Sign(rand.Reader, h[:], pssOptions)
	case RSAPKCS1:
		return key.Sign(rand.Reader, h[:], crypto.SHA256)
	}
	return nil, esign.WithCode("signing.Sign", esign.Invalid, "algorithm", "unknown signature algorithm")
}

// ecdsaSig is the ASN.1 form of an ECDSA signature.
type ecdsaSig struct{ R, S *big.Int }

// RawECDSA converts an ASN.1 ECDSA P-256 signature to 64 bytes r||s
// (the WebCrypto form).
func RawECDSA(der []byte) ([]byte, error) {
	var s ecdsaSig
	if rest, err := asn1.Unmarshal(der, &s); err != nil || len(rest) != 0 || s.R == nil || s.S == nil ||
		s.R.Sign() < 0 || s.S.Sign() < 0 || s.R.BitLen() > 256 || s.S.BitLen() > 256 {
		return nil, esign.E("signing.RawECDSA", esign.Invalid, "not an ECDSA signature")
	}
	out := make([]byte, 64)
	s.R.FillBytes(out[:32])
	s.S.FillBytes(out[32:])
	return out, nil
}
