package envelope

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha256"
	"errors"
	"fmt"

	"esign/internal/esign"
)

// Legacy decrypts the spec's original format (server/gcm.js of the system
// we replace). Our reading of it, documented with test vectors in
// docs/crypto.md:
//
//	salt (SaltSize bytes, 64) || IV (12) || GCM tag (16) || ciphertext
//	key = PBKDF2-HMAC-SHA256(password = Secret, salt, Iterations = 5000, 32 bytes)
//
// Secret is the configured 32-character Base62 master key, used as the
// PBKDF2 password in its text form. The text form of a legacy ciphertext is
// standard base64 of these bytes. Legacy is read-only: new data is always
// written in the envelope format.
type Legacy struct {
	Secret     string
	SaltSize   int // default 64
	Iterations int // default 5000
}

// MaxLegacySize bounds a legacy ciphertext: the format has its tag in front
// of the data and no chunking, so it can only be opened in memory.
const MaxLegacySize = 256 << 20

// Decrypt opens a legacy ciphertext.
func (l *Legacy) Decrypt(b []byte) ([]byte, error) {
	const op = "envelope.Legacy.Decrypt"
	if l == nil || l.Secret == "" {
		return nil, esign.E(op, esign.Invalid, errors.New("no legacy secret configured"))
	}
	saltSize, iter := l.SaltSize, l.Iterations
	if saltSize <= 0 {
		saltSize = 64
	}
	if iter <= 0 {
		iter = 5000
	}
	if len(b) < saltSize+nonceSize+tagSize || len(b) > MaxLegacySize {
		return nil, esign.E(op, esign.Invalid, fmt.Errorf("%w: legacy ciphertext has a bad length", ErrDecrypt))
	}
	salt := b[:saltSize]
	iv := b[saltSize : saltSize+nonceSize]
	tag := b[saltSize+nonceSize : saltSize+nonceSize+tagSize]
	ct := b[saltSize+nonceSize+tagSize:]
	key, err := pbkdf2.Key(sha256.New, l.Secret, salt, iter, KeySize)
	if err != nil {
		return nil, esign.E(op, err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, esign.E(op, err)
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, esign.E(op, err)
	}
	sealed := make([]byte, 0, len(ct)+tagSize)
	sealed = append(append(sealed, ct...), tag...)
	pt, err := g.Open(nil, iv, sealed, nil)
	if err != nil {
		return nil, esign.E(op, esign.Invalid, ErrDecrypt)
	}
	return pt, nil
}
