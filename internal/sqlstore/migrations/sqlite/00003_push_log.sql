-- Push notifications are logged like e-mail and SMS (email_log, sms_log):
-- one row per delivery key, the device token masked. Keep in step with
-- ../postgres/00003_push_log.sql.

-- +goose Up
CREATE TABLE push_log (
    id          TEXT PRIMARY KEY,
    customer_id TEXT REFERENCES customer (id) ON DELETE SET NULL,
    recipient   TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    template    TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'retrying', 'failed', 'rate_limited', 'expired')),
    delivery_key TEXT UNIQUE,
    job_id      INTEGER NOT NULL DEFAULT 0 CHECK (job_id >= 0),
    attempt     INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    provider    TEXT NOT NULL DEFAULT '',
    provider_id TEXT NOT NULL DEFAULT '',
    error_code  TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL DEFAULT '',
    sent_at     TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;
CREATE INDEX push_log_customer_idx ON push_log (customer_id, created_at);
CREATE INDEX push_log_created_idx ON push_log (created_at);

-- +goose Down
DROP TABLE push_log;
