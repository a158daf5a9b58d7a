// Package seal is the bank's seal over the bus: pdfservice, the only process
// that holds the bank's private key, answers "sign this digest" with a CMS
// SignedData (with its signature time-stamp), and the preparer of a PDF — on
// the machine where the document is — embeds it. Only a 32-byte digest and
// a few kilobytes of CMS cross the bus, whatever the size of the PDF.
package seal

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"esign/internal/bus"
	"esign/internal/cms"
	"esign/internal/envelope"
	"esign/internal/esign"
	"esign/internal/pki"
	"esign/internal/signer"
	"esign/internal/tsa"
)

// MethodSignDigest is the RPC method on bus.QueuePDFService.
const MethodSignDigest = "sign-digest"

// MaxDigests bounds the digests of one request (Digest and More).
const MaxDigests = 64

// SignRequest asks for a CMS signature over a SHA-256 digest.
type SignRequest struct {
	Digest    []byte `json:"digest"`    // SHA-256 of the PDF's ByteRange
	Timestamp bool   `json:"timestamp"` // add the signature time-stamp (PAdES B-T and above)
	// More are further digests signed in the same call, each as Digest
	// (the other documents of one contract: one round trip for all). A
	// pdfservice older than the field signs Digest only and its reply has
	// no More: Client.SignDigests then asks for the rest one by one.
	More [][]byte `json:"more,omitempty"`
}

// SignReply carries the CMS SignedData (DER) and which certificate made it.
type SignReply struct {
	CMS         []byte `json:"cms"`
	Certificate string `json:"certificate"` // SHA-256 fingerprint of the signer certificate, hex
	// More answers the request's More, in its order.
	More []SignReply `json:"more,omitempty"`
}

// Identities supplies the bank's current signing identity.
type Identities interface {
	Identity(ctx context.Context) (pki.Identity, error)
}

// Service is the pdfservice side.
type Service struct {
	IDs Identities
	TSA tsa.Timestamper // nil: requests with Timestamp fail
	Log *slog.Logger
}

// Serve registers the service on b's pdfservice queue until ctx ends.
func (s *Service) Serve(ctx context.Context, b bus.Bus) error {
	return b.Serve(ctx, bus.QueuePDFService, s.handle)
}

func (s *Service) handle(ctx context.Context, req *bus.Request) (any, error) {
	const op = "seal.SignDigest"
	if req.Method != MethodSignDigest {
		return nil, esign.Errorf(op, esign.NotFound, "no method %q", req.Method)
	}
	var in SignRequest
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	return s.SignDigest(ctx, in)
}

// SignDigest signs in.Digest, and each of in.More, with the current
// identity; all or none. Errors: Invalid (bad digest, too many),
// Unavailable (no identity, TSA down).
func (s *Service) SignDigest(ctx context.Context, in SignRequest) (*SignReply, error) {
	const op = "seal.SignDigest"
	if len(in.More) >= MaxDigests {
		return nil, esign.Errorf(op, esign.Invalid, "a request signs at most %d digests", MaxDigests)
	}
	rep, err := s.signDigest(ctx, in.Digest, in.Timestamp)
	if err != nil {
		return nil, err
	}
	for _, d := range in.More {
		more, err := s.signDigest(ctx, d, in.Timestamp)
		if err != nil {
			return nil, err
		}
		rep.More = append(rep.More, *more)
	}
	return rep, nil
}

