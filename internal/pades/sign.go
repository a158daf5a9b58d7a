package pades

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"hash"
	"io"
	"os"

	"esign/internal/cms"
	"esign/internal/esign"
	"esign/internal/tsa"
)

// Level is a PAdES baseline level (ETSI EN 319 142-1).
type Level string

// The PAdES baseline levels.
const (
	LevelBB   Level = "B-B"   // CMS signature with ESS signing-certificate-v2
	LevelBT   Level = "B-T"   // plus a signature time-stamp
	LevelBLT  Level = "B-LT"  // plus a DSS with the certificates and revocation data
	LevelBLTA Level = "B-LTA" // plus a document time-stamp
)

// ParseLevel parses "B-B", "B-T", "B-LT" or "B-LTA" (case-insensitive).
func ParseLevel(s string) (Level, error) {
	for _, l := range []Level{LevelBB, LevelBT, LevelBLT, LevelBLTA} {
		if len(s) == len(l) && (s == string(l) || equalFold(s, string(l))) {
			return l, nil
		}
	}
	return "", esign.Errorf("pades.ParseLevel", esign.Invalid, "unknown PAdES level %q (want B-B, B-T, B-LT or B-LTA)", s)
}

func equalFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 32
		}
		if x != y {
			return false
		}
	}
	return true
}

func (l Level) rank() int {
	switch l {
	case LevelBT:
		return 1
	case LevelBLT:
		return 2
	case LevelBLTA:
		return 3
	}
	return 0
}

// LocalSigner builds the CMS in-process with a key it holds: cms.SignDetached
// and, when TSA is set, the signature time-stamp (PAdES B-T).
type LocalSigner struct {
	Signer cms.Signer
	TSA    tsa.Timestamper // nil: no signature time-stamp (B-B)
}

// SignDigest implements CMSSigner.
func (s *LocalSigner) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	der, err := cms.SignDetached(s.Signer, digest, cms.SignOptions{Hash: crypto.SHA256})
	if err != nil {
		return nil, fmt.Errorf("pades: sign: %w", err)
	}
	if s.TSA == nil {
		return der, nil
	}
	der, _, err = tsa.AddSignatureTimestamp(ctx, s.TSA, der)
	if err != nil {
		return nil, esign.E("pades.Sign", esign.Unavailable, "the time-stamping authority failed", err)
	}
	return der, nil
}

// SignOptions configure Sign.
type SignOptions struct {
	Level   Level          // default B-B
	Prepare PrepareOptions // the signature dictionary, appearance, attachments
	// CMS builds the CMS SignedData; for B-T and above it must add the
	// signature time-stamp (LocalSigner with TSA does).
	CMS CMSSigner
	// TSA issues the document time-stamp (B-LTA).
	TSA tsa.Timestamper
	// Revocation fetches OCSP responses or CRLs for the DSS (B-LT, B-LTA);
	// default HTTPRevocation{}.
	Revocation RevocationFetcher
	// ExtraCerts are added to the DSS besides those in the CMS and its
	// time-stamp (e.g. the root certificate).
	ExtraCerts []*x509.Certificate
}

