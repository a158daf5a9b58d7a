package auditchain

import (
	"context"
	"crypto"
	"encoding/hex"
	"fmt"
	"time"

	"esign/internal/esign"
	"esign/internal/tsa"
)

// Source is what Verify reads: the chained entries and the anchors in seq
// order, and the head.
type Source interface {
	// ListAuditChain returns up to limit chained entries with seq >= from,
	// by seq.
	ListAuditChain(ctx context.Context, from int64, limit int) ([]*esign.AuditLog, error)
	// AuditChainHead returns the head: the seq and hash of the newest entry
	// (0 and Genesis for an empty chain).
	AuditChainHead(ctx context.Context) (seq int64, hash string, err error)
	// ListAuditAnchors returns up to limit anchors after the cursor
	// (afterSeq, afterID) in (seq, id) order: seq > afterSeq, or seq =
	// afterSeq and id > afterID. NilID as afterID starts at afterSeq.
	ListAuditAnchors(ctx context.Context, afterSeq int64, afterID string, limit int) ([]*esign.AuditAnchor, error)
	// FirstAuditSeqSince returns the seq of the first chained entry created
	// at or after t (ok false: none).
	FirstAuditSeqSince(ctx context.Context, t time.Time) (seq int64, ok bool, err error)
}

// Options configure Verify.
type Options struct {
	// From starts the check at the first entry created at or after it
	// (that entry's link to its predecessor is checked too); zero: the
	// whole chain.
	From time.Time
	// TSA verifies the anchors' tokens: trust anchors for the TSA
	// certificate.
	TSA tsa.VerifyOptions
	// Batch is how many entries or anchors are read at a time (default
	// 1000).
	Batch int
}

// Break is the first place where the chain does not hold.
type Break struct {
	Seq      int64  `json:"seq"`
	EntryID  string `json:"entryId,omitempty"`
	AnchorID string `json:"anchorId,omitempty"`
	What     string `json:"what"`
}

func (b *Break) String() string {
	switch {
	case b.AnchorID != "":
		return fmt.Sprintf("anchor %s (seq %d): %s", b.AnchorID, b.Seq, b.What)
	case b.EntryID != "":
		return fmt.Sprintf("entry %s (seq %d): %s", b.EntryID, b.Seq, b.What)
	}
	return fmt.Sprintf("seq %d: %s", b.Seq, b.What)
}

// Report is the outcome of Verify.
type Report struct {
	FirstSeq   int64     `json:"firstSeq"` // first entry checked (0: none)
	LastSeq    int64     `json:"lastSeq"`
	Entries    int64     `json:"entries"`
	Anchors    int       `json:"anchors"`
	LastAnchor time.Time `json:"lastAnchor,omitzero"` // genTime of the newest anchor checked
	Break      *Break    `json:"break,omitempty"`
}

// OK reports whether the chain held.
func (r *Report) OK() bool { return r.Break == nil }

// defaultBatch is how many entries or anchors Verify reads at a time.
const defaultBatch = 1000