// signDigest signs one digest.
func (s *Service) signDigest(ctx context.Context, digest []byte, timestamp bool) (*SignReply, error) {
	const op = "seal.SignDigest"
	if len(digest) != sha256.Size {
		return nil, esign.Errorf(op, esign.Invalid, "the digest must be %d bytes of SHA-256", sha256.Size)
	}
	id, err := s.IDs.Identity(ctx)
	if err != nil {
		return nil, err
	}
	cs := cms.Signer(id)
	cs.Key = signer.WithContext(ctx, id.Key)
	der, err := cms.SignDetached(cs, digest, cms.SignOptions{Hash: crypto.SHA256})
	if err != nil {
		return nil, esign.E(op, err)
	}
	if _, ok := id.Key.(signer.Signer); ok {
		// A key outside this process (a token, a remote service) could
		// answer with a signature over another digest or by another key:
		// verified here, so that nothing is sealed wrong.
		if err := verifySigned(der, digest, id.Certificate); err != nil {
			return nil, esign.E(op, esign.Unavailable, "the key store returned a signature that does not verify; nothing was sealed", err)
		}
	}
	if timestamp {
		if s.TSA == nil {
			return nil, esign.E(op, esign.Unavailable, "pdfservice has no time-stamping authority configured")
		}
		der, _, err = tsa.AddSignatureTimestamp(ctx, s.TSA, der)
		if err != nil {
			return nil, esign.E(op, esign.Unavailable, "the time-stamping authority failed", err)
		}
	}
	fp := sha256.Sum256(id.Certificate.Raw)
	return &SignReply{CMS: der, Certificate: hex.EncodeToString(fp[:])}, nil
}

// verifySigned checks that der is a CMS signature over digest by cert.
func verifySigned(der, digest []byte, cert *x509.Certificate) error {
	sd, err := cms.Parse(der)
	if err != nil {
		return err
	}
	got, err := sd.Verify(digest, cms.VerifyOptions{Certificates: []*x509.Certificate{cert}})
	if err != nil {
		return err
	}
	if !got.Equal(cert) {
		return fmt.Errorf("signed by %s, not by the active certificate", got.Subject)
	}
	return nil
}

// Client signs digests through pdfservice; it implements pades.CMSSigner.
type Client struct {
	Bus       bus.Bus
	Timestamp bool          // ask for the signature time-stamp (B-T and above)
	Timeout   time.Duration // per call when ctx has no deadline; default 30 s
}

// SignDigest implements pades.CMSSigner.
func (c *Client) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	var rep SignReply
	if err := c.Bus.Call(ctx, bus.QueuePDFService, MethodSignDigest, SignRequest{Digest: digest, Timestamp: c.Timestamp}, &rep); err != nil {
		return nil, err
	}
	return rep.CMS, nil
}

// SignDigests signs several digests in one call (SignRequest.More) and
// returns the CMS signatures in their order. What a pdfservice older than
// More left unsigned is asked for digest by digest.
func (c *Client) SignDigests(ctx context.Context, digests [][]byte) ([][]byte, error) {
	if len(digests) == 0 || len(digests) > MaxDigests {
		return c.signEach(ctx, digests)
	}
	cctx, cancel := c.deadline(ctx)
	defer cancel()
	var rep SignReply
	err := c.Bus.Call(cctx, bus.QueuePDFService, MethodSignDigest,
		SignRequest{Digest: digests[0], Timestamp: c.Timestamp, More: digests[1:]}, &rep)
	if err != nil {
		return nil, err
	}
	out := [][]byte{rep.CMS}
	for _, r := range rep.More {
		out = append(out, r.CMS)
	}
	if len(out) > len(digests) {
		return nil, esign.Errorf("seal.SignDigests", esign.Unavailable, "pdfservice answered %d signatures for %d digests", len(out), len(digests))
	}
	rest, err := c.signEach(ctx, digests[len(out):])
	if err != nil {
		return nil, err
	}
	return append(out, rest...), nil
}

func (c *Client) signEach(ctx context.Context, digests [][]byte) ([][]byte, error) {
	out := make([][]byte, len(digests))
	for i, d := range digests {
		der, err := c.SignDigest(ctx, d)
		if err != nil {
			return nil, err
		}
		out[i] = der
	}
	return out, nil
}

// deadline gives ctx the client's timeout when it has no deadline.
func (c *Client) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	t := c.Timeout
	if t <= 0 {
		t = 30 * time.Second
	}
	return context.WithTimeout(ctx, t)
}

// CertStore is the part of the store the active certificate comes from.
// SwapCertSecrets stores its .p12 and password re-encrypted, only while the
// stored values still equal old's (Conflict otherwise).
type CertStore interface {
	GetActiveCert(ctx context.Context) (*esign.Cert, error)
	SwapCertSecrets(ctx context.Context, old *esign.Cert, pkcs12Enc, passwordEnc []byte) (*esign.Cert, error)
}

