-- The PAdES level the bank's seal reached on a contract's documents
-- (docs/pades.md, "Seal levels"): B-B, B-T, B-LT or B-LTA, the lowest of its
-- documents; seal.level is what is aimed at, and a seal falls back to B-T
-- when a certificate has no revocation data. Empty for contracts sealed
-- before this column and for uploaded contracts whose PDF reached no
-- baseline level. Keep in step with ../sqlite/00015_contract_seal_level.sql.

-- +goose Up
ALTER TABLE contract ADD COLUMN seal_level text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE contract DROP COLUMN seal_level;
