-- The place of the client address of a customer activity (docs/customer-ui.md,
-- "Location"): "City, CC", "CC" or "unknown" as the configured MaxMind DB
-- file (geo.mmdb_path) mapped it when the activity was recorded; empty for an
-- activity without a client (an operator's). Keep in step with
-- ../sqlite/00012_activity_location.sql.

-- +goose Up
ALTER TABLE activity ADD COLUMN location text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE activity DROP COLUMN location;
