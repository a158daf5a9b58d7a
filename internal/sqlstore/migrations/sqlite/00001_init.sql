-- esign schema, SQLite. Keep in step with ../postgres/00001_init.sql
-- (the parity test compares tables and columns).
-- Times are TEXT in the fixed form 2006-01-02T15:04:05.000000Z (UTC,
-- microseconds), so that text order is time order; booleans are 0/1.

-- +goose Up
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    email         TEXT,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    last_login_at TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE role (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE permission (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE role_permission (
    role_id       TEXT NOT NULL REFERENCES role (id) ON DELETE CASCADE,
    permission_id TEXT NOT NULL REFERENCES permission (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
) STRICT;
CREATE INDEX role_permission_permission_idx ON role_permission (permission_id);

CREATE TABLE user_role (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES role (id) ON DELETE RESTRICT,
    PRIMARY KEY (user_id, role_id)
) STRICT;
CREATE INDEX user_role_role_idx ON user_role (role_id);

CREATE TABLE customer (
    id            TEXT PRIMARY KEY,
    external_ref  TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL DEFAULT '',
    phone         TEXT NOT NULL DEFAULT '',
    username      TEXT UNIQUE,
    password_hash TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL CHECK (status IN ('pending', 'active', 'blocked', 'deleted')),
    locale        TEXT NOT NULL DEFAULT '',
    approved_at   TEXT,
    approved_by   TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;
CREATE INDEX customer_status_idx ON customer (status, created_at);

CREATE TABLE customer_data (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (customer_id, key)
) STRICT;

CREATE TABLE offer (
    id               TEXT PRIMARY KEY,
    customer_id      TEXT NOT NULL REFERENCES customer (id) ON DELETE RESTRICT,
    external_ref     TEXT,
    title            TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL CHECK (state IN ('created', 'notified', 'opened', 'signing', 'signed', 'refused', 'revoked', 'expired')),
    state_reason     TEXT NOT NULL DEFAULT '',
    state_changed_at TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1 CHECK (version > 0),
    created_by       TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (customer_id, external_ref)
) STRICT;
CREATE INDEX offer_customer_state_idx ON offer (customer_id, state, created_at);
CREATE INDEX offer_state_expires_idx ON offer (state, expires_at);

CREATE TABLE contract (
    id              TEXT PRIMARY KEY,
    customer_id     TEXT NOT NULL REFERENCES customer (id) ON DELETE RESTRICT,
    offer_id        TEXT UNIQUE REFERENCES offer (id) ON DELETE RESTRICT,
    external_ref    TEXT,
    title           TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'acknowledged', 'revoked')),
    signed_at       TEXT NOT NULL,
    acknowledged_at TEXT,
    retain_until    TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (customer_id, external_ref)
) STRICT;
CREATE INDEX contract_customer_idx ON contract (customer_id, created_at);

CREATE TABLE document (
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL REFERENCES customer (id) ON DELETE RESTRICT,
    contract_id  TEXT REFERENCES contract (id) ON DELETE RESTRICT,
    kind         TEXT NOT NULL CHECK (kind IN ('offer', 'contract', 'evidence')),
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL CHECK (size >= 0),
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
    storage_key  TEXT NOT NULL UNIQUE,
    encrypted    INTEGER NOT NULL DEFAULT FALSE CHECK (encrypted IN (0, 1)),
    read_at      TEXT,
    retain_until TEXT,
    deleted_at   TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;
CREATE INDEX document_customer_idx ON document (customer_id, created_at);
CREATE INDEX document_contract_idx ON document (contract_id);
CREATE INDEX document_retention_idx ON document (retain_until) WHERE deleted_at IS NULL;
CREATE INDEX document_sha256_idx ON document (sha256);

CREATE TABLE offer_document (
    offer_id    TEXT NOT NULL REFERENCES offer (id) ON DELETE CASCADE,
    document_id TEXT NOT NULL REFERENCES document (id) ON DELETE RESTRICT,
    position    INTEGER NOT NULL CHECK (position >= 0),
    PRIMARY KEY (offer_id, document_id),
    UNIQUE (offer_id, position)
) STRICT;
CREATE INDEX offer_document_document_idx ON offer_document (document_id);

CREATE TABLE attachment (
    id           TEXT PRIMARY KEY,
    offer_id     TEXT REFERENCES offer (id) ON DELETE CASCADE,
    contract_id  TEXT REFERENCES contract (id) ON DELETE RESTRICT,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL CHECK (size >= 0),
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
    storage_key  TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    CHECK ((offer_id IS NULL) <> (contract_id IS NULL))
) STRICT;
CREATE INDEX attachment_offer_idx ON attachment (offer_id);
CREATE INDEX attachment_contract_idx ON attachment (contract_id);

CREATE TABLE activity (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
    offer_id    TEXT REFERENCES offer (id) ON DELETE SET NULL,
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX activity_customer_idx ON activity (customer_id, created_at);
CREATE INDEX activity_offer_idx ON activity (offer_id);

CREATE TABLE app (
    id                 TEXT PRIMARY KEY,
    customer_id        TEXT REFERENCES customer (id) ON DELETE CASCADE,
    session_token_hash TEXT NOT NULL UNIQUE,
    status             TEXT NOT NULL CHECK (status IN ('registered', 'associated', 'removed')),
    platform           TEXT NOT NULL DEFAULT '',
    app_version        TEXT NOT NULL DEFAULT '',
    last_seen_at       TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    CHECK (status <> 'associated' OR customer_id IS NOT NULL)
) STRICT;
CREATE INDEX app_customer_idx ON app (customer_id);

CREATE TABLE device (
    id           TEXT PRIMARY KEY,
    app_id       TEXT NOT NULL UNIQUE REFERENCES app (id) ON DELETE CASCADE,
    imei         TEXT NOT NULL DEFAULT '',
    os           TEXT NOT NULL,
    os_version   TEXT NOT NULL DEFAULT '',
    model        TEXT NOT NULL DEFAULT '',
    manufacturer TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;

CREATE TABLE fcm_info (
    id         TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL UNIQUE REFERENCES app (id) ON DELETE CASCADE,
    token      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE signature (
    id                      TEXT PRIMARY KEY,
    offer_id                TEXT NOT NULL REFERENCES offer (id) ON DELETE RESTRICT,
    customer_id             TEXT NOT NULL REFERENCES customer (id) ON DELETE RESTRICT,
    app_id                  TEXT REFERENCES app (id) ON DELETE SET NULL,
    status                  TEXT NOT NULL CHECK (status IN ('m1_received', 'm2_received', 'verified', 'completed', 'rejected')),
    public_key              TEXT NOT NULL,
    username                TEXT NOT NULL,
    m1_at                   TEXT,
    m2_at                   TEXT,
    customer_signature_hash TEXT NOT NULL DEFAULT '',
    reject_code             TEXT NOT NULL DEFAULT '',
    reject_reason           TEXT NOT NULL DEFAULT '',
    completed_at            TEXT,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL
) STRICT;
CREATE INDEX signature_offer_idx ON signature (offer_id, created_at);
CREATE INDEX signature_customer_idx ON signature (customer_id, created_at);

CREATE TABLE signature_data (
    id           TEXT PRIMARY KEY,
    signature_id TEXT NOT NULL REFERENCES signature (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    data         BLOB NOT NULL,
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
    created_at   TEXT NOT NULL,
    UNIQUE (signature_id, kind)
) STRICT;

CREATE TABLE signature_validation (
    id           TEXT PRIMARY KEY,
    signature_id TEXT NOT NULL UNIQUE REFERENCES signature (id) ON DELETE CASCADE,
    valid        INTEGER NOT NULL CHECK (valid IN (0, 1)),
    code         TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT '',
    report       TEXT NOT NULL DEFAULT '',
    ts1_at       TEXT,
    ts2_at       TEXT,
    ts3_at       TEXT,
    created_at   TEXT NOT NULL,
    CHECK (valid OR code <> '')
) STRICT;

CREATE TABLE verification_token (
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
    app_id       TEXT REFERENCES app (id) ON DELETE CASCADE,
    signature_id TEXT REFERENCES signature (id) ON DELETE CASCADE,
    purpose      TEXT NOT NULL CHECK (purpose IN ('association', 'two_factor', 'password_reset')),
    token_hash   TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    expires_at   TEXT NOT NULL,
    used_at      TEXT,
    created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX verification_token_customer_idx ON verification_token (customer_id, purpose, created_at);
CREATE INDEX verification_token_hash_idx ON verification_token (token_hash);
CREATE INDEX verification_token_signature_idx ON verification_token (signature_id);

CREATE TABLE timestamp_token (
    id              TEXT PRIMARY KEY,
    signature_id    TEXT REFERENCES signature (id) ON DELETE CASCADE,
    contract_id     TEXT REFERENCES contract (id) ON DELETE RESTRICT,
    purpose         TEXT NOT NULL CHECK (purpose IN ('ts1', 'ts2', 'ts3', 'contract', 'api')),
    hash_algorithm  TEXT NOT NULL,
    message_imprint BLOB NOT NULL,
    token           BLOB NOT NULL,
    gen_time        TEXT NOT NULL,
    serial_number   TEXT NOT NULL,
    tsa_name        TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL
) STRICT;
CREATE INDEX timestamp_token_signature_idx ON timestamp_token (signature_id);
CREATE INDEX timestamp_token_contract_idx ON timestamp_token (contract_id);

CREATE TABLE session (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    subject_type TEXT NOT NULL CHECK (subject_type IN ('user', 'customer', 'app')),
    subject_id   TEXT NOT NULL,
    data         TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    expires_at   TEXT NOT NULL,
    last_seen_at TEXT,
    created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX session_subject_idx ON session (subject_type, subject_id);
CREATE INDEX session_expires_idx ON session (expires_at);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    actor_type  TEXT NOT NULL CHECK (actor_type IN ('user', 'customer', 'app', 'api', 'system')),
    actor_id    TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL DEFAULT '',
    object_id   TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    request_id  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_created_idx ON audit_log (created_at);
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id, created_at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_type, actor_id, created_at);

CREATE TABLE email_log (
    id          TEXT PRIMARY KEY,
    customer_id TEXT REFERENCES customer (id) ON DELETE SET NULL,
    recipient   TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT '',
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
CREATE INDEX email_log_customer_idx ON email_log (customer_id, created_at);
CREATE INDEX email_log_created_idx ON email_log (created_at);

CREATE TABLE sms_log (
    id          TEXT PRIMARY KEY,
    customer_id TEXT REFERENCES customer (id) ON DELETE SET NULL,
    recipient   TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '',
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
CREATE INDEX sms_log_customer_idx ON sms_log (customer_id, created_at);
CREATE INDEX sms_log_created_idx ON sms_log (created_at);

CREATE TABLE setting (
    id         TEXT PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    value      TEXT NOT NULL DEFAULT '',
    updated_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE shortener (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    target_url TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    hits       INTEGER NOT NULL DEFAULT 0 CHECK (hits >= 0),
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX shortener_expires_idx ON shortener (expires_at);

CREATE TABLE client_error_log (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL CHECK (source IN ('css', 'admin', 'app')),
    message     TEXT NOT NULL,
    stack       TEXT NOT NULL DEFAULT '',
    url         TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    customer_id TEXT REFERENCES customer (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX client_error_log_created_idx ON client_error_log (created_at);

CREATE TABLE cert (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    subject            TEXT NOT NULL,
    issuer             TEXT NOT NULL,
    serial_number      TEXT NOT NULL,
    fingerprint_sha256 TEXT NOT NULL UNIQUE CHECK (length(fingerprint_sha256) = 64),
    not_before         TEXT NOT NULL,
    not_after          TEXT NOT NULL,
    chain_pem          TEXT NOT NULL,
    pkcs12_enc         BLOB NOT NULL,
    password_enc       BLOB NOT NULL,
    active             INTEGER NOT NULL DEFAULT FALSE CHECK (active IN (0, 1)),
    created_by         TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    CHECK (not_after > not_before)
) STRICT;
CREATE UNIQUE INDEX cert_one_active_idx ON cert (active) WHERE active = TRUE;

CREATE TABLE background_process (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    trigger_kind TEXT NOT NULL DEFAULT '',
    slot        TEXT,
    node        TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'canceled')),
    progress    INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    result      TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL DEFAULT '',
    created_by  TEXT REFERENCES users (id) ON DELETE SET NULL,
    started_at  TEXT,
    finished_at TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;
CREATE INDEX background_process_created_idx ON background_process (created_at);
CREATE INDEX background_process_status_idx ON background_process (status, created_at);
CREATE INDEX background_process_slot_idx ON background_process (kind, slot);

CREATE TABLE background_process_log (
    id         TEXT PRIMARY KEY,
    process_id TEXT NOT NULL REFERENCES background_process (id) ON DELETE CASCADE,
    level      TEXT NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
    message    TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX background_process_log_process_idx ON background_process_log (process_id, created_at);

CREATE TABLE dev_inbox_message (
    id         TEXT PRIMARY KEY,
    channel    TEXT NOT NULL CHECK (channel IN ('sms', 'email', 'push')),
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL DEFAULT '',
    html       TEXT NOT NULL DEFAULT '',
    data       TEXT NOT NULL DEFAULT '',
    msg_key    TEXT UNIQUE,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX dev_inbox_message_created_idx ON dev_inbox_message (created_at);
CREATE INDEX dev_inbox_message_recipient_idx ON dev_inbox_message (recipient, created_at);

-- Seed: the three roles and their permissions. Fixed ids so that both
-- engines hold the same rows.
INSERT INTO role (id, name, description, created_at) VALUES
    ('00000000-0000-7000-8000-000000000001', 'admin', 'Everything, including users, certificates and settings', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000002', 'operator', 'Customers, offers, contracts and signature checks', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000003', 'auditor', 'Read-only access including the audit log', '2026-01-01T00:00:00.000000Z');

INSERT INTO permission (id, name, description, created_at) VALUES
    ('00000000-0000-7000-8000-000000000101', 'customer.read', 'View customers', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000102', 'customer.write', 'Create and change customers', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000103', 'customer.approve', 'Approve customer registrations', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000104', 'offer.read', 'View offers and their documents', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000105', 'offer.write', 'Upload and revoke offers', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000106', 'contract.read', 'View contracts and their documents', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000107', 'contract.write', 'Upload and revoke contracts', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000108', 'signature.verify', 'Verify signed documents', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000109', 'user.manage', 'Manage operators and their roles', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000110', 'cert.manage', 'Upload and activate signing certificates', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000111', 'setting.manage', 'Change runtime settings', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000112', 'audit.read', 'Read the audit log', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000113', 'log.read', 'Read e-mail, SMS and client error logs', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000114', 'inbox.read', 'Read the development inbox', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000115', 'process.read', 'View background processes', '2026-01-01T00:00:00.000000Z');

-- admin: every permission.
INSERT INTO role_permission (role_id, permission_id)
    SELECT '00000000-0000-7000-8000-000000000001', id FROM permission;
-- operator.
INSERT INTO role_permission (role_id, permission_id)
    SELECT '00000000-0000-7000-8000-000000000002', id FROM permission
    WHERE name IN ('customer.read', 'customer.write', 'customer.approve', 'offer.read', 'offer.write',
                   'contract.read', 'contract.write', 'signature.verify', 'inbox.read', 'process.read');
-- auditor: everything that only reads.
INSERT INTO role_permission (role_id, permission_id)
    SELECT '00000000-0000-7000-8000-000000000003', id FROM permission
    WHERE name IN ('customer.read', 'offer.read', 'contract.read', 'audit.read', 'log.read', 'process.read');

-- +goose Down
DROP TABLE dev_inbox_message;
DROP TABLE background_process_log;
DROP TABLE background_process;
DROP TABLE cert;
DROP TABLE client_error_log;
DROP TABLE shortener;
DROP TABLE setting;
DROP TABLE sms_log;
DROP TABLE email_log;
DROP TABLE audit_log;
DROP TABLE session;
DROP TABLE timestamp_token;
DROP TABLE verification_token;
DROP TABLE signature_validation;
DROP TABLE signature_data;
DROP TABLE signature;
DROP TABLE fcm_info;
DROP TABLE device;
DROP TABLE app;
DROP TABLE activity;
DROP TABLE attachment;
DROP TABLE offer_document;
DROP TABLE document;
DROP TABLE contract;
DROP TABLE offer;
DROP TABLE customer_data;
DROP TABLE customer;
DROP TABLE user_role;
DROP TABLE role_permission;
DROP TABLE permission;
DROP TABLE role;
DROP TABLE users;
