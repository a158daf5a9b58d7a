-- The operators' live feed (internal/live, docs/admin-ui.md#live-updates):
-- one row per state change an operator sees, written in the transaction of
-- the change. seq is the event id browsers resume from (Last-Event-ID).
-- Keep in step with ../sqlite/00010_live_event.sql.

-- +goose Up
CREATE TABLE live_event (
    seq          bigserial PRIMARY KEY,
    type         text NOT NULL,
    offer_id     text NOT NULL DEFAULT '',
    customer_id  text NOT NULL DEFAULT '',
    contract_id  text NOT NULL DEFAULT '',
    signature_id text NOT NULL DEFAULT '',
    title        text NOT NULL DEFAULT '',
    detail       text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL
);
CREATE INDEX live_event_created_idx ON live_event (created_at);

-- +goose Down
DROP INDEX live_event_created_idx;
DROP TABLE live_event;
