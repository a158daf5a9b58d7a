// Package envelope encrypts data at rest with AES-256-GCM: certificate
// passwords, secrets and stored documents.
//
// Every ciphertext starts with a versioned header naming the key (key id)
// it was made with, so keys can rotate: a Keyring encrypts with its primary
// key and decrypts with any key it holds. Each message gets its own data key,
// derived with HKDF-SHA256 from the key-encryption key and a random 256-bit
// salt in the header, so GCM nonces never repeat across messages.
//
// Three forms share the header: Encrypt/Decrypt (buffers), EncryptString/
// DecryptString (base64url text) and NewWriter/NewReader (chunked AEAD in
// constant memory: every chunk is authenticated, its index and a final-chunk
// flag are in the nonce, so truncation, reordering, chunk swapping and
// splicing between files are all detected).
//
// The spec's legacy format (PBKDF2-SHA256, 5000 iterations) is still
// decrypted by Legacy and upgraded with DecryptUpgrade. See docs/crypto.md.
package envelope

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"esign/internal/esign"
)

// Format constants.
const (
	magic       = "ESGE"
	version1    = 1
	modeBuffer  = 'B'
	modeStream  = 'S'
	saltSize    = 32
	KeySize     = 32 // AES-256
	tagSize     = 16
	nonceSize   = 12
	maxKeyIDLen = 64
)

// ErrDecrypt is wrapped by every failure to authenticate or parse a
// ciphertext; the cause is not revealed beyond that.
var ErrDecrypt = errors.New("envelope: message authentication failed")

// Keyring holds key-encryption keys by id. It is safe for concurrent use
// and immutable after NewKeyring.
type Keyring struct {
	primary string
	keys    map[string][]byte
	legacy  *Legacy
}

// NewKeyring returns a keyring that encrypts with keys[primary]. Key ids are
// 1-64 bytes of [A-Za-z0-9._-]; keys are 32 bytes.
func NewKeyring(primary string, keys map[string][]byte) (*Keyring, error) {
	const op = "envelope.NewKeyring"
	if _, ok := keys[primary]; !ok {
		return nil, esign.E(op, esign.Invalid, "the primary key id is not in the keyring")
	}
	k := &Keyring{primary: primary, keys: make(map[string][]byte, len(keys))}
	for id, key := range keys {
		if !validKeyID(id) {
			return nil, esign.Errorf(op, esign.Invalid, "invalid key id %q", id)
		}
		if len(key) != KeySize {
			return nil, esign.Errorf(op, esign.Invalid, "key %q is %d bytes, want %d", id, len(key), KeySize)
		}
		k.keys[id] = slices.Clone(key)
	}
	return k, nil
}

// WithLegacy returns a copy of k that also decrypts the legacy format.
func (k *Keyring) WithLegacy(l *Legacy) *Keyring {
	c := *k
	c.keys = maps.Clone(k.keys)
	c.legacy = l
	return &c
}

// Primary returns the id of the key new ciphertexts are made with.
func (k *Keyring) Primary() string { return k.primary }

