-- The operators' live feed (internal/live, docs/admin-ui.md#live-updates):
-- one row per state change an operator sees, written in the transaction of
-- the change. seq is the event id browsers resume from (Last-Event-ID).
-- Keep in step with ../postgres/00010_live_event.sql.

-- +goose Up
CREATE TABLE live_event (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    type         TEXT NOT NULL,
    offer_id     TEXT NOT NULL DEFAULT '',
    customer_id  TEXT NOT NULL DEFAULT '',
    contract_id  TEXT NOT NULL DEFAULT '',
    signature_id TEXT NOT NULL DEFAULT '',
    title        TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX live_event_created_idx ON live_event (created_at);

-- +goose Down
DROP INDEX live_event_created_idx;
DROP TABLE live_event;
