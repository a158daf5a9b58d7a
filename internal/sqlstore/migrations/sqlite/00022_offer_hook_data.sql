-- What the bank's offer_created hook added to an offer (docs/customization.md,
-- "Hooks"): a JSON object of strings, empty when none. Shown to operators
-- and passed to the later hooks. Keep in step with
-- ../postgres/00022_offer_hook_data.sql.

-- +goose Up
ALTER TABLE offer ADD COLUMN hook_data TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE offer DROP COLUMN hook_data;
