-- The audit log as a hash chain (docs/evidence.md). Every entry appended
-- from now on carries its place in the chain (seq, from 1), the hash of
-- the entry before it (prev_hash; the genesis hash for seq 1) and its own
-- hash (SHA-256 of the canonical encoding chain_version names). Entries
-- older than this migration keep seq NULL: they are "before the chain" and
-- are not covered by it. audit_chain_head is the one row every append
-- updates in the same transaction, under SELECT … FOR UPDATE, which
-- serialises the replicas' appends: one chain, no forks. audit_anchor holds
-- the RFC 3161 tokens over the head's hash. Keep in step with
-- ../sqlite/00016_audit_chain.sql.

-- +goose Up
ALTER TABLE audit_log ADD COLUMN seq bigint;
ALTER TABLE audit_log ADD COLUMN prev_hash text NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN hash text NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN chain_version integer NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX audit_log_seq_idx ON audit_log (seq);

CREATE TABLE audit_chain_head (
    id         integer PRIMARY KEY CHECK (id = 1),
    seq        bigint NOT NULL,
    hash       text NOT NULL,
    updated_at timestamptz NOT NULL
);
-- The genesis: seq 0, hash = SHA-256('esign audit chain v1 genesis').
INSERT INTO audit_chain_head (id, seq, hash, updated_at)
VALUES (1, 0, 'ee53dcdf0b88a6322d105ad1eaa7c0f767291da713a2aaf18dfdead5eaf1d790', now());

CREATE TABLE audit_anchor (
    id         uuid PRIMARY KEY,
    seq        bigint NOT NULL,
    head_hash  text NOT NULL,
    token      bytea NOT NULL,
    gen_time   timestamptz NOT NULL,
    tsa_name   text NOT NULL DEFAULT '',
    reason     text NOT NULL CHECK (reason IN ('schedule', 'shutdown', 'manual')),
    created_at timestamptz NOT NULL
);
CREATE INDEX audit_anchor_seq_idx ON audit_anchor (seq);

-- +goose Down
DROP TABLE audit_anchor;
DROP TABLE audit_chain_head;
DROP INDEX audit_log_seq_idx;
ALTER TABLE audit_log DROP COLUMN chain_version;
ALTER TABLE audit_log DROP COLUMN hash;
ALTER TABLE audit_log DROP COLUMN prev_hash;
ALTER TABLE audit_log DROP COLUMN seq;
