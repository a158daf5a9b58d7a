-- The audit log as a hash chain (docs/evidence.md). Every entry appended
-- from now on carries its place in the chain (seq, from 1), the hash of
-- the entry before it (prev_hash; the genesis hash for seq 1) and its own
-- hash (SHA-256 of the canonical encoding chain_version names). Entries
-- older than this migration keep seq NULL: they are "before the chain" and
-- are not covered by it. audit_chain_head is the one row every append
-- updates in the same transaction (on PostgreSQL under SELECT … FOR UPDATE,
-- which serialises the replicas' appends: one chain, no forks);
-- audit_anchor holds the RFC 3161 tokens over the head's hash. Keep in step
-- with ../postgres/00016_audit_chain.sql.

-- +goose Up
ALTER TABLE audit_log ADD COLUMN seq INTEGER;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN chain_version INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX audit_log_seq_idx ON audit_log (seq);

CREATE TABLE audit_chain_head (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    seq        INTEGER NOT NULL,
    hash       TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
-- The genesis: seq 0, hash = SHA-256("esign audit chain v1 genesis").
INSERT INTO audit_chain_head (id, seq, hash, updated_at)
VALUES (1, 0, 'ee53dcdf0b88a6322d105ad1eaa7c0f767291da713a2aaf18dfdead5eaf1d790', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

CREATE TABLE audit_anchor (
    id         TEXT PRIMARY KEY,
    seq        INTEGER NOT NULL,
    head_hash  TEXT NOT NULL,
    token      BLOB NOT NULL,
    gen_time   TEXT NOT NULL,
    tsa_name   TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL CHECK (reason IN ('schedule', 'shutdown', 'manual')),
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX audit_anchor_seq_idx ON audit_anchor (seq);

-- +goose Down
DROP TABLE audit_anchor;
DROP TABLE audit_chain_head;
DROP INDEX audit_log_seq_idx;
ALTER TABLE audit_log DROP COLUMN chain_version;
ALTER TABLE audit_log DROP COLUMN hash;
ALTER TABLE audit_log DROP COLUMN prev_hash;
ALTER TABLE audit_log DROP COLUMN seq;
