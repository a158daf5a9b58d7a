package auditchain

import (
	"context"
	"crypto"
	"encoding/hex"
	"fmt"

	"esign/internal/esign"
	"esign/internal/tsa"
)

// AnchorStore is where the anchors go.
type AnchorStore interface {
	AuditChainHead(ctx context.Context) (seq int64, hash string, err error)
	// LastAuditAnchor returns the anchor of the highest seq (ok false: none).
	LastAuditAnchor(ctx context.Context) (a *esign.AuditAnchor, ok bool, err error)
	CreateAuditAnchor(ctx context.Context, a *esign.AuditAnchor) error
}

// Timestamper issues RFC 3161 tokens (a *tsa.Client, which verifies each
// reply before returning it).
type Timestamper interface {
	Timestamp(ctx context.Context, digest []byte, h crypto.Hash) (*tsa.Token, error)
}

// Anchor time-stamps the chain's head and stores the anchor, with reason
// ("schedule", "shutdown" or "manual"). It returns nil and no error when
// there is nothing to anchor: the chain is empty or its head is anchored
// already. Errors: Unavailable (the TSA did not answer), and the store's.
func Anchor(ctx context.Context, st AnchorStore, ts Timestamper, reason string) (*esign.AuditAnchor, error) {
	const op = "auditchain.Anchor"
	seq, hash, err := st.AuditChainHead(ctx)
	if err != nil {
		return nil, esign.E(op, err)
	}
	if seq == 0 {
		return nil, nil
	}
	last, ok, err := st.LastAuditAnchor(ctx)
	if err != nil {
		return nil, esign.E(op, err)
	}
	if ok && last.Seq >= seq {
		return nil, nil
	}
	digest, err := hex.DecodeString(hash)
	if err != nil {
		return nil, esign.E(op, esign.Internal, fmt.Errorf("the head's hash %q is not hex: %w", hash, err))
	}
	t, err := ts.Timestamp(ctx, digest, crypto.SHA256)
	if err != nil {
		return nil, esign.E(op, err)
	}
	a := &esign.AuditAnchor{Seq: seq, HeadHash: hash, Token: t.DER, GenTime: esign.Timestamp(t.Info.GenTime), Reason: reason}
	if t.Signer != nil {
		a.TSAName = t.Signer.Subject.String()
	}
	if err := st.CreateAuditAnchor(ctx, a); err != nil {
		return nil, esign.E(op, err)
	}
	return a, nil
}