// Sign signs the PDF in (size bytes) into out, which must be empty: out
// receives a copy of in followed by the signature update (and, for B-LT,
// a DSS update, and for B-LTA a document time-stamp update).
func Sign(ctx context.Context, in io.ReaderAt, size int64, out *os.File, opt SignOptions) error {
	const op = "pades.Sign"
	if opt.Level == "" {
		opt.Level = LevelBB
	}
	if opt.CMS == nil {
		return esign.E(op, esign.Invalid, "no CMS signer configured")
	}
	if opt.Level == LevelBLTA && opt.TSA == nil {
		return esign.E(op, esign.Invalid, "B-LTA needs a time-stamping authority")
	}
	p, err := Prepare(ctx, in, size, out, opt.Prepare)
	if err != nil {
		return err
	}
	der, err := opt.CMS.SignDigest(ctx, p.Digest)
	if err != nil {
		return esign.E(op, err)
	}
	if opt.Level.rank() >= 1 {
		sd, err := cms.Parse(der)
		if err != nil {
			return esign.E(op, fmt.Errorf("pades: the CMS signer returned an unreadable SignedData: %w", err))
		}
		if len(sd.SignerInfos) == 0 || sd.SignerInfos[0].UnsignedAttribute(cms.OIDSignatureTimeStampToken) == nil {
			return esign.E(op, esign.Invalid, fmt.Sprintf("level %s needs a signature time-stamp but the CMS has none", opt.Level))
		}
	}
	if err := p.Embed(out, der); err != nil {
		return err
	}
	if opt.Level.rank() < 2 {
		return nil
	}
	end := p.ByteRange[2] + p.ByteRange[3]
	// the document time-stamp covers the whole file: carry the hash of
	// what was written instead of reading it back
	var h hash.Hash
	if opt.Level.rank() >= 3 {
		h = p.revisionHash()
	}
	end, err = addDSS(ctx, out, end, [][]byte{der}, opt, h)
	if err != nil {
		return esign.E(op, err)
	}
	if opt.Level.rank() < 3 {
		return nil
	}
	end, tok, err := addDocumentTimestamp(ctx, out, end, opt.TSA, 0, h)
	if err != nil {
		return esign.E(op, err)
	}
	// a document time-stamp from a TSA whose chain the DSS does not hold
	// yet gets its validation data in one more DSS update
	if !certsCovered(tok, [][]byte{der}, opt.ExtraCerts) {
		if _, err := addDSS(ctx, out, end, [][]byte{tok}, opt, nil); err != nil {
			return esign.E(op, err)
		}
	}
	return nil
}

// AddDocumentTimestamp appends a document time-stamp (/DocTimeStamp with
// SubFilter ETSI.RFC3161, PAdES B-LTA) to the PDF file f of size bytes, in
// place, and returns the new size. contentsSize 0 means DefaultContentsSize.
func AddDocumentTimestamp(ctx context.Context, f ReadWriterAt, size int64, ts tsa.Timestamper, contentsSize int) (int64, error) {
	size, _, err := addDocumentTimestamp(ctx, f, size, ts, contentsSize, nil)
	return size, err
}

// addDocumentTimestamp is AddDocumentTimestamp with h, if not nil, the
// SHA-256 state over the size bytes of f. It also returns the token.
func addDocumentTimestamp(ctx context.Context, f ReadWriterAt, size int64, ts tsa.Timestamper, contentsSize int, h hash.Hash) (int64, []byte, error) {
	p, err := prepareInPlace(ctx, f, size, PrepareOptions{docTimeStamp: true, ContentsSize: contentsSize}, h)
	if err != nil {
		return 0, nil, err
	}
	tok, err := ts.Timestamp(ctx, p.Digest, crypto.SHA256)
	if err != nil {
		return 0, nil, esign.E("pades.AddDocumentTimestamp", esign.Unavailable, "the time-stamping authority failed", err)
	}
	if err := p.Embed(f, tok.DER); err != nil {
		return 0, nil, err
	}
	return p.ByteRange[2] + p.ByteRange[3], tok.DER, nil
}

// SignFile signs the file inPath into outPath (created or truncated). On
// failure outPath is removed.
func SignFile(ctx context.Context, inPath, outPath string, opt SignOptions) (err error) {
	const op = "pades.SignFile"
	in, err := os.Open(inPath)
	if err != nil {
		return esign.E(op, esign.NotFound, "cannot open the input PDF", err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return esign.E(op, err)
	}
	out, err := os.OpenFile(outPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return esign.E(op, err)
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = esign.E(op, cerr)
		}
		if err != nil {
			os.Remove(outPath)
		}
	}()
	return Sign(ctx, in, st.Size(), out, opt)
}
