package pades

import "crypto/x509"

// signedBy reports whether parent's key signed c. (Remembering the pairs
// that verified saved 0.4 ms of oss's CPU a flow, but as a table of the
// whole process it was global state; see docs/performance.md, "oss CPU".)
func signedBy(c, parent *x509.Certificate) bool { return c.CheckSignatureFrom(parent) == nil }
