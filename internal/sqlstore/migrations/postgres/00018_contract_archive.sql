-- Archive renewal of B-LTA contracts (docs/pades.md, "Archive renewal"):
-- archive_renewed_at is when the ArchiveRenewal job last appended a
-- document time-stamp to the contract's documents (empty: never);
-- archive_expires_at is when the newest document time-stamp of its
-- documents stops being verifiable (the earliest expiry of its TSA's
-- certificates; empty: not known yet, the job reads the documents), which
-- the job compares with now + archive.renewal_margin.
-- Keep in step with ../sqlite/00018_contract_archive.sql.

-- +goose Up
ALTER TABLE contract ADD COLUMN archive_renewed_at timestamptz;
ALTER TABLE contract ADD COLUMN archive_expires_at timestamptz;
CREATE INDEX contract_archive_idx ON contract (seal_level, archive_expires_at);

-- +goose Down
DROP INDEX contract_archive_idx;
ALTER TABLE contract DROP COLUMN archive_expires_at;
ALTER TABLE contract DROP COLUMN archive_renewed_at;
