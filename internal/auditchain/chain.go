// Package auditchain makes the audit log tamper-evident: every entry
// carries the hash of the entry before it (a hash chain), the chain's head
// is time-stamped (RFC 3161) now and then, and Verify recomputes the chain
// and checks every anchor. The store appends entries (it serialises the
// appends, see sqlstore.CreateAuditLog); this package holds the canonical
// encoding, the verification and the anchoring. docs/evidence.md.
package auditchain

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"

	"esign/internal/esign"
)

// Version is the encoding new entries are hashed with (their ChainVersion).
const Version = 1

// Genesis is the hash the first entry (seq 1) names as its predecessor:
// hex SHA-256 of "esign audit chain v1 genesis". Migration 00016 writes it
// into the chain head.
const Genesis = "ee53dcdf0b88a6322d105ad1eaa7c0f767291da713a2aaf18dfdead5eaf1d790"

// timeLayout is how CreatedAt enters the encoding: UTC, microseconds (the
// precision the store keeps).
const timeLayout = "2006-01-02T15:04:05.000000Z"

// Encode returns the canonical encoding of entry e in version v, the bytes
// its Hash is the SHA-256 of. Version 1 is the tag "esign-audit/1" followed
// by, in this order, seq (decimal), prev_hash, id, actor_type, actor_id,
// action, object_type, object_id, detail, ip, request_id and created_at
// (UTC, microseconds, RFC 3339), each as a 4-byte big-endian length and
// the UTF-8 bytes: no separator can be forged into a field. ok is false
// for an unknown version.
func Encode(e *esign.AuditLog, v int) (b []byte, ok bool) {
	if v != 1 {
		return nil, false
	}
	fields := []string{"esign-audit/1", strconv.FormatInt(e.Seq, 10), e.PrevHash, e.ID, e.ActorType, e.ActorID,
		e.Action, e.ObjectType, e.ObjectID, e.Detail, e.IP, e.RequestID, e.CreatedAt.UTC().Format(timeLayout)}
	n := 0
	for _, f := range fields {
		n += 4 + len(f)
	}
	b = make([]byte, 0, n)
	for _, f := range fields {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b, true
}

// Hash returns the hex SHA-256 of e's encoding in version v; ok is false
// for an unknown version.
func Hash(e *esign.AuditLog, v int) (string, bool) {
	b, ok := Encode(e, v)
	if !ok {
		return "", false
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), true
}

// Link sets e's chain fields as the entry after (prevSeq, prevHash): Seq,
// PrevHash, ChainVersion and, from them and e's other fields (which must be
// final: id and CreatedAt set), Hash.
func Link(e *esign.AuditLog, prevSeq int64, prevHash string) {
	e.Seq, e.PrevHash, e.ChainVersion = prevSeq+1, prevHash, Version
	e.Hash, _ = Hash(e, Version)
}
