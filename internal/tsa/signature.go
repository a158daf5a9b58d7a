package tsa

import (
	"context"
	"crypto"
	"fmt"

	"esign/internal/cms"
)

// Timestamper obtains verified time-stamp tokens; *Client implements it.
type Timestamper interface {
	Timestamp(ctx context.Context, digest []byte, h crypto.Hash) (*Token, error)
}

// AddSignatureTimestamp time-stamps the signature value of the first
// SignerInfo of a CMS SignedData (the PAdES B-T signature time-stamp) with
// SHA-256 and returns the ContentInfo re-encoded with the token as the
// unsigned attribute id-aa-signatureTimeStampToken, and the token.
func AddSignatureTimestamp(ctx context.Context, ts Timestamper, cmsDER []byte) ([]byte, *Token, error) {
	sd, err := cms.Parse(cmsDER)
	if err != nil {
		return nil, nil, fmt.Errorf("tsa: signature time-stamp: %w", err)
	}
	if len(sd.SignerInfos) == 0 {
		return nil, nil, fmt.Errorf("tsa: signature time-stamp: no signerInfo")
	}
	h := crypto.SHA256.New()
	h.Write(sd.SignerInfos[0].Signature)
	tok, err := ts.Timestamp(ctx, h.Sum(nil), crypto.SHA256)
	if err != nil {
		return nil, nil, fmt.Errorf("tsa: signature time-stamp: %w", err)
	}
	out, err := sd.AddUnsignedAttribute(0, cms.OIDSignatureTimeStampToken, tok.DER)
	if err != nil {
		return nil, nil, fmt.Errorf("tsa: signature time-stamp: %w", err)
	}
	return out, tok, nil
}
