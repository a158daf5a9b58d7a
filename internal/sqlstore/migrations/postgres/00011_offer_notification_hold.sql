-- The "offer available" notifications of an offer filed for a customer
-- whose registration waits for approval are held here and sent on
-- approval (docs/webhook-api.md). Keep in step with
-- ../sqlite/00011_offer_notification_hold.sql.

-- +goose Up
CREATE TABLE offer_notification_hold (
    offer_id    uuid PRIMARY KEY REFERENCES offer (id) ON DELETE CASCADE,
    customer_id uuid NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
    channel     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL
);
CREATE INDEX offer_notification_hold_customer_idx ON offer_notification_hold (customer_id);

-- +goose Down
DROP TABLE offer_notification_hold;
