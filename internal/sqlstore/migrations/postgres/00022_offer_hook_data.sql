-- What the bank's offer_created hook decided about an offer
-- (docs/customization.md, "Hooks"): hook_data, what it added, a JSON object
-- of strings, empty when none (shown to operators and passed to the later
-- hooks); vetoed, whether it vetoed the offer, which is then stored revoked
-- and never shown to the customer. Keep in step with
-- ../sqlite/00022_offer_hook_data.sql.

-- +goose Up
ALTER TABLE offer ADD COLUMN hook_data text NOT NULL DEFAULT '';
ALTER TABLE offer ADD COLUMN vetoed boolean NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE offer DROP COLUMN vetoed;
ALTER TABLE offer DROP COLUMN hook_data;
