package tsa

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"esign/internal/cms"
)

// DefaultPolicy is the TSA policy OID used when none is configured. It sits
// under the private enterprise number 32473, which RFC 5612 reserves for
// documentation: a placeholder to replace with the bank's own arc.
var DefaultPolicy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 1}

// Media types of RFC 3161 over HTTP.
const (
	QueryMediaType = "application/timestamp-query"
	ReplyMediaType = "application/timestamp-reply"
)

// PKIStatus values (RFC 3161 §2.4.2).
const (
	StatusGranted                = 0
	StatusGrantedWithMods        = 1
	StatusRejection              = 2
	StatusWaiting                = 3
	StatusRevocationWarning      = 4
	StatusRevocationNotification = 5
)

// FailureInfo is a PKIFailureInfo bit number (RFC 3161 §2.4.2).
type FailureInfo int

// The failure reasons a TSA reports.
const (
	FailBadAlg              FailureInfo = 0
	FailBadRequest          FailureInfo = 2
	FailBadDataFormat       FailureInfo = 5
	FailTimeNotAvailable    FailureInfo = 14
	FailUnacceptedPolicy    FailureInfo = 15
	FailUnacceptedExtension FailureInfo = 16
	FailAddInfoNotAvailable FailureInfo = 17
	FailSystemFailure       FailureInfo = 25
	failNone                FailureInfo = -1
)

func (f FailureInfo) String() string {
	switch f {
	case FailBadAlg:
		return "badAlg"
	case FailBadRequest:
		return "badRequest"
	case FailBadDataFormat:
		return "badDataFormat"
	case FailTimeNotAvailable:
		return "timeNotAvailable"
	case FailUnacceptedPolicy:
		return "unacceptedPolicy"
	case FailUnacceptedExtension:
		return "unacceptedExtension"
	case FailAddInfoNotAvailable:
		return "addInfoNotAvailable"
	case FailSystemFailure:
		return "systemFailure"
	case failNone:
		return "none"
	}
	return fmt.Sprintf("failInfo(%d)", int(f))
}

// maxNonceBytes bounds the nonce a request may carry.
const maxNonceBytes = 32

// Request is a TimeStampReq.
type Request struct {
	HashAlgorithm crypto.Hash
	HashedMessage []byte
	Policy        asn1.ObjectIdentifier // optional reqPolicy
	Nonce         *big.Int              // optional
	CertReq       bool
}

// RequestError is returned by ParseRequest; Fail is the PKIFailureInfo the
// TSA answers with.
type RequestError struct {
	Fail FailureInfo
	Msg  string
}

func (e *RequestError) Error() string {
	return "tsa: bad request: " + e.Msg + " (" + e.Fail.String() + ")"
}

func reqErr(f FailureInfo, msg string) error { return &RequestError{Fail: f, Msg: msg} }

// Marshal returns the DER of the request.
func (r *Request) Marshal() ([]byte, error) {
	oid, ok := cms.HashOID(r.HashAlgorithm)
	if !ok {
		return nil, fmt.Errorf("tsa: marshal request: unsupported hash %v", r.HashAlgorithm)
	}
	if len(r.HashedMessage) != r.HashAlgorithm.Size() {
		return nil, fmt.Errorf("tsa: marshal request: digest is %d bytes, %v needs %d", len(r.HashedMessage), r.HashAlgorithm, r.HashAlgorithm.Size())
	}
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		addImprint(b, oid, r.HashedMessage)
		if r.Policy != nil {
			b.AddASN1ObjectIdentifier(r.Policy)
		}
		if r.Nonce != nil {
			b.AddASN1BigInt(r.Nonce)
		}
		if r.CertReq {
			b.AddASN1Boolean(true)
		}
	})
	return b.Bytes()
}

func addImprint(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, msg []byte) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1NULL()
		})
		b.AddASN1OctetString(msg)
	})
}

