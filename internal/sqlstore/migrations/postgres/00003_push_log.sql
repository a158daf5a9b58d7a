-- Push notifications are logged like e-mail and SMS (email_log, sms_log):
-- one row per delivery key, the device token masked. Keep in step with
-- ../sqlite/00003_push_log.sql.

-- +goose Up
CREATE TABLE push_log (
    id          uuid PRIMARY KEY,
    customer_id uuid REFERENCES customer (id) ON DELETE SET NULL,
    recipient   text NOT NULL,
    title       text NOT NULL DEFAULT '',
    template    text NOT NULL DEFAULT '',
    status      text NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'retrying', 'failed', 'rate_limited', 'expired')),
    delivery_key text UNIQUE,
    job_id      bigint NOT NULL DEFAULT 0 CHECK (job_id >= 0),
    attempt     integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    provider    text NOT NULL DEFAULT '',
    provider_id text NOT NULL DEFAULT '',
    error_code  text NOT NULL DEFAULT '',
    error       text NOT NULL DEFAULT '',
    sent_at     timestamptz,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX push_log_customer_idx ON push_log (customer_id, created_at);
CREATE INDEX push_log_created_idx ON push_log (created_at);

-- +goose Down
DROP TABLE push_log;
