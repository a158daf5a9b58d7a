-- Operators' second factor, sign-in lockout and recovery codes; indexes for
-- the admin UI's offer list (keyset pagination newest first, optionally by
-- state). Keep in step with ../sqlite/00003_operators.sql.

-- +goose Up
ALTER TABLE users ADD COLUMN totp_secret_enc bytea;
ALTER TABLE users ADD COLUMN totp_confirmed_at timestamptz;
ALTER TABLE users ADD COLUMN totp_last_step bigint NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN failed_logins integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0);
ALTER TABLE users ADD COLUMN failed_at timestamptz;

CREATE TABLE user_recovery_code (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  text NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

CREATE INDEX offer_created_idx ON offer (created_at, id);
CREATE INDEX offer_state_created_idx ON offer (state, created_at, id);

-- +goose Down
DROP INDEX offer_state_created_idx;
DROP INDEX offer_created_idx;
DROP TABLE user_recovery_code;
ALTER TABLE users DROP COLUMN failed_at;
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN totp_last_step;
ALTER TABLE users DROP COLUMN totp_confirmed_at;
ALTER TABLE users DROP COLUMN totp_secret_enc;