func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > maxKeyIDLen {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// header builds the header for mode with a fresh salt; extra is appended
// (the stream chunk size).
func (k *Keyring) header(mode byte, extra []byte) ([]byte, []byte, error) {
	h := make([]byte, 0, 7+len(k.primary)+saltSize+len(extra))
	h = append(h, magic...)
	h = append(h, version1, mode, byte(len(k.primary)))
	h = append(h, k.primary...)
	salt := make([]byte, saltSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, nil, err
	}
	h = append(h, salt...)
	h = append(h, extra...)
	return h, salt, nil
}

type parsedHeader struct {
	mode  byte
	keyID string
	salt  []byte
	raw   []byte
	rest  []byte
}

// parseHeader reads the common header from b.
func parseHeader(b []byte) (*parsedHeader, error) {
	if len(b) < 7 || string(b[:4]) != magic {
		return nil, fmt.Errorf("%w: not an envelope", ErrDecrypt)
	}
	if b[4] != version1 {
		return nil, fmt.Errorf("%w: unsupported version %d", ErrDecrypt, b[4])
	}
	n := int(b[6])
	if n == 0 || n > maxKeyIDLen || len(b) < 7+n+saltSize {
		return nil, fmt.Errorf("%w: truncated header", ErrDecrypt)
	}
	end := 7 + n + saltSize
	return &parsedHeader{mode: b[5], keyID: string(b[7 : 7+n]), salt: b[7+n : end], raw: b[:end], rest: b[end:]}, nil
}

// aead derives the per-message data key and returns its AES-GCM.
func (k *Keyring) aead(keyID string, salt []byte, mode byte) (cipher.AEAD, error) {
	kek, ok := k.keys[keyID]
	if !ok {
		return nil, fmt.Errorf("%w: unknown key id %q", ErrDecrypt, keyID)
	}
	dek, err := hkdf.Key(sha256.New, kek, salt, "esign envelope v1 "+string(mode), KeySize)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(dek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Encrypt seals plaintext with the primary key. associatedData (may be nil)
// is authenticated but not stored: the same value must be given to Decrypt
// (use it to bind a ciphertext to its row, e.g. "cert/42/password").
func (k *Keyring) Encrypt(plaintext, associatedData []byte) ([]byte, error) {
	h, salt, err := k.header(modeBuffer, nil)
	if err != nil {
		return nil, esign.E("envelope.Encrypt", err)
	}
	g, err := k.aead(k.primary, salt, modeBuffer)
	if err != nil {
		return nil, esign.E("envelope.Encrypt", err)
	}
	var nonce [nonceSize]byte // the data key is unique per message
	out := make([]byte, len(h), len(h)+len(plaintext)+tagSize)
	copy(out, h)
	return g.Seal(out, nonce[:], plaintext, aad(h, associatedData)), nil
}

func aad(header, associatedData []byte) []byte {
	if len(associatedData) == 0 {
		return header
	}
	a := make([]byte, 0, len(header)+8+len(associatedData))
	a = append(a, header...)
	a = binary.BigEndian.AppendUint64(a, uint64(len(associatedData)))
	return append(a, associatedData...)
}

// Decrypt opens a ciphertext made by Encrypt with any key of the keyring.
// When the keyring has a Legacy configured, legacy ciphertexts (without the
// envelope header) are decrypted too.
func (k *Keyring) Decrypt(ciphertext, associatedData []byte) ([]byte, error) {
	pt, _, err := k.decrypt(ciphertext, associatedData)
	return pt, err
}

// IsLegacy reports whether b is not in the current envelope format.
func IsLegacy(b []byte) bool { return len(b) < 4 || string(b[:4]) != magic }

func (k *Keyring) decrypt(ciphertext, associatedData []byte) ([]byte, string, error) {
	const op = "envelope.Decrypt"
	if IsLegacy(ciphertext) && k.legacy != nil {
		pt, err := k.legacy.Decrypt(ciphertext)
		return pt, "", err
	}
	h, err := parseHeader(ciphertext)
	if err != nil {
		return nil, "", esign.E(op, esign.Invalid, err)
	}
	if h.mode != modeBuffer {
		return nil, "", esign.E(op, esign.Invalid, fmt.Errorf("%w: not a buffer envelope", ErrDecrypt))
	}
	if len(h.rest) < tagSize {
		return nil, "", esign.E(op, esign.Invalid, fmt.Errorf("%w: truncated", ErrDecrypt))
	}
	g, err := k.aead(h.keyID, h.salt, modeBuffer)
	if err != nil {
		return nil, "", esign.E(op, esign.Invalid, err)
	}
	var nonce [nonceSize]byte
	pt, err := g.Open(nil, nonce[:], h.rest, aad(h.raw, associatedData))
	if err != nil {
		return nil, "", esign.E(op, esign.Invalid, ErrDecrypt)
	}
	return pt, h.keyID, nil
}

// DecryptUpgrade decrypts like Decrypt and, when the ciphertext is in the
// legacy format or was made with a key other than the primary, also returns
// it re-encrypted with the primary key for the caller to store in place.
// upgraded is nil when the ciphertext is already current.
func (k *Keyring) DecryptUpgrade(ciphertext, associatedData []byte) (plaintext, upgraded []byte, err error) {
	pt, keyID, err := k.decrypt(ciphertext, associatedData)
	if err != nil {
		return nil, nil, err
	}
	if keyID == k.primary {
		return pt, nil, nil
	}
	up, err := k.Encrypt(pt, associatedData)
	if err != nil {
		return nil, nil, err
	}
	return pt, up, nil
}

// EncryptString encrypts s and returns URL-safe base64 text.
func (k *Keyring) EncryptString(s string, associatedData []byte) (string, error) {
	b, err := k.Encrypt([]byte(s), associatedData)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// DecryptString is the inverse of EncryptString. With a Legacy configured it
// also accepts the legacy text form (standard base64).
func (k *Keyring) DecryptString(s string, associatedData []byte) (string, error) {
	pt, _, err := k.decryptString(s, associatedData)
	return string(pt), err
}

// DecryptStringUpgrade is DecryptUpgrade for the string form; upgraded is ""
// when s is already current.
func (k *Keyring) DecryptStringUpgrade(s string, associatedData []byte) (plaintext, upgraded string, err error) {
	pt, up, err := k.decryptString(s, associatedData)
	if err != nil || up == nil {
		return string(pt), "", err
	}
	return string(pt), base64.RawURLEncoding.EncodeToString(up), nil
}

func (k *Keyring) decryptString(s string, associatedData []byte) ([]byte, []byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || IsLegacy(b) {
		if k.legacy == nil {
			return nil, nil, esign.E("envelope.DecryptString", esign.Invalid, fmt.Errorf("%w: not an envelope", ErrDecrypt))
		}
		if b, err = base64.StdEncoding.DecodeString(s); err != nil {
			return nil, nil, esign.E("envelope.DecryptString", esign.Invalid, fmt.Errorf("%w: bad base64", ErrDecrypt))
		}
	}
	return k.DecryptUpgrade(b, associatedData)
}

// DeriveKey returns a 32-byte key for purpose (e.g. "esign/mobile/sms-code-hash/v1"),
// derived from the primary key with HKDF-SHA256, so that every replica
// with the same keyring derives the same key and purposes never share one.
// A new primary key derives a new key.
func (k *Keyring) DeriveKey(purpose string) []byte {
	key, err := hkdf.Key(sha256.New, k.keys[k.primary], nil, purpose, KeySize)
	if err != nil {
		// Only a length beyond 255·32 bytes can fail; KeySize is fixed.
		panic("envelope: hkdf: " + err.Error())
	}
	return key
}
