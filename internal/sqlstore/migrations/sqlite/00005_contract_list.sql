-- Indexes for the admin UI's contract list: keyset pagination newest first,
-- optionally by status or by the bank's reference. Keep in step with
-- ../postgres/00005_contract_list.sql.

-- +goose Up
CREATE INDEX contract_created_idx ON contract (created_at, id);
CREATE INDEX contract_status_created_idx ON contract (status, created_at, id);
CREATE INDEX contract_ref_created_idx ON contract (external_ref, created_at, id);

-- +goose Down
DROP INDEX contract_ref_created_idx;
DROP INDEX contract_status_created_idx;
DROP INDEX contract_created_idx;
