-- Operators' second factor, sign-in lockout and recovery codes; indexes for
-- the admin UI's offer list (keyset pagination newest first, optionally by
-- state). Keep in step with ../postgres/00003_operators.sql.

-- +goose Up
ALTER TABLE users ADD COLUMN totp_secret_enc BLOB;
ALTER TABLE users ADD COLUMN totp_confirmed_at TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0);
ALTER TABLE users ADD COLUMN failed_at TEXT;

CREATE TABLE user_recovery_code (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    used_at    TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, code_hash)
) STRICT;

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