// readImprint reads a MessageImprint; hash algorithms other than SHA-256/384/512 fail with badAlg.
func readImprint(s *cryptobyte.String) (crypto.Hash, []byte, error) {
	var mi, alg, msg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&mi, cbasn1.SEQUENCE) || !mi.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) ||
		!mi.ReadASN1(&msg, cbasn1.OCTET_STRING) || !mi.Empty() {
		return 0, nil, reqErr(FailBadDataFormat, "malformed messageImprint")
	}
	if !alg.Empty() {
		var null cryptobyte.String
		if !alg.ReadASN1(&null, cbasn1.NULL) || len(null) != 0 || !alg.Empty() {
			return 0, nil, reqErr(FailBadDataFormat, "malformed hash algorithm parameters")
		}
	}
	h, ok := cms.HashFromOID(oid)
	if !ok {
		return 0, nil, reqErr(FailBadAlg, "unsupported hash algorithm "+oid.String())
	}
	if len(msg) != h.Size() {
		return 0, nil, reqErr(FailBadDataFormat, "hashedMessage length does not match the hash algorithm")
	}
	return h, bytes.Clone(msg), nil
}

func readNonce(s *cryptobyte.String) (*big.Int, bool) {
	var raw cryptobyte.String
	if !s.PeekASN1Tag(cbasn1.INTEGER) {
		return nil, true
	}
	c := *s
	if !c.ReadASN1(&raw, cbasn1.INTEGER) || len(raw) > maxNonceBytes+1 {
		return nil, false
	}
	n := new(big.Int)
	if !s.ReadASN1Integer(n) {
		return nil, false
	}
	return n, true
}

// ParseRequest parses a DER TimeStampReq. Errors are *RequestError.
func ParseRequest(der []byte) (*Request, error) {
	in := cryptobyte.String(der)
	var body cryptobyte.String
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, reqErr(FailBadDataFormat, "not a DER TimeStampReq")
	}
	var v int
	if !body.ReadASN1Integer(&v) {
		return nil, reqErr(FailBadDataFormat, "malformed version")
	}
	if v != 1 {
		return nil, reqErr(FailBadRequest, "unsupported version")
	}
	r := &Request{}
	var err error
	if r.HashAlgorithm, r.HashedMessage, err = readImprint(&body); err != nil {
		return nil, err
	}
	if body.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER) {
		if !body.ReadASN1ObjectIdentifier(&r.Policy) {
			return nil, reqErr(FailBadDataFormat, "malformed reqPolicy")
		}
	}
	var ok bool
	if r.Nonce, ok = readNonce(&body); !ok {
		return nil, reqErr(FailBadDataFormat, "malformed or oversized nonce")
	}
	if body.PeekASN1Tag(cbasn1.BOOLEAN) {
		if !body.ReadASN1Boolean(&r.CertReq) || !r.CertReq { // DER omits the DEFAULT FALSE
			return nil, reqErr(FailBadDataFormat, "malformed certReq")
		}
	}
	if body.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, reqErr(FailUnacceptedExtension, "request extensions are not supported")
	}
	if !body.Empty() {
		return nil, reqErr(FailBadDataFormat, "trailing data in TimeStampReq")
	}
	return r, nil
}

// TSTInfo is the content of a time-stamp token (RFC 3161 §2.4.2).
type TSTInfo struct {
	Version       int
	Policy        asn1.ObjectIdentifier
	HashAlgorithm crypto.Hash
	HashedMessage []byte
	SerialNumber  *big.Int
	GenTime       time.Time
	Accuracy      time.Duration // 0 when absent
	Ordering      bool
	Nonce         *big.Int // nil when absent
	TSAName       []byte   // DER of the GeneralName, nil when absent
	Raw           []byte
}

func formatGenTime(t time.Time) string {
	return t.UTC().Format("20060102150405.999999Z")
}

