-- Webhook API: idempotency records and events out. Keep in step with ../postgres/00002_webhook.sql.

-- +goose Up
CREATE TABLE webhook_idempotency (
    endpoint     TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0 CHECK (status >= 0),
    response     TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    completed_at TEXT,
    PRIMARY KEY (endpoint, idem_key)
) STRICT;
CREATE INDEX webhook_idempotency_created ON webhook_idempotency (created_at);

-- Events out to the bank's callback URLs: one row per event, one delivery
-- row per event and URL (what operators read).
CREATE TABLE webhook_event (
    id         TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    subject_id TEXT NOT NULL DEFAULT '',
    payload    TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX webhook_event_created ON webhook_event (created_at);

CREATE TABLE webhook_delivery (
    event_id     TEXT NOT NULL REFERENCES webhook_event (id) ON DELETE CASCADE,
    url          TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_status  INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    delivered_at TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (event_id, url)
) STRICT;
CREATE INDEX webhook_delivery_status ON webhook_delivery (status, updated_at);

-- +goose Down
DROP TABLE webhook_delivery;
DROP TABLE webhook_event;
DROP TABLE webhook_idempotency;
