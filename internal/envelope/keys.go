package envelope

import (
	"crypto/rand"
	"encoding/base64"
	"strings"

	"golang.org/x/crypto/argon2"

	"esign/internal/esign"
)

// ParseKeys builds a keyring from a configuration string of comma-separated
// "id:base64key" entries (standard base64 of 32 bytes); the first entry is
// the primary. Example (two keys, rotating to 2026-11):
//
//	2026-11:q1w2…=,2025-01:z9x8…=
func ParseKeys(spec string) (*Keyring, error) {
	const op = "envelope.ParseKeys"
	keys := map[string][]byte{}
	primary := ""
	for _, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		id, b64, ok := strings.Cut(entry, ":")
		if !ok {
			return nil, esign.E(op, esign.Invalid, "a key entry must be id:base64key")
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, esign.Errorf(op, esign.Invalid, "key %q is not valid base64", id)
		}
		if _, dup := keys[id]; dup {
			return nil, esign.Errorf(op, esign.Invalid, "key id %q appears twice", id)
		}
		keys[id] = key
		if primary == "" {
			primary = id
		}
	}
	if primary == "" {
		return nil, esign.E(op, esign.Invalid, "no envelope keys configured")
	}
	return NewKeyring(primary, keys)
}

// GenerateKey returns a new random key-encryption key.
func GenerateKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, esign.E("envelope.GenerateKey", err)
	}
	return k, nil
}

// Passphrase KDF parameters: Argon2id with RFC 9106's second recommended
// option (64 MiB, 3 passes, 4 lanes).
const (
	PassphraseMemory  = 64 * 1024 // KiB
	PassphraseTime    = 3
	PassphraseThreads = 4
)

// KeyFromPassphrase derives a key-encryption key from an operator passphrase
// with Argon2id (see the Passphrase* constants). salt must be at least 16
// random bytes, stored with the configuration; it replaces the spec's
// PBKDF2-SHA256 with 5000 iterations.
func KeyFromPassphrase(passphrase string, salt []byte) ([]byte, error) {
	const op = "envelope.KeyFromPassphrase"
	if len(passphrase) < 12 {
		return nil, esign.E(op, esign.Invalid, "the passphrase must have at least 12 characters")
	}
	if len(salt) < 16 {
		return nil, esign.E(op, esign.Invalid, "the salt must have at least 16 bytes")
	}
	return argon2.IDKey([]byte(passphrase), salt, PassphraseTime, PassphraseMemory, PassphraseThreads, KeySize), nil
}