// StoreIdentities loads the active certificate of the store: its .p12 and
// password are decrypted with the envelope keys (the certificate's id is the
// associated data) only here, in pdfservice. The decoded identity is cached
// and the store asked again after Refresh, so activating a new certificate
// takes effect without a restart. Without an active certificate it falls
// back to Fallback (the development signer of the embedded deployment), or
// fails with Unavailable. A .p12 or password stored in the legacy format
// (or under an older key) is re-encrypted in the current format when it is
// read, and stored back with a compare-and-swap.
type StoreIdentities struct {
	Store    CertStore
	Keys     *envelope.Keyring
	Fallback *pki.Identity
	// Signers opens the keys of certificates whose key is not in a .p12
	// (a PKCS#11 token, a CSC service); nil: only .p12 keys.
	Signers signer.Openers
	Refresh time.Duration // default 30 s
	Log     *slog.Logger  // default slog.Default()

	mu      sync.Mutex
	cached  *pki.Identity
	certID  string
	checked time.Time
}

// Identity implements Identities.
func (s *StoreIdentities) Identity(ctx context.Context) (pki.Identity, error) {
	const op = "seal.Identity"
	s.mu.Lock()
	defer s.mu.Unlock()
	refresh := s.Refresh
	if refresh <= 0 {
		refresh = 30 * time.Second
	}
	if s.cached != nil && time.Since(s.checked) < refresh {
		return *s.cached, nil
	}
	c, err := s.Store.GetActiveCert(ctx)
	switch {
	case esign.IsKind(err, esign.NotFound):
		if s.Fallback == nil {
			return pki.Identity{}, esign.E(op, esign.Unavailable, "no active signing certificate: import the bank's .p12 (esign cert import)")
		}
		s.cached, s.certID, s.checked = s.Fallback, "", time.Now()
		return *s.Fallback, nil
	case err != nil:
		if s.cached != nil {
			// Keep signing with the last good identity while the
			// database is briefly away.
			return *s.cached, nil
		}
		return pki.Identity{}, esign.E(op, esign.Unavailable, "cannot read the signing certificate", err)
	}
	if s.cached != nil && s.certID == c.ID {
		s.checked = time.Now()
		return *s.cached, nil
	}
	src, err := signer.ParseSource(c.KeySource)
	if err != nil {
		return pki.Identity{}, esign.E(op, esign.Internal, err.Error())
	}
	var id pki.Identity
	if src == signer.P12 {
		o := openCert(c, s.Keys)
		if id, err = o.identity("seal.Identity"); err != nil {
			return pki.Identity{}, err
		}
		if o.count.Upgraded > 0 {
			s.storeUpgraded(ctx, c, o)
		}
	} else if id, err = OpenKey(ctx, c, s.Signers); err != nil {
		return pki.Identity{}, err
	}
	if s.cached != nil && s.cached != s.Fallback {
		if old, ok := s.cached.Key.(signer.Signer); ok {
			_ = old.Close()
		}
	}
	s.cached, s.certID, s.checked = &id, c.ID, time.Now()
	return id, nil
}

// Close closes the cached identity's key when it is held outside this
// process (its session with the token or service); a later Identity opens
// it again.
func (s *StoreIdentities) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached == nil || s.cached == s.Fallback {
		return nil
	}
	k, ok := s.cached.Key.(signer.Signer)
	s.cached, s.certID = nil, ""
	if !ok {
		return nil
	}
	return k.Close()
}

