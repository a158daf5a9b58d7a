// Package hsm signs with private keys kept in a PKCS#11 token (a hardware
// security module, or SoftHSM2 in development and tests): the key never
// leaves the token, which is given the digest and returns the signature
// (docs/key-custody.md). RSA keys sign with PKCS #1 v1.5 or PSS, ECDSA keys
// on P-256 and P-384.
//
// The PKCS#11 client (github.com/ThalesGroup/crypto11 over
// github.com/miekg/pkcs11) needs cgo: it is compiled when cgo is on, and a
// build without cgo has an Opener that explains itself and refuses
// (nocgo.go). The reference and error handling here build everywhere.
package hsm

import (
	"fmt"
	"strconv"
	"strings"
)

// Ref names a key in a token: the token by its label or slot number, the
// key pair by its label (CKA_LABEL). Stored as the cert table's key_ref:
// "token=LABEL;key=LABEL" or "slot=N;key=LABEL".
type Ref struct {
	Token string // token label; or
	Slot  *int   // slot number
	Key   string // the key pair's CKA_LABEL
}

// ParseRef reads a Ref from its String form.
func ParseRef(s string) (Ref, error) {
	var r Ref
	for part := range strings.SplitSeq(s, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Ref{}, fmt.Errorf("PKCS#11 key reference %q: %q is not name=value", s, part)
		}
		switch k {
		case "token":
			r.Token = v
		case "slot":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return Ref{}, fmt.Errorf("PKCS#11 key reference %q: slot %q is not a slot number", s, v)
			}
			r.Slot = &n
		case "key":
			r.Key = v
		default:
			return Ref{}, fmt.Errorf("PKCS#11 key reference %q: unknown field %q", s, k)
		}
	}
	return r, r.check()
}

func (r Ref) check() error {
	switch {
	case r.Key == "":
		return fmt.Errorf("PKCS#11 key reference: the key label is missing")
	case (r.Token == "") == (r.Slot == nil):
		return fmt.Errorf("PKCS#11 key reference: name the token by exactly one of its label or slot")
	case strings.ContainsAny(r.Token+r.Key, ";="):
		return fmt.Errorf("PKCS#11 key reference: labels with ; or = are not supported")
	}
	return nil
}

// String is the stored form.
func (r Ref) String() string {
	if r.Slot != nil {
		return fmt.Sprintf("slot=%d;key=%s", *r.Slot, r.Key)
	}
	return "token=" + r.Token + ";key=" + r.Key
}

// Config is how the token is reached: the deployment's pkcs11.module and
// pkcs11.pin.
type Config struct {
	Module string // path of the PKCS#11 library (.so)
	PIN    string // the token user's PIN
}
