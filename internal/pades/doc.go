// Package pades signs PDF documents with PAdES baseline signatures (B-B,
// B-T, B-LT, B-LTA; ETSI EN 319 142-1) and verifies PDF signatures.
//
// Signing is always an incremental update of the input, which stays a
// byte-exact prefix of the output and is streamed, never held in memory:
//
//	err := pades.SignFile(ctx, in, out, pades.SignOptions{Level: pades.LevelBT,
//		CMS: &pades.LocalSigner{Signer: signer, TSA: tsaClient}})
//
// The hash-based path separates the document from the key: Prepare writes
// the document with a placeholder and returns the ByteRange digest, a
// CMSSigner (pdfservice) turns the digest into a CMS SignedData, and
// Prepared.Embed writes it into the placeholder.
//
// Verify checks, per signature, the ByteRange (signature wrapping), the
// digest and CMS signature, the certificate chain, the signature and
// document time-stamps, the DSS, the PAdES level reached and every change
// made by later revisions (incremental saving and shadow attacks), and
// returns a Report that marshals to JSON and has a readable Summary.
package pades
