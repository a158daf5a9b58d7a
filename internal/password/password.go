// Package password hashes and verifies customer and operator passwords with
// Argon2id (RFC 9106), stored as PHC strings:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>     (unpadded standard base64)
//
// The default parameters are the OWASP Password Storage Cheat Sheet's first
// Argon2id configuration: 19 MiB of memory, 2 iterations, parallelism 1,
// with a 16-byte random salt and a 32-byte hash. Verify compares in constant
// time and reports when a stored hash uses weaker parameters than the
// current ones, so it can be re-hashed at the next successful login.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"

	"esign/internal/esign"
)

// Params are Argon2id parameters.
type Params struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
	SaltLen     uint32
	KeyLen      uint32
}

// DefaultParams follow OWASP: m=19456 KiB (19 MiB), t=2, p=1.
var DefaultParams = Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// Limits on parameters read from stored hashes and on password length, so a
// crafted hash or password cannot exhaust memory or CPU.
const (
	MaxPasswordLen = 1024
	maxMemory      = 256 * 1024 // KiB
	maxIterations  = 16
	maxParallelism = 16
)

// ErrMismatch is returned by Verify when the password is wrong.
var ErrMismatch = errors.New("password: mismatch")

var b64 = base64.RawStdEncoding

// Hash returns the PHC string of password with DefaultParams.
func Hash(password string) (string, error) { return HashWithParams(password, DefaultParams) }

// HashWithParams returns the PHC string of password with p.
func HashWithParams(password string, p Params) (string, error) {
	const op = "password.Hash"
	if len(password) > MaxPasswordLen {
		return "", esign.E(op, esign.Invalid, "the password is too long")
	}
	if err := p.check(); err != nil {
		return "", esign.E(op, esign.Invalid, err)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", esign.E(op, err)
	}
	return encode(password, salt, p), nil
}

func encode(password string, salt []byte, p Params) string {
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Iterations, p.Parallelism,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

func (p Params) check() error {
	switch {
	case p.Memory < 8*uint32(p.Parallelism) || p.Memory > maxMemory:
		return errors.New("argon2 memory out of range")
	case p.Iterations < 1 || p.Iterations > maxIterations:
		return errors.New("argon2 iterations out of range")
	case p.Parallelism < 1 || p.Parallelism > maxParallelism:
		return errors.New("argon2 parallelism out of range")
	case p.SaltLen < 8 || p.SaltLen > 64:
		return errors.New("salt length out of range")
	case p.KeyLen < 16 || p.KeyLen > 64:
		return errors.New("hash length out of range")
	}
	return nil
}

// weaker reports whether p costs less than q in any dimension.
func (p Params) weaker(q Params) bool {
	return p.Memory < q.Memory || p.Iterations < q.Iterations || p.KeyLen < q.KeyLen || p.SaltLen < q.SaltLen
}

// Decode parses a PHC argon2id string into its parameters, salt and hash.
func Decode(encoded string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("password: not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version || parts[2] != fmt.Sprintf("v=%d", v) {
		return p, nil, nil, errors.New("password: unsupported argon2 version")
	}
	var m, t, par uint64
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &par); err != nil || n != 3 ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", m, t, par) || m > maxMemory || t > maxIterations || par > maxParallelism {
		return p, nil, nil, errors.New("password: bad argon2 parameters")
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, errors.New("password: bad salt")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return p, nil, nil, errors.New("password: bad hash")
	}
	p = Params{Memory: uint32(m), Iterations: uint32(t), Parallelism: uint8(par), SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	if err := p.check(); err != nil {
		return p, nil, nil, fmt.Errorf("password: %w", err)
	}
	return p, salt, key, nil
}

// Verify checks password against a PHC string made by Hash. It returns nil
// on a match, ErrMismatch (kind Unauthorized) on a wrong password and an
// Invalid error when encoded is malformed. needsRehash is true on a match
// whose parameters are weaker than DefaultParams.
func Verify(password, encoded string) (needsRehash bool, err error) {
	const op = "password.Verify"
	if len(password) > MaxPasswordLen {
		return false, esign.E(op, esign.Unauthorized, ErrMismatch)
	}
	p, salt, key, err := Decode(encoded)
	if err != nil {
		return false, esign.E(op, esign.Invalid, err)
	}
	got := argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, esign.E(op, esign.Unauthorized, ErrMismatch)
	}
	return p.weaker(DefaultParams), nil
}

// dummyHash is verified against when the user does not exist, so that the
// response time does not reveal which usernames exist.
var dummyHash = sync.OnceValue(func() string {
	h, _ := Hash("esign dummy password") // cannot fail: DefaultParams are valid
	return h
})

// VerifyDummy spends the same time as Verify on a non-existent account and
// always returns ErrMismatch.
func VerifyDummy(password string) error {
	Verify(password, dummyHash())
	return esign.E("password.Verify", esign.Unauthorized, ErrMismatch)
}
