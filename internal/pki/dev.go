package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"esign/internal/atomicfile"
)

// KeyCodec seals private keys before they are written to the data dir and
// opens them when read (an envelope.Keyring fits, wrapped by the caller).
// Without one, keys are stored as PKCS #8 PEM with mode 0600.
type KeyCodec interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(ciphertext []byte) ([]byte, error)
}

// DevOptions configure the development PKI.
type DevOptions struct {
	// BaseURL is where the tsa process serves Handler; it goes into the
	// certificates as CRL distribution point (BaseURL+"/ca.crl"), OCSP
	// responder (BaseURL+"/ocsp") and CA issuers (BaseURL+"/ca.crt") URLs.
	// Default DefaultBaseURL. Changing it later needs a new dev PKI
	// (delete the directory).
	BaseURL      string
	Organization string // default "esign development"
	RSABits      int    // of the bank signer's key; default 2048

	Now      func() time.Time
	KeyCodec KeyCodec
}

// DefaultBaseURL is the default BaseURL: the default tsa listener (docs/architecture.md).
const DefaultBaseURL = "http://127.0.0.1:10188/pki"

// Validity periods of the development certificates.
const (
	devRootValidity   = 10 * 365 * 24 * time.Hour
	devSignerValidity = 2 * 365 * 24 * time.Hour
	devTSAValidity    = 5 * 365 * 24 * time.Hour
)

// Dev is the development PKI: a root CA, the bank's document-signing
// certificate and the TSA certificate, both issued by the root.
type Dev struct {
	Dir         string
	CA          *CA
	Signer      Identity
	TSA         Identity
	Revocations *MemoryRevocations
}

// Files of the development PKI inside its directory.
const (
	FileCACert     = "ca.crt.pem"
	FileCAKey      = "ca.key.pem"
	FileSignerCert = "signer.crt.pem" // certificate followed by its chain
	FileSignerKey  = "signer.key.pem"
	FileTSACert    = "tsa.crt.pem" // certificate followed by its chain; written last
	FileTSAKey     = "tsa.key.pem"
	FileCABundle   = "ca-bundle.pem" // the trust anchor to hand out for validating our output
)

const sealedKeyPEM = "ESIGN SEALED PRIVATE KEY"

