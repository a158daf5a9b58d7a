// Package envelopetest makes ciphertexts in the legacy format of the system
// esign replaces, for tests of the code that reads and upgrades them: esign
// itself only reads that format (envelope.Legacy), it never writes it.
package envelopetest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"esign/internal/envelope"
)

// LegacyIterations is the PBKDF2 iteration count of the legacy format.
const LegacyIterations = 5000

// LegacySeal encrypts plaintext in the legacy format, as docs/crypto.md
// ("Legacy format") describes it: salt ‖ IV (12 bytes) ‖ GCM tag ‖
// ciphertext, with the key PBKDF2-HMAC-SHA256(secret, salt, 5000, 32). The
// salt is 64 bytes in the format (envelope.Legacy's default SaltSize).
func LegacySeal(secret string, salt, iv, plaintext []byte) ([]byte, error) {
	key, err := pbkdf2.Key(sha256.New, secret, salt, LegacyIterations, envelope.KeySize)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sealed := g.Seal(nil, iv, plaintext, nil) // ciphertext ‖ tag
	ct, tag := sealed[:len(plaintext)], sealed[len(plaintext):]
	out := make([]byte, 0, len(salt)+len(iv)+len(sealed))
	out = append(append(append(out, salt...), iv...), tag...)
	return append(out, ct...), nil
}

// LegacyEncrypt encrypts plaintext in the legacy format with a random
// 64-byte salt and IV, as the old system wrote certificate passwords and
// secrets.
func LegacyEncrypt(tb testing.TB, secret string, plaintext []byte) []byte {
	tb.Helper()
	salt, iv := make([]byte, 64), make([]byte, 12)
	rand.Read(salt)
	rand.Read(iv)
	b, err := LegacySeal(secret, salt, iv, plaintext)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