// Marshal returns the DER of the TSTInfo (Raw is ignored).
func (ti *TSTInfo) Marshal() ([]byte, error) {
	oid, ok := cms.HashOID(ti.HashAlgorithm)
	if !ok {
		return nil, fmt.Errorf("tsa: marshal TSTInfo: unsupported hash %v", ti.HashAlgorithm)
	}
	if ti.SerialNumber == nil || ti.Policy == nil {
		return nil, errors.New("tsa: marshal TSTInfo: serial number and policy are required")
	}
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1ObjectIdentifier(ti.Policy)
		addImprint(b, oid, ti.HashedMessage)
		b.AddASN1BigInt(ti.SerialNumber)
		b.AddASN1(cbasn1.GeneralizedTime, func(b *cryptobyte.Builder) { b.AddBytes([]byte(formatGenTime(ti.GenTime))) })
		if a := ti.Accuracy; a > 0 {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				if s := int64(a / time.Second); s > 0 {
					b.AddASN1Int64(s)
				}
				if ms := int64(a % time.Second / time.Millisecond); ms > 0 {
					b.AddASN1Int64WithTag(ms, cbasn1.Tag(0).ContextSpecific())
				}
				if us := int64(a % time.Millisecond / time.Microsecond); us > 0 {
					b.AddASN1Int64WithTag(us, cbasn1.Tag(1).ContextSpecific())
				}
			})
		}
		if ti.Ordering {
			b.AddASN1Boolean(true)
		}
		if ti.Nonce != nil {
			b.AddASN1BigInt(ti.Nonce)
		}
		if ti.TSAName != nil {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(ti.TSAName) })
		}
	})
	return b.Bytes()
}

// ParseTSTInfo parses a DER TSTInfo strictly. Critical extensions are refused.
func ParseTSTInfo(der []byte) (*TSTInfo, error) {
	bad := func(what string) error { return fmt.Errorf("tsa: malformed TSTInfo: %s", what) }
	in := cryptobyte.String(der)
	var body cryptobyte.String
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, bad("not a DER SEQUENCE")
	}
	ti := &TSTInfo{Raw: bytes.Clone(der), SerialNumber: new(big.Int)}
	if !body.ReadASN1Integer(&ti.Version) || ti.Version != 1 {
		return nil, bad("version")
	}
	if !body.ReadASN1ObjectIdentifier(&ti.Policy) {
		return nil, bad("policy")
	}
	var err error
	if ti.HashAlgorithm, ti.HashedMessage, err = readImprint(&body); err != nil {
		return nil, fmt.Errorf("tsa: TSTInfo: %w", err)
	}
	if !body.ReadASN1Integer(ti.SerialNumber) || ti.SerialNumber.Sign() < 0 {
		return nil, bad("serialNumber")
	}
	var gt cryptobyte.String
	if !body.ReadASN1(&gt, cbasn1.GeneralizedTime) {
		return nil, bad("genTime")
	}
	if ti.GenTime, err = parseGenTime(string(gt)); err != nil {
		return nil, bad("genTime: " + err.Error())
	}
	if body.PeekASN1Tag(cbasn1.SEQUENCE) {
		var acc cryptobyte.String
		body.ReadASN1(&acc, cbasn1.SEQUENCE)
		var s, ms, us int64
		if acc.PeekASN1Tag(cbasn1.INTEGER) && (!acc.ReadASN1Int64WithTag(&s, cbasn1.INTEGER) || s < 0 || s > 1<<20) {
			return nil, bad("accuracy seconds")
		}
		if acc.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()) && (!acc.ReadASN1Int64WithTag(&ms, cbasn1.Tag(0).ContextSpecific()) || ms < 1 || ms > 999) {
			return nil, bad("accuracy millis")
		}
		if acc.PeekASN1Tag(cbasn1.Tag(1).ContextSpecific()) && (!acc.ReadASN1Int64WithTag(&us, cbasn1.Tag(1).ContextSpecific()) || us < 1 || us > 999) {
			return nil, bad("accuracy micros")
		}
		if !acc.Empty() {
			return nil, bad("accuracy")
		}
		ti.Accuracy = time.Duration(s)*time.Second + time.Duration(ms)*time.Millisecond + time.Duration(us)*time.Microsecond
	}
	if body.PeekASN1Tag(cbasn1.BOOLEAN) && !body.ReadASN1Boolean(&ti.Ordering) {
		return nil, bad("ordering")
	}
	var ok bool
	if ti.Nonce, ok = readNonce(&body); !ok {
		return nil, bad("nonce")
	}
	if body.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		var name cryptobyte.String
		if !body.ReadASN1(&name, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return nil, bad("tsa")
		}
		ti.TSAName = bytes.Clone(name)
	}
	if body.PeekASN1Tag(cbasn1.Tag(1).Constructed().ContextSpecific()) {
		var exts cryptobyte.String
		if !body.ReadASN1(&exts, cbasn1.Tag(1).Constructed().ContextSpecific()) {
			return nil, bad("extensions")
		}
		for !exts.Empty() {
			var ext cryptobyte.String
			var oid asn1.ObjectIdentifier
			critical := false
			if !exts.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&oid) ||
				!ext.ReadOptionalASN1Boolean(&critical, cbasn1.BOOLEAN, false) {
				return nil, bad("extension")
			}
			if critical {
				return nil, bad("unknown critical extension " + oid.String())
			}
		}
	}
	if !body.Empty() {
		return nil, bad("trailing data")
	}
	return ti, nil
}