// Verify recomputes the chain from src and checks the anchors: each entry's
// seq follows its predecessor's, its prev_hash is the hash of that
// predecessor, its hash is the SHA-256 of its encoding; the head names the
// last entry; each anchor's head hash is the hash of its entry and its
// token is a valid time-stamp (imprint, signature, TSA certificate) of that
// hash. It stops at the first break. The error is for a source that cannot
// be read, not for a broken chain.
func Verify(ctx context.Context, src Source, opt Options) (*Report, error) {
	rep := &Report{}
	batch := opt.Batch
	if batch <= 0 {
		batch = defaultBatch
	}
	headSeq, headHash, err := src.AuditChainHead(ctx)
	if err != nil {
		return nil, fmt.Errorf("auditchain: read the head: %w", err)
	}
	start := int64(1)
	if !opt.From.IsZero() {
		seq, ok, err := src.FirstAuditSeqSince(ctx, opt.From)
		if err != nil {
			return nil, fmt.Errorf("auditchain: find the first entry since %s: %w", opt.From.Format(time.RFC3339), err)
		}
		if !ok {
			seq = headSeq + 1 // nothing since: only the head and the later anchors
		}
		start = seq
	}
	prevSeq, prevHash := int64(0), Genesis
	if start > 1 {
		// The entry before the window: its own hash is recomputed, so
		// that the window's first link is checked against real data.
		es, err := src.ListAuditChain(ctx, start-1, 1)
		if err != nil {
			return nil, fmt.Errorf("auditchain: read entry %d: %w", start-1, err)
		}
		if len(es) == 0 || es[0].Seq != start-1 {
			rep.Break = &Break{Seq: start - 1, What: "the entry is missing"}
			return rep, nil
		}
		if b := checkHash(es[0]); b != nil {
			rep.Break = b
			return rep, nil
		}
		prevSeq, prevHash = es[0].Seq, es[0].Hash
	}
	an := &anchorReader{src: src, seq: start, id: NilID, batch: batch}
	// checkAnchors checks the anchors of entries up to seq, whose hash is
	// hash: an anchor of a seq below it names an entry that was skipped.
	checkAnchors := func(seq int64, hash string) (*Break, error) {
		for {
			a, err := an.peek(ctx)
			if err != nil || a == nil || a.Seq > seq {
				return nil, err
			}
			an.pop()
			if a.Seq < seq {
				return &Break{Seq: a.Seq, AnchorID: a.ID, What: "the anchor names an entry that is not in the chain"}, nil
			}
			if b := checkAnchor(a, hash, opt.TSA); b != nil {
				return b, nil
			}
			rep.Anchors++
			rep.LastAnchor = a.GenTime
		}
	}
	for next := start; ; {
		es, err := src.ListAuditChain(ctx, next, batch)
		if err != nil {
			return nil, fmt.Errorf("auditchain: read entries from %d: %w", next, err)
		}
		for _, e := range es {
			if e.Seq != prevSeq+1 {
				rep.Break = &Break{Seq: prevSeq + 1, What: fmt.Sprintf("the entry is missing (the next one is seq %d, entry %s)", e.Seq, e.ID)}
				return rep, nil
			}
			if e.PrevHash != prevHash {
				rep.Break = &Break{Seq: e.Seq, EntryID: e.ID, What: fmt.Sprintf("prev_hash is %s but the hash of entry %d is %s", e.PrevHash, prevSeq, prevHash)}
				return rep, nil
			}
			if b := checkHash(e); b != nil {
				rep.Break = b
				return rep, nil
			}
			b, err := checkAnchors(e.Seq, e.Hash)
			if err != nil {
				return nil, fmt.Errorf("auditchain: read the anchors: %w", err)
			}
			if b != nil {
				rep.Break = b
				return rep, nil
			}
			if rep.FirstSeq == 0 {
				rep.FirstSeq = e.Seq
			}
			rep.LastSeq, rep.Entries = e.Seq, rep.Entries+1
			prevSeq, prevHash = e.Seq, e.Hash
		}
		if len(es) < batch {
			break
		}
		next = prevSeq + 1
	}
	extra, err := an.peek(ctx)
	if err != nil {
		return nil, fmt.Errorf("auditchain: read the anchors: %w", err)
	}
	switch {
	case headSeq > prevSeq:
		rep.Break = &Break{Seq: prevSeq + 1, What: fmt.Sprintf("the entry is missing (the head names seq %d)", headSeq)}
	case headSeq < prevSeq:
		rep.Break = &Break{Seq: prevSeq, What: fmt.Sprintf("the head names seq %d, behind the last entry", headSeq)}
	case headHash != prevHash:
		rep.Break = &Break{Seq: headSeq, What: fmt.Sprintf("the head's hash is %s but the last entry's is %s", headHash, prevHash)}
	case extra != nil:
		rep.Break = &Break{Seq: extra.Seq, AnchorID: extra.ID, What: "the anchor names an entry that is not in the chain"}
	}
	return rep, nil
}

// NilID is the lowest id, the cursor that starts ListAuditAnchors at a seq.
const NilID = "00000000-0000-0000-0000-000000000000"

// anchorReader reads the anchors in batches, in (seq, id) order, so that
// ten years of hourly anchors need not fit in memory.
type anchorReader struct {
	src   Source
	batch int
	seq   int64  // the cursor: the last anchor read
	id    string // NilID before the first
	buf   []*esign.AuditAnchor
	done  bool
}

func (r *anchorReader) peek(ctx context.Context) (*esign.AuditAnchor, error) {
	if len(r.buf) == 0 && !r.done {
		as, err := r.src.ListAuditAnchors(ctx, r.seq, r.id, r.batch)
		if err != nil {
			return nil, err
		}
		r.done = len(as) < r.batch
		if len(as) > 0 {
			r.seq, r.id = as[len(as)-1].Seq, as[len(as)-1].ID
		}
		r.buf = as
	}
	if len(r.buf) == 0 {
		return nil, nil
	}
	return r.buf[0], nil
}

func (r *anchorReader) pop() { r.buf = r.buf[1:] }

// checkHash recomputes e's hash.
func checkHash(e *esign.AuditLog) *Break {
	h, ok := Hash(e, e.ChainVersion)
	if !ok {
		return &Break{Seq: e.Seq, EntryID: e.ID, What: fmt.Sprintf("unknown chain version %d", e.ChainVersion)}
	}
	if h != e.Hash {
		return &Break{Seq: e.Seq, EntryID: e.ID, What: fmt.Sprintf("the stored hash is %s but the entry's fields hash to %s: a field or the hash changed", e.Hash, h)}
	}
	return nil
}

// checkAnchor checks anchor a of the entry whose (recomputed, linked) hash
// is hash.
func checkAnchor(a *esign.AuditAnchor, hash string, opt tsa.VerifyOptions) *Break {
	if a.HeadHash != hash {
		return &Break{Seq: a.Seq, AnchorID: a.ID, What: fmt.Sprintf("the anchor's head hash is %s but the entry's hash is %s", a.HeadHash, hash)}
	}
	digest, err := hex.DecodeString(a.HeadHash)
	if err != nil {
		return &Break{Seq: a.Seq, AnchorID: a.ID, What: "the anchor's head hash is not hex"}
	}
	t, err := tsa.VerifyToken(a.Token, digest, crypto.SHA256, opt)
	if err != nil {
		return &Break{Seq: a.Seq, AnchorID: a.ID, What: "the time-stamp token does not verify: " + err.Error()}
	}
	if !esign.Timestamp(t.Info.GenTime).Equal(a.GenTime) {
		return &Break{Seq: a.Seq, AnchorID: a.ID, What: fmt.Sprintf("the anchor's time %s is not the token's %s",
			a.GenTime.UTC().Format(time.RFC3339Nano), t.Info.GenTime.UTC().Format(time.RFC3339Nano))}
	}
	return nil
}
