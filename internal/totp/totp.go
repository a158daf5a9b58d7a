// Package totp implements time-based one-time passwords (RFC 6238, on the
// HOTP of RFC 4226) for the operators' second factor, and the otpauth URI
// that authenticator apps read from a QR code.
//
// The defaults are what every authenticator app understands: HMAC-SHA1,
// 6 digits, a 30-second step. Verification accepts the neighbouring steps
// (clock skew) and returns the step a code matched, so that the caller can
// refuse a second use of the same or an older step (replay).
package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"strings"
	"time"
)

// Algorithm is the HMAC hash of the codes.
type Algorithm string

// The algorithms of RFC 6238.
const (
	SHA1   Algorithm = "SHA1"
	SHA256 Algorithm = "SHA256"
	SHA512 Algorithm = "SHA512"
)

func (a Algorithm) hash() (func() hash.Hash, error) {
	switch a {
	case SHA1, "":
		return sha1.New, nil
	case SHA256:
		return sha256.New, nil
	case SHA512:
		return sha512.New, nil
	}
	return nil, fmt.Errorf("totp: unknown algorithm %q", string(a))
}

// Params are the code parameters; the zero value means the defaults.
type Params struct {
	Algorithm Algorithm     // default SHA1
	Digits    int           // 6 to 10; default 6
	Period    time.Duration // default 30s
	Skew      int           // steps accepted on either side when verifying; default 1
}

func (p Params) withDefaults() Params {
	if p.Algorithm == "" {
		p.Algorithm = SHA1
	}
	if p.Digits == 0 {
		p.Digits = 6
	}
	if p.Period <= 0 {
		p.Period = 30 * time.Second
	}
	if p.Skew == 0 {
		p.Skew = 1
	}
	if p.Skew < 0 {
		p.Skew = 0
	}
	return p
}

// SecretSize is the length of a generated secret: 160 bits, the size RFC
// 4226 recommends for HMAC-SHA1.
const SecretSize = 20

// NewSecret returns a random secret.
func NewSecret() []byte {
	b := make([]byte, SecretSize)
	rand.Read(b)
	return b
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Encode returns the secret in the unpadded base32 form that people type
// into authenticator apps.
func Encode(secret []byte) string { return b32.EncodeToString(secret) }

// Decode parses a base32 secret, ignoring case, spaces and padding.
func Decode(s string) ([]byte, error) {
	s = strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "=", "").Replace(s))
	b, err := b32.DecodeString(s)
	if err != nil {
		return nil, errors.New("totp: the secret is not base32")
	}
	return b, nil
}

// Step returns the time step of t.
func (p Params) Step(t time.Time) int64 {
	p = p.withDefaults()
	return t.Unix() / int64(p.Period/time.Second)
}

// Code returns the code of the time step (HOTP of RFC 4226 with the step as
// the counter).
func (p Params) Code(secret []byte, step int64) (string, error) {
	p = p.withDefaults()
	if p.Digits < 6 || p.Digits > 10 {
		return "", fmt.Errorf("totp: %d digits: want 6 to 10", p.Digits)
	}
	h, err := p.Algorithm.hash()
	if err != nil {
		return "", err
	}
	mac := hmac.New(h, secret)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := uint64(binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff)
	mod := uint64(1)
	for range p.Digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", p.Digits, bin%mod), nil
}

// CodeAt returns the code valid at t.
func (p Params) CodeAt(secret []byte, t time.Time) (string, error) {
	return p.Code(secret, p.Step(t))
}

// Verify checks code against the steps around t and returns the step it
// matched. Every candidate is computed and compared in constant time, so
// the time taken does not tell which step matched. The caller must refuse
// a step at or below the last one it accepted (replay).
func (p Params) Verify(secret []byte, code string, t time.Time) (step int64, ok bool) {
	p = p.withDefaults()
	code = strings.ReplaceAll(code, " ", "")
	if len(code) != p.Digits {
		return 0, false
	}
	now := p.Step(t)
	for s := now - int64(p.Skew); s <= now+int64(p.Skew); s++ {
		want, err := p.Code(secret, s)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !ok {
			step, ok = s, true
		}
	}
	return step, ok
}

// URI returns the otpauth:// URI of the Key Uri Format that authenticator
// apps read from a QR code.
func (p Params) URI(issuer, account string, secret []byte) string {
	p = p.withDefaults()
	q := url.Values{}
	q.Set("secret", Encode(secret))
	q.Set("issuer", issuer)
	q.Set("algorithm", string(p.Algorithm))
	q.Set("digits", fmt.Sprint(p.Digits))
	q.Set("period", fmt.Sprint(int(p.Period/time.Second)))
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	return "otpauth://totp/" + label + "?" + q.Encode()
}