// OpenDev loads the development PKI from dir, generating and persisting it
// first when dir does not hold one yet (created reports that). A partly
// written directory (a crash during generation) is generated anew.
func OpenDev(dir string, opt DevOptions) (d *Dev, created bool, err error) {
	if opt.BaseURL == "" {
		opt.BaseURL = DefaultBaseURL
	}
	opt.BaseURL = strings.TrimSuffix(opt.BaseURL, "/")
	if opt.Organization == "" {
		opt.Organization = "esign development"
	}
	if opt.RSABits == 0 {
		opt.RSABits = 2048
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if _, err := os.Stat(filepath.Join(dir, FileTSACert)); err == nil {
		d, err := loadDev(dir, opt)
		return d, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("pki: dev: %w", err)
	}
	d, err = generateDev(dir, opt)
	return d, err == nil, err
}

func generateDev(dir string, opt DevOptions) (*Dev, error) {
	now := opt.Now().UTC().Truncate(time.Second)
	// The bank's signer is RSA, as most qualified seals are, so a
	// development seal costs what a production one does. The CA (which
	// signs OCSP responses and CRLs) and the TSA sign on every flow and
	// are ECDSA P-256: a fraction of RSA's cost (docs/crypto.md).
	newKey := func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, opt.RSABits) }
	newECKey := func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }
	rk, err := newECKey()
	if err != nil {
		return nil, fmt.Errorf("pki: dev: %w", err)
	}
	ca, err := NewRootCA(pkix.Name{CommonName: "esign Development Root CA", Organization: []string{opt.Organization}},
		rk, now.Add(-time.Hour), now.Add(devRootValidity))
	if err != nil {
		return nil, err
	}
	urls := func(t *x509.Certificate) {
		t.CRLDistributionPoints = []string{opt.BaseURL + "/ca.crl"}
		t.OCSPServer = []string{opt.BaseURL + "/ocsp"}
		t.IssuingCertificateURL = []string{opt.BaseURL + "/ca.crt"}
	}
	sk, err := newKey()
	if err != nil {
		return nil, fmt.Errorf("pki: dev: %w", err)
	}
	st := &x509.Certificate{
		Subject:   pkix.Name{CommonName: "esign Development Document Signer", Organization: []string{opt.Organization}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(devSignerValidity),
		KeyUsage:           x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{oidKPDocumentSigning},
		EmailAddresses:     []string{"signer@esign.invalid"},
	}
	urls(st)
	signer, err := ca.Issue(st, sk.Public())
	if err != nil {
		return nil, err
	}
	tk, err := newECKey()
	if err != nil {
		return nil, fmt.Errorf("pki: dev: %w", err)
	}
	tt := &x509.Certificate{
		Subject:   pkix.Name{CommonName: "esign Development TSA", Organization: []string{opt.Organization}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(devTSAValidity),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{TimeStampingEKU()},
	}
	urls(tt)
	tsaCert, err := ca.Issue(tt, tk.Public())
	if err != nil {
		return nil, err
	}
	d := &Dev{Dir: dir, CA: ca,
		Signer:      Identity{Certificate: signer, Chain: []*x509.Certificate{ca.Certificate}, Key: sk},
		TSA:         Identity{Certificate: tsaCert, Chain: []*x509.Certificate{ca.Certificate}, Key: tk},
		Revocations: NewMemoryRevocations(signer, tsaCert),
	}
	// The TSA certificate goes last: its presence marks a complete directory.
	steps := []struct {
		name string
		fn   func() ([]byte, error)
	}{
		{FileCAKey, func() ([]byte, error) { return encodeKey(rk, opt.KeyCodec) }},
		{FileCACert, func() ([]byte, error) { return certsPEM(ca.Certificate), nil }},
		{FileCABundle, func() ([]byte, error) { return certsPEM(ca.Certificate), nil }},
		{FileSignerKey, func() ([]byte, error) { return encodeKey(sk, opt.KeyCodec) }},
		{FileSignerCert, func() ([]byte, error) { return certsPEM(signer, ca.Certificate), nil }},
		{FileTSAKey, func() ([]byte, error) { return encodeKey(tk, opt.KeyCodec) }},
		{FileTSACert, func() ([]byte, error) { return certsPEM(tsaCert, ca.Certificate), nil }},
	}
	for _, s := range steps {
		b, err := s.fn()
		if err != nil {
			return nil, fmt.Errorf("pki: dev: encode %s: %w", s.name, err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(s.name, ".key.pem") {
			mode = 0o600
		}
		if err := atomicfile.Write(filepath.Join(dir, s.name), b, mode); err != nil {
			return nil, fmt.Errorf("pki: dev: write %s: %w", s.name, err)
		}
	}
	return d, nil
}

func loadDev(dir string, opt DevOptions) (*Dev, error) {
	ca := &CA{}
	var err error
	var certs [][]*x509.Certificate
	for _, name := range []string{FileCACert, FileSignerCert, FileTSACert} {
		cs, err := readCerts(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		certs = append(certs, cs)
	}
	var keys []crypto.Signer
	for _, name := range []string{FileCAKey, FileSignerKey, FileTSAKey} {
		k, err := readKey(filepath.Join(dir, name), opt.KeyCodec)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	ca.Certificate, ca.Key = certs[0][0], keys[0]
	d := &Dev{Dir: dir, CA: ca,
		Signer: Identity{Certificate: certs[1][0], Chain: certs[1][1:], Key: keys[1]},
		TSA:    Identity{Certificate: certs[2][0], Chain: certs[2][1:], Key: keys[2]},
	}
	for _, id := range []Identity{d.Signer, d.TSA} {
		if err = id.Certificate.CheckSignatureFrom(ca.Certificate); err != nil {
			return nil, fmt.Errorf("pki: dev: %s is not issued by the dev CA: %w", id.Certificate.Subject.CommonName, err)
		}
		pub, ok := id.Key.Public().(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !pub.Equal(id.Certificate.PublicKey) {
			return nil, fmt.Errorf("pki: dev: key does not match %s", id.Certificate.Subject.CommonName)
		}
	}
	d.Revocations = NewMemoryRevocations(d.Signer.Certificate, d.TSA.Certificate)
	return d, nil
}

// Warnings returns expiry warnings for the dev certificates at now.
func (d *Dev) Warnings(now time.Time) []string {
	var out []string
	for _, c := range []*x509.Certificate{d.CA.Certificate, d.Signer.Certificate, d.TSA.Certificate} {
		if w, ok := ExpiryWarning(c, now, 0); ok {
			out = append(out, w)
		}
	}
	return out
}

// CABundle returns the PEM trust anchor (the dev root) to validate our output.
func (d *Dev) CABundle() []byte { return certsPEM(d.CA.Certificate) }

// CertificatesPEM encodes certificates as concatenated PEM blocks (the form
// to store a chain in, e.g. the Cert row of an imported .p12).
func CertificatesPEM(certs ...*x509.Certificate) []byte { return certsPEM(certs...) }

// ParseCertificatesPEM is the inverse of CertificatesPEM; blocks of other
// types are skipped.
func ParseCertificatesPEM(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return out, nil
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pki: parse certificates: %w", err)
		}
		out = append(out, c)
	}
}

func certsPEM(certs ...*x509.Certificate) []byte {
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return b
}

func encodeKey(k crypto.Signer, codec KeyCodec) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	if codec == nil {
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	sealed, err := codec.Seal(der)
	clear(der)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: sealedKeyPEM, Bytes: sealed}), nil
}

func readKey(path string, codec KeyCodec) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pki: read key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("pki: read key %s: no PEM block", path)
	}
	der := block.Bytes
	switch block.Type {
	case "PRIVATE KEY":
	case sealedKeyPEM:
		if codec == nil {
			return nil, fmt.Errorf("pki: read key %s: the key is sealed but no key codec is configured", path)
		}
		if der, err = codec.Open(der); err != nil {
			return nil, fmt.Errorf("pki: read key %s: %w", path, err)
		}
		defer clear(der)
	default:
		return nil, fmt.Errorf("pki: read key %s: unexpected PEM type %q", path, block.Type)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("pki: read key %s: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("pki: read key %s: not a signing key", path)
	}
	return s, nil
}

func readCerts(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pki: read certificates: %w", err)
	}
	out, err := ParseCertificatesPEM(b)
	if err != nil {
		return nil, fmt.Errorf("pki: read %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, errors.New("pki: no certificate in " + path)
	}
	return out, nil
}
