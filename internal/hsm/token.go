//go:build cgo

package hsm

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"

	"esign/internal/esign"
	"esign/internal/signer"
)

// Available reports whether this build can reach PKCS#11 tokens (it was
// compiled with cgo).
const Available = true

// Opener opens keys in the tokens of one PKCS#11 module; it implements
// signer.Opener. After the token refused the PIN it does not log in again
// (a token locks its user after a few wrong PINs): pdfservice must be
// restarted with the right pkcs11.pin.
type Opener struct {
	Config Config

	mu         sync.Mutex
	pinRefused error
}

// Open implements signer.Opener: it logs in to the token ref names and
// finds the key pair. Errors: Invalid (a bad ref), Unavailable (the module,
// the token or the key cannot be reached, the PIN is refused).
func (o *Opener) Open(ctx context.Context, ref string) (signer.Signer, error) {
	const op = "hsm.Open"
	r, err := ParseRef(ref)
	if err != nil {
		return nil, esign.E(op, esign.Invalid, err.Error())
	}
	k := &Key{o: o, ref: r}
	c, s, err := k.connect()
	if err != nil {
		return nil, err
	}
	k.c, k.s, k.pub = c, s, s.Public()
	return k, nil
}

// Key is a key pair in a token. The private key object stays in the
// token: Key holds its handle and a session pool (crypto11.Context), and
// Sign sends the digest to the token. A session that fails is dropped and
// the next Sign or Check logs in again, so a token that was away (an HSM
// restarted, a network HSM's link down) is used again when it is back.
type Key struct {
	o   *Opener
	ref Ref
	pub crypto.PublicKey // of the key first found; a reconnection must find the same

	mu sync.RWMutex
	c  *crypto11.Context
	s  crypto11.Signer
}

// connect logs in to the token and finds the key pair.
func (k *Key) connect() (*crypto11.Context, crypto11.Signer, error) {
	const op = "hsm.connect"
	k.o.mu.Lock()
	refused := k.o.pinRefused
	k.o.mu.Unlock()
	if refused != nil {
		return nil, nil, refused
	}
	if _, err := os.Stat(k.o.Config.Module); err != nil {
		return nil, nil, esign.E(op, esign.Unavailable, fmt.Sprintf("cannot load the PKCS#11 module %s (pkcs11.module)", k.o.Config.Module), err)
	}
	cfg := &crypto11.Config{Path: k.o.Config.Module, TokenLabel: k.ref.Token, SlotNumber: k.ref.Slot, Pin: k.o.Config.PIN}
	c, err := crypto11.Configure(cfg)
	if err != nil {
		return nil, nil, k.o.loginError(k.ref, err)
	}
	s, err := c.FindKeyPair(nil, []byte(k.ref.Key))
	if err == nil && s == nil {
		err = fmt.Errorf("no key pair labelled %q", k.ref.Key)
	}
	if err != nil {
		_ = c.Close()
		return nil, nil, esign.E(op, esign.Unavailable, fmt.Sprintf("cannot find the signing key %q in the PKCS#11 token (%s)", k.ref.Key, k.ref), err)
	}
	if k.pub != nil {
		if same, ok := k.pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !same.Equal(s.Public()) {
			_ = c.Close()
			return nil, nil, esign.E(op, esign.Unavailable, fmt.Sprintf("the key labelled %q in the PKCS#11 token is no longer the certificate's key", k.ref.Key))
		}
	}
	return c, s, nil
}

// loginError explains a failed crypto11.Configure; a refused PIN is
// remembered so that it is not tried again.
func (o *Opener) loginError(r Ref, err error) error {
	const op = "hsm.login"
	var p11 pkcs11.Error
	if errors.As(err, &p11) {
		switch p11 {
		case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_INVALID, pkcs11.CKR_PIN_LEN_RANGE, pkcs11.CKR_PIN_EXPIRED, pkcs11.CKR_PIN_LOCKED:
			e := esign.E(op, esign.Unavailable, fmt.Sprintf("the PKCS#11 token (%s) refused the PIN (%s): set the right pkcs11.pin and restart; not tried again, so as not to lock the token", r, p11.Error()))
			o.mu.Lock()
			o.pinRefused = e
			o.mu.Unlock()
			return e
		}
	}
	return esign.E(op, esign.Unavailable, fmt.Sprintf("cannot open the PKCS#11 token (%s) with module %s", r, o.Config.Module), err)
}

// current returns the session pool and key, connecting when there is none.
func (k *Key) current() (*crypto11.Context, crypto11.Signer, error) {
	k.mu.RLock()
	c, s := k.c, k.s
	k.mu.RUnlock()
	if c != nil {
		return c, s, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.c != nil {
		return k.c, k.s, nil
	}
	c, s, err := k.connect()
	if err != nil {
		return nil, nil, err
	}
	k.c, k.s = c, s
	return c, s, nil
}

// drop closes c if it is still the current session pool.
func (k *Key) drop(c *crypto11.Context) {
	k.mu.Lock()
	mine := k.c == c
	if mine {
		k.c, k.s = nil, nil
	}
	k.mu.Unlock()
	if !mine {
		return // another caller dropped it (and closes it)
	}
	// Closing waits for the pool's sessions to come back: not under
	// k.mu, but before the caller returns, so that the module is
	// finalised when no other key uses it and the next connection
	// initialises it afresh (SoftHSM2 finds its tokens only then).
	_ = c.Close()
}

// Public implements crypto.Signer.
func (k *Key) Public() crypto.PublicKey { return k.pub }

// Sign implements crypto.Signer: the token signs digest. opts is a
// crypto.Hash (RSA PKCS #1 v1.5, ECDSA) or *rsa.PSSOptions with
// rsa.PSSSaltLengthEqualsHash or an explicit salt length. Errors:
// Unavailable.
func (k *Key) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	const op = "hsm.Sign"
	c, s, err := k.current()
	if err != nil {
		return nil, err
	}
	sig, err := s.Sign(rand.Reader, digest, opts)
	if err != nil {
		k.drop(c)
		return nil, esign.E(op, esign.Unavailable, fmt.Sprintf("the PKCS#11 token (%s) did not sign", k.ref), err)
	}
	return sig, nil
}

// Check implements signer.Signer: it reads the private key object's label
// from the token, which needs the token present and the session logged in.
func (k *Key) Check(ctx context.Context) error {
	const op = "hsm.Check"
	c, s, err := k.current()
	if err != nil {
		return err
	}
	if _, err := c.GetAttribute(s, crypto11.CkaLabel); err != nil {
		k.drop(c)
		return esign.E(op, esign.Unavailable, fmt.Sprintf("the PKCS#11 token (%s) does not answer", k.ref), err)
	}
	return nil
}

// Certificates implements signer.Certified: the certificate object of the
// token labelled like the key, if any (tokens rarely hold the issuers).
func (k *Key) Certificates(ctx context.Context) ([]*x509.Certificate, error) {
	const op = "hsm.Certificates"
	c, _, err := k.current()
	if err != nil {
		return nil, err
	}
	cert, err := c.FindCertificate(nil, []byte(k.ref.Key), nil)
	if err != nil {
		return nil, esign.E(op, esign.Unavailable, "cannot read the token's certificates", err)
	}
	if cert == nil {
		return nil, nil
	}
	return []*x509.Certificate{cert}, nil
}

// Close implements signer.Signer.
func (k *Key) Close() error {
	k.mu.Lock()
	c := k.c
	k.c, k.s = nil, nil
	k.mu.Unlock()
	if c != nil {
		return c.Close()
	}
	return nil
}
