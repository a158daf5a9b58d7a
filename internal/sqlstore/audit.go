package sqlstore

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"esign/internal/auditchain"
	"esign/internal/esign"
)

var auditLogs = newTable("audit_log", "audit entry",
	[]string{"id", "actor_type", "actor_id", "action", "object_type", "object_id", "detail", "ip", "request_id", "created_at",
		"seq", "prev_hash", "hash", "chain_version"},
	func(a *esign.AuditLog) []any {
		return []any{&a.ID, &a.ActorType, &a.ActorID, &a.Action, &a.ObjectType, &a.ObjectID, &a.Detail, &a.IP,
			&a.RequestID, tm(&a.CreatedAt), nseq{&a.Seq}, &a.PrevHash, &a.Hash, &a.ChainVersion}
	})

// nseq stores a chain seq, 0 (an entry from before the chain) as NULL.
type nseq struct{ p *int64 }

func (n nseq) Value() (driver.Value, error) {
	if *n.p == 0 {
		return nil, nil
	}
	return *n.p, nil
}

func (n nseq) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n.p = 0
	case int64:
		*n.p = v
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a seq", src)
	}
	return nil
}

// CreateAuditLog appends an entry to the audit trail, as the next link of
// the hash chain (docs/evidence.md): in one transaction — the caller's, or
// its own — it locks the chain head, links the entry to it
// (auditchain.Link), inserts it and moves the head. On PostgreSQL the head
// row is locked with SELECT … FOR UPDATE, so that appends from every
// replica queue on that row until the appending transaction ends: one
// chain, no forks. On SQLite the transaction holds the database's write
// lock from its BEGIN. There is no update or delete. Errors: Invalid.
func (s *store) CreateAuditLog(ctx context.Context, a *esign.AuditLog) error {
	const op = "sqlstore.CreateAuditLog"
	if err := a.Validate(); err != nil {
		return esign.E(op, err)
	}
	return s.withTx(ctx, func(s *store) error {
		var seq int64
		var prev string
		if err := s.queryRow(ctx, "SELECT seq, hash FROM audit_chain_head WHERE id = 1"+s.d.forUpdate()).Scan(&seq, &prev); err != nil {
			return s.wrap(op, fmt.Errorf("lock the chain head: %w", err))
		}
		if err := s.stamp(op, &a.ID, &a.CreatedAt, nil); err != nil {
			return err
		}
		auditchain.Link(a, seq, prev)
		if err := insertRow(ctx, s, op, auditLogs, a); err != nil {
			return err
		}
		if _, err := s.exec(ctx, "UPDATE audit_chain_head SET seq = ?, hash = ?, updated_at = ? WHERE id = 1",
			a.Seq, a.Hash, s.d.timeValue(a.CreatedAt)); err != nil {
			return s.wrap(op, fmt.Errorf("move the chain head: %w", err))
		}
		return nil
	})
}

// ListAuditChain returns up to limit chained entries with seq >= from, by
// seq (auditchain.Source).
func (s *store) ListAuditChain(ctx context.Context, from int64, limit int) ([]*esign.AuditLog, error) {
	return scanRows(ctx, s, "sqlstore.ListAuditChain", auditLogs,
		auditLogs.list+" WHERE seq >= ? ORDER BY seq LIMIT ?", from, limit)
}

// AuditChainHead returns the seq and hash of the newest chained entry (0
// and the genesis hash when there is none).
func (s *store) AuditChainHead(ctx context.Context) (int64, string, error) {
	var seq int64
	var hash string
	if err := s.queryRow(ctx, "SELECT seq, hash FROM audit_chain_head WHERE id = 1").Scan(&seq, &hash); err != nil {
		return 0, "", s.wrap("sqlstore.AuditChainHead", err)
	}
	return seq, hash, nil
}

// FirstAuditSeqSince returns the seq of the first chained entry created at
// or after t (ok false: none).
func (s *store) FirstAuditSeqSince(ctx context.Context, t time.Time) (int64, bool, error) {
	var seq *int64
	if err := s.queryRow(ctx, "SELECT MIN(seq) FROM audit_log WHERE seq IS NOT NULL AND created_at >= ?",
		s.d.timeValue(esign.Timestamp(t))).Scan(&seq); err != nil {
		return 0, false, s.wrap("sqlstore.FirstAuditSeqSince", err)
	}
	if seq == nil {
		return 0, false, nil
	}
	return *seq, true, nil
}

// CountAuditBeforeChain returns how many entries date from before the
// chain (migration 00016): they are not covered by it.
func (s *store) CountAuditBeforeChain(ctx context.Context) (int64, error) {
	var n int64
	if err := s.queryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE seq IS NULL").Scan(&n); err != nil {
		return 0, s.wrap("sqlstore.CountAuditBeforeChain", err)
	}
	return n, nil
}

var auditAnchors = newTable("audit_anchor", "audit anchor",
	[]string{"id", "seq", "head_hash", "token", "gen_time", "tsa_name", "reason", "created_at"},
	func(a *esign.AuditAnchor) []any {
		return []any{&a.ID, &a.Seq, &a.HeadHash, &a.Token, tm(&a.GenTime), &a.TSAName, &a.Reason, tm(&a.CreatedAt)}
	})

// CreateAuditAnchor stores a time-stamp of the chain head. Errors: Invalid.
func (s *store) CreateAuditAnchor(ctx context.Context, a *esign.AuditAnchor) error {
	return createRow(ctx, s, "sqlstore.CreateAuditAnchor", auditAnchors, a, &a.ID, &a.CreatedAt, nil)
}

// ListAuditAnchors returns up to limit anchors after the cursor (afterSeq,
// afterID) in (seq, id) order (auditchain.Source).
func (s *store) ListAuditAnchors(ctx context.Context, afterSeq int64, afterID string, limit int) ([]*esign.AuditAnchor, error) {
	return scanRows(ctx, s, "sqlstore.ListAuditAnchors", auditAnchors,
		auditAnchors.list+" WHERE seq > ? OR (seq = ? AND id > ?) ORDER BY seq, id LIMIT ?", afterSeq, afterSeq, afterID, limit)
}

// LastAuditAnchor returns the anchor of the highest seq (ok false: none).
func (s *store) LastAuditAnchor(ctx context.Context) (*esign.AuditAnchor, bool, error) {
	as, err := scanRows(ctx, s, "sqlstore.LastAuditAnchor", auditAnchors,
		auditAnchors.list+" ORDER BY seq DESC, created_at DESC LIMIT 1")
	if err != nil || len(as) == 0 {
		return nil, false, err
	}
	return as[0], true, nil
}

var (
	_ auditchain.Source      = (*DB)(nil)
	_ auditchain.AnchorStore = (*DB)(nil)
)
