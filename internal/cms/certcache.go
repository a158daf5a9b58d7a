package cms

import (
	"bytes"
	"crypto/x509"

	"esign/internal/memo"
)

// parseCertificate is x509.ParseCertificate for the certificates a
// SignedData carries, remembering the ones it parsed: the tokens of one TSA
// and the seals of one bank carry the same few certificates, and parsing
// them again for every token read was a fiftieth of oss's CPU in the
// signing flow (docs/performance.md, "oss CPU"). The key is the exact DER,
// so a cached certificate is what parsing those bytes gives; the cached
// copy owns its bytes (der may be a caller's buffer that changes later).
// The certificates returned are shared: callers read them, as they do
// every *x509.Certificate.
func parseCertificate(der []byte) (*x509.Certificate, error) {
	if c, ok := certCache.Get(string(der)); ok {
		return c, nil
	}
	c, err := x509.ParseCertificate(bytes.Clone(der))
	if err != nil {
		return nil, err
	}
	certCache.Put(string(c.Raw), c)
	return c, nil
}

var certCache = memo.New[string, *x509.Certificate](256)
