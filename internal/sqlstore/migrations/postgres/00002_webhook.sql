-- Webhook API: idempotency records and events out. Keep in step with ../sqlite/00002_webhook.sql.

-- +goose Up
CREATE TABLE webhook_idempotency (
    endpoint     text NOT NULL,
    idem_key     text NOT NULL,
    request_hash text NOT NULL,
    status       integer NOT NULL DEFAULT 0 CHECK (status >= 0),
    response     text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    completed_at timestamptz,
    PRIMARY KEY (endpoint, idem_key)
);
CREATE INDEX webhook_idempotency_created ON webhook_idempotency (created_at);

-- Events out to the bank's callback URLs: one row per event, one delivery
-- row per event and URL (what operators read).
CREATE TABLE webhook_event (
    id         text PRIMARY KEY,
    type       text NOT NULL,
    subject_id text NOT NULL DEFAULT '',
    payload    text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX webhook_event_created ON webhook_event (created_at);

CREATE TABLE webhook_delivery (
    event_id     text NOT NULL REFERENCES webhook_event (id) ON DELETE CASCADE,
    url          text NOT NULL,
    status       text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_status  integer NOT NULL DEFAULT 0,
    last_error   text NOT NULL DEFAULT '',
    delivered_at timestamptz,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (event_id, url)
);
CREATE INDEX webhook_delivery_status ON webhook_delivery (status, updated_at);

-- +goose Down
DROP TABLE webhook_delivery;
DROP TABLE webhook_event;
DROP TABLE webhook_idempotency;