// parseGenTime parses a DER GeneralizedTime with optional fractional seconds.
func parseGenTime(s string) (time.Time, error) {
	if len(s) < 15 || len(s) > 32 || !strings.HasSuffix(s, "Z") {
		return time.Time{}, errors.New("not YYYYMMDDhhmmss[.f]Z")
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		frac := s[i+1 : len(s)-1]
		if i != 14 || frac == "" || strings.HasSuffix(frac, "0") || strings.Trim(frac, "0123456789") != "" {
			return time.Time{}, errors.New("bad fractional seconds")
		}
	} else if len(s) != 15 {
		return time.Time{}, errors.New("not YYYYMMDDhhmmssZ")
	}
	return time.Parse("20060102150405Z", s)
}

// Response is a TimeStampResp.
type Response struct {
	Status       int
	StatusString []string
	FailInfo     FailureInfo // -1 when absent
	Token        []byte      // DER of the TimeStampToken ContentInfo, nil unless granted
}

func marshalResponse(status int, fail FailureInfo, text string, token []byte) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(status))
			if text != "" {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(text)) })
				})
			}
			if fail >= 0 {
				n := int(fail)
				bits := make([]byte, n/8+1)
				bits[n/8] = 0x80 >> (n % 8)
				b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
					b.AddUint8(uint8(7 - n%8))
					b.AddBytes(bits)
				})
			}
		})
		if token != nil {
			b.AddBytes(token)
		}
	})
	return b.BytesOrPanic()
}

// ParseResponse parses a DER TimeStampResp.
func ParseResponse(der []byte) (*Response, error) {
	bad := func(what string) error { return fmt.Errorf("tsa: malformed TimeStampResp: %s", what) }
	in := cryptobyte.String(der)
	var body, si cryptobyte.String
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) || !in.Empty() || !body.ReadASN1(&si, cbasn1.SEQUENCE) {
		return nil, bad("structure")
	}
	r := &Response{FailInfo: failNone}
	if !si.ReadASN1Integer(&r.Status) || r.Status < 0 || r.Status > 5 {
		return nil, bad("status")
	}
	if si.PeekASN1Tag(cbasn1.SEQUENCE) {
		var texts cryptobyte.String
		si.ReadASN1(&texts, cbasn1.SEQUENCE)
		for !texts.Empty() && len(r.StatusString) < 8 {
			var t cryptobyte.String
			if !texts.ReadASN1(&t, cbasn1.UTF8String) {
				return nil, bad("statusString")
			}
			r.StatusString = append(r.StatusString, strings.ToValidUTF8(string(t), "?"))
		}
	}
	if si.PeekASN1Tag(cbasn1.BIT_STRING) {
		var bs asn1.BitString
		if !si.ReadASN1BitString(&bs) {
			return nil, bad("failInfo")
		}
		for i := 0; i < bs.BitLength && i < 32; i++ {
			if bs.At(i) == 1 {
				r.FailInfo = FailureInfo(i)
				break
			}
		}
	}
	if !si.Empty() {
		return nil, bad("status info")
	}
	if !body.Empty() {
		var tok cryptobyte.String
		if !body.ReadASN1Element(&tok, cbasn1.SEQUENCE) || !body.Empty() {
			return nil, bad("timeStampToken")
		}
		r.Token = bytes.Clone(tok)
	}
	if (r.Status == StatusGranted || r.Status == StatusGrantedWithMods) != (r.Token != nil) {
		return nil, bad("token presence does not match status")
	}
	return r, nil
}