// OpenKey opens the key of a certificate whose key is outside the
// database (internal/signer) and checks that it is the certificate's key.
// Errors: Unavailable (the key store is not configured or cannot be
// reached), Internal (a bad stored chain).
func OpenKey(ctx context.Context, c *esign.Cert, signers signer.Openers) (pki.Identity, error) {
	const op = "seal.OpenKey"
	src, err := signer.ParseSource(c.KeySource)
	if err != nil {
		return pki.Identity{}, esign.E(op, esign.Internal, err.Error())
	}
	chain, err := pki.ParseCertificatesPEM([]byte(c.ChainPEM))
	if err != nil || len(chain) == 0 {
		return pki.Identity{}, esign.E(op, esign.Internal, "cannot read the stored certificate chain", err)
	}
	key, err := signers.Open(ctx, src, c.KeyRef)
	if err != nil {
		return pki.Identity{}, err
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(chain[0].PublicKey) {
		_ = key.Close()
		return pki.Identity{}, esign.E(op, esign.Unavailable, fmt.Sprintf("the key %s %s is not the key of the certificate %s", src, c.KeyRef, c.Name))
	}
	return pki.Identity{Certificate: chain[0], Chain: chain[1:], Key: key}, nil
}

// Check reports whether the active identity can sign now: its key store
// answers (pdfservice's /readyz). A .p12 key is always there.
func (s *StoreIdentities) Check(ctx context.Context) error {
	id, err := s.Identity(ctx)
	if err != nil {
		return err
	}
	if k, ok := id.Key.(signer.Signer); ok {
		return k.Check(ctx)
	}
	return nil
}

// storeUpgraded stores the re-encrypted secrets of c. Failing to is no
// reason not to sign: the next read, or esign crypto upgrade, tries again;
// a Conflict means someone else changed or upgraded them first.
func (s *StoreIdentities) storeUpgraded(ctx context.Context, c *esign.Cert, o *openedCert) {
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	_, err := s.Store.SwapCertSecrets(ctx, c, o.p12Enc, o.passwordEnc)
	switch {
	case err == nil:
		log.Info("re-encrypted the signing certificate's secrets in the current format", "cert", c.ID, "secrets", o.count.Upgraded)
	case esign.IsKind(err, esign.Conflict):
		log.Info("the signing certificate's secrets changed while they were re-encrypted; left to the writer", "cert", c.ID)
	default:
		log.Warn("cannot store the re-encrypted secrets of the signing certificate", "cert", c.ID, "err", err)
	}
}

// DecryptCert opens a stored certificate: the .p12 and its password are
// envelope-encrypted with the certificate id as associated data (the legacy
// format, when the keyring reads it, has none).
func DecryptCert(c *esign.Cert, keys *envelope.Keyring) (pki.Identity, error) {
	return openCert(c, keys).identity("seal.DecryptCert")
}

// certAD is the associated data of a certificate's secrets.
func certAD(id string) []byte { return []byte("cert:" + id) }

// Encrypter encrypts a certificate's secrets for storage
// (*envelope.Keyring).
type Encrypter interface {
	Encrypt(plaintext, associatedData []byte) ([]byte, error)
}

// EncryptCert fills c from an imported .p12: metadata, chain, and the .p12
// and password encrypted for storage. c.ID must be set.
func EncryptCert(c *esign.Cert, imp *pki.Imported, p12 []byte, password string, keys Encrypter) error {
	const op = "seal.EncryptCert"
	if c.ID == "" {
		return esign.E(op, esign.Invalid, "the certificate needs an id before it is encrypted")
	}
	ad := certAD(c.ID)
	var err error
	if c.PKCS12Enc, err = keys.Encrypt(p12, ad); err != nil {
		return esign.E(op, err)
	}
	if c.PasswordEnc, err = keys.Encrypt([]byte(password), ad); err != nil {
		return esign.E(op, err)
	}
	c.KeySource, c.KeyRef = string(signer.P12), ""
	DescribeCert(c, imp.Certificate, imp.Chain)
	return nil
}

// DescribeCert fills c's metadata and chain from its certificate leaf and
// the issuers in chain.
func DescribeCert(c *esign.Cert, leaf *x509.Certificate, chain []*x509.Certificate) {
	fp := sha256.Sum256(leaf.Raw)
	c.Subject = leaf.Subject.String()
	c.Issuer = leaf.Issuer.String()
	c.SerialNumber = leaf.SerialNumber.Text(16)
	c.FingerprintSHA256 = hex.EncodeToString(fp[:])
	c.NotBefore = leaf.NotBefore.UTC()
	c.NotAfter = leaf.NotAfter.UTC()
	c.ChainPEM = string(pki.CertificatesPEM(append([]*x509.Certificate{leaf}, chain...)...))
}
