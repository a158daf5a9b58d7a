// Package tsa implements RFC 3161 time-stamping (with the RFC 5816
// ESSCertIDv2 profile): an http.Handler TSA server, a client for external
// TSAs, and time-stamp token parsing and verification.
//
// Client:
//
//	c := &tsa.Client{URL: url, Roots: pool, Username: u, Password: p, Retries: 2}
//	tok, err := c.Timestamp(ctx, digest, crypto.SHA256) // nonce + certReq, verified fully
//
// Verification of a stored token:
//
//	tok, err := tsa.VerifyToken(tok.DER, digest, crypto.SHA256, tsa.VerifyOptions{Roots: pool})
//
// checks the message imprint, the CMS signature, the ESS signing-certificate
// binding, that the signer certificate has the critical extended key usage
// timeStamping only, and its chain to Roots at the token's genTime.
//
// Server:
//
//	srv, err := tsa.NewServer(tsa.ServerConfig{Certificate: cert, Key: key, Chain: chain,
//		Policy: tsa.DefaultPolicy, Serials: store})
//	http.Handle("/tsa", srv)
//
// answers application/timestamp-query with application/timestamp-reply;
// malformed or unsupported requests get a PKIStatus rejection with a failure
// reason, never an HTTP 500. Serial numbers come from a SerialStore;
// FileSerialStore keeps them unique and increasing across restarts.
package tsa
