-- esign schema, PostgreSQL. Keep in step with ../sqlite/00001_init.sql
-- (the parity test compares tables and columns).

-- +goose Up
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    email         text,
    name          text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    status        text NOT NULL CHECK (status IN ('active', 'disabled')),
    last_login_at timestamptz,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE role (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL
);

CREATE TABLE permission (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL
);

CREATE TABLE role_permission (
    role_id       uuid NOT NULL REFERENCES role (id) ON DELETE CASCADE,
    permission_id uuid NOT NULL REFERENCES permission (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);
CREATE INDEX role_permission_permission_idx ON role_permission (permission_id);

CREATE TABLE user_role (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id uuid NOT NULL REFERENCES role (id) ON DELETE RESTRICT,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_role_role_idx ON user_role (role_id);

CREATE TABLE customer (
    id            uuid PRIMARY KEY,
    external_ref  text NOT NULL UNIQUE,
    name          text NOT NULL,
    email         text NOT NULL DEFAULT '',
    phone         text NOT NULL DEFAULT '',
    username      text UNIQUE,
    password_hash text NOT NULL DEFAULT '',
    status        text NOT NULL CHECK (status IN ('pending', 'active', 'blocked', 'deleted')),
    locale        text NOT NULL DEFAULT '',
    approved_at   timestamptz,
    approved_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX customer_status_idx ON customer (status, created_at);

CREATE TABLE customer_data (
    id          uuid PRIMARY KEY,
    customer_id uuid NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
    key         text NOT NULL,
    value       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    UNIQUE (customer_id, key)
);

CREATE TABLE offer (
    id               uuid PRIMARY KEY,
    customer_id      uuid NOT NULL REFERENCES customer (id) ON DELETE RESTRICT,
    external_ref     text,
    title            text NOT NULL,
    description      text NOT NULL DEFAULT '',
    state            text NOT NULL CHECK (state IN ('created', 'notified', 'opened', 'signing', 'signed', 'refused', 'revoked', 'expired')),
    state_reason     text NOT NULL DEFAULT '',
    state_changed_at timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    version          bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    created_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    UNIQUE (customer_id, external_ref)
);
CREATE INDEX offer_customer_state_idx ON offer (customer_id, state, created_at);
CREATE INDEX offer_state_expires_idx ON offer (state, expires_at);

CREATE TABLE contract (
    id              uuid PRIMARY KEY,
    customer_id     uuid NOT NULL REFERENCES customer (id) ON DELETE RESTRICT,
    offer_id        uuid UNIQUE REFERENCES offer (id) ON DELETE RESTRICT,
    external_ref    text,
    title           text NOT NULL,
    status          text NOT NULL CHECK (status IN ('active', 'acknowledged', 'revoked')),
    signed_at       timestamptz NOT NULL,
    acknowledged_at timestamptz,
    retain_until    timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (customer_id, external_ref)
);
CREATE INDEX contract_customer_idx ON contract (customer_id, created_at);

CREATE TABLE document (
    id           uuid PRIMARY KEY,
    customer_id  uuid NOT NULL REFERENCES customer (id) ON DELETE RESTRICT,
    contract_id  uuid REFERENCES contract (id) ON DELETE RESTRICT,
    kind         text NOT NULL CHECK (kind IN ('offer', 'contract', 'evidence')),
    name         text NOT NULL,
    content_type text NOT NULL,
    size         bigint NOT NULL CHECK (size >= 0),
    sha256       text NOT NULL CHECK (length(sha256) = 64),
    storage_key  text NOT NULL UNIQUE,
    encrypted    boolean NOT NULL DEFAULT FALSE,
    read_at      timestamptz,
    retain_until timestamptz,
    deleted_at   timestamptz,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX document_customer_idx ON document (customer_id, created_at);
CREATE INDEX document_contract_idx ON document (contract_id);
CREATE INDEX document_retention_idx ON document (retain_until) WHERE deleted_at IS NULL;
CREATE INDEX document_sha256_idx ON document (sha256);

CREATE TABLE offer_document (
    offer_id    uuid NOT NULL REFERENCES offer (id) ON DELETE CASCADE,
    document_id uuid NOT NULL REFERENCES document (id) ON DELETE RESTRICT,
    position    integer NOT NULL CHECK (position >= 0),
    PRIMARY KEY (offer_id, document_id),
    UNIQUE (offer_id, position)
);
CREATE INDEX offer_document_document_idx ON offer_document (document_id);

CREATE TABLE attachment (
    id           uuid PRIMARY KEY,
    offer_id     uuid REFERENCES offer (id) ON DELETE CASCADE,
    contract_id  uuid REFERENCES contract (id) ON DELETE RESTRICT,
    name         text NOT NULL,
    content_type text NOT NULL,
    size         bigint NOT NULL CHECK (size >= 0),
    sha256       text NOT NULL CHECK (length(sha256) = 64),
    storage_key  text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    CHECK ((offer_id IS NULL) <> (contract_id IS NULL))
);
CREATE INDEX attachment_offer_idx ON attachment (offer_id);
CREATE INDEX attachment_contract_idx ON attachment (contract_id);

CREATE TABLE activity (
    id          uuid PRIMARY KEY,
    customer_id uuid NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
    offer_id    uuid REFERENCES offer (id) ON DELETE SET NULL,
    kind        text NOT NULL,
    detail      text NOT NULL DEFAULT '',
    ip          text NOT NULL DEFAULT '',
    user_agent  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL
);
CREATE INDEX activity_customer_idx ON activity (customer_id, created_at);
CREATE INDEX activity_offer_idx ON activity (offer_id);

CREATE TABLE app (
    id                 uuid PRIMARY KEY,
    customer_id        uuid REFERENCES customer (id) ON DELETE CASCADE,
    session_token_hash text NOT NULL UNIQUE,
    status             text NOT NULL CHECK (status IN ('registered', 'associated', 'removed')),
    platform           text NOT NULL DEFAULT '',
    app_version        text NOT NULL DEFAULT '',
    last_seen_at       timestamptz,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    CHECK (status <> 'associated' OR customer_id IS NOT NULL)
);
CREATE INDEX app_customer_idx ON app (customer_id);

CREATE TABLE device (
    id           uuid PRIMARY KEY,
    app_id       uuid NOT NULL UNIQUE REFERENCES app (id) ON DELETE CASCADE,
    imei         text NOT NULL DEFAULT '',
    os           text NOT NULL,
    os_version   text NOT NULL DEFAULT '',
    model        text NOT NULL DEFAULT '',
    manufacturer text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

CREATE TABLE fcm_info (
    id         uuid PRIMARY KEY,
    app_id     uuid NOT NULL UNIQUE REFERENCES app (id) ON DELETE CASCADE,
    token      text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE signature (
    id                      uuid PRIMARY KEY,
    offer_id                uuid NOT NULL REFERENCES offer (id) ON DELETE RESTRICT,
    customer_id             uuid NOT NULL REFERENCES customer (id) ON DELETE RESTRICT,
    app_id                  uuid REFERENCES app (id) ON DELETE SET NULL,
    status                  text NOT NULL CHECK (status IN ('m1_received', 'm2_received', 'verified', 'completed', 'rejected')),
    public_key              text NOT NULL,
    username                text NOT NULL,
    m1_at                   timestamptz,
    m2_at                   timestamptz,
    customer_signature_hash text NOT NULL DEFAULT '',
    reject_code             text NOT NULL DEFAULT '',
    reject_reason           text NOT NULL DEFAULT '',
    completed_at            timestamptz,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL
);
CREATE INDEX signature_offer_idx ON signature (offer_id, created_at);
CREATE INDEX signature_customer_idx ON signature (customer_id, created_at);

CREATE TABLE signature_data (
    id           uuid PRIMARY KEY,
    signature_id uuid NOT NULL REFERENCES signature (id) ON DELETE CASCADE,
    kind         text NOT NULL,
    data         bytea NOT NULL,
    sha256       text NOT NULL CHECK (length(sha256) = 64),
    created_at   timestamptz NOT NULL,
    UNIQUE (signature_id, kind)
);

CREATE TABLE signature_validation (
    id           uuid PRIMARY KEY,
    signature_id uuid NOT NULL UNIQUE REFERENCES signature (id) ON DELETE CASCADE,
    valid        boolean NOT NULL,
    code         text NOT NULL DEFAULT '',
    reason       text NOT NULL DEFAULT '',
    report       text NOT NULL DEFAULT '',
    ts1_at       timestamptz,
    ts2_at       timestamptz,
    ts3_at       timestamptz,
    created_at   timestamptz NOT NULL,
    CHECK (valid OR code <> '')
);

CREATE TABLE verification_token (
    id           uuid PRIMARY KEY,
    customer_id  uuid NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
    app_id       uuid REFERENCES app (id) ON DELETE CASCADE,
    signature_id uuid REFERENCES signature (id) ON DELETE CASCADE,
    purpose      text NOT NULL CHECK (purpose IN ('association', 'two_factor', 'password_reset')),
    token_hash   text NOT NULL,
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    created_at   timestamptz NOT NULL
);
CREATE INDEX verification_token_customer_idx ON verification_token (customer_id, purpose, created_at);
CREATE INDEX verification_token_hash_idx ON verification_token (token_hash);
CREATE INDEX verification_token_signature_idx ON verification_token (signature_id);

CREATE TABLE timestamp_token (
    id              uuid PRIMARY KEY,
    signature_id    uuid REFERENCES signature (id) ON DELETE CASCADE,
    contract_id     uuid REFERENCES contract (id) ON DELETE RESTRICT,
    purpose         text NOT NULL CHECK (purpose IN ('ts1', 'ts2', 'ts3', 'contract', 'api')),
    hash_algorithm  text NOT NULL,
    message_imprint bytea NOT NULL,
    token           bytea NOT NULL,
    gen_time        timestamptz NOT NULL,
    serial_number   text NOT NULL,
    tsa_name        text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);
CREATE INDEX timestamp_token_signature_idx ON timestamp_token (signature_id);
CREATE INDEX timestamp_token_contract_idx ON timestamp_token (contract_id);

CREATE TABLE session (
    id           uuid PRIMARY KEY,
    token_hash   text NOT NULL UNIQUE,
    subject_type text NOT NULL CHECK (subject_type IN ('user', 'customer', 'app')),
    subject_id   uuid NOT NULL,
    data         text NOT NULL DEFAULT '',
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz,
    created_at   timestamptz NOT NULL
);
CREATE INDEX session_subject_idx ON session (subject_type, subject_id);
CREATE INDEX session_expires_idx ON session (expires_at);

CREATE TABLE audit_log (
    id          uuid PRIMARY KEY,
    actor_type  text NOT NULL CHECK (actor_type IN ('user', 'customer', 'app', 'api', 'system')),
    actor_id    text NOT NULL DEFAULT '',
    action      text NOT NULL,
    object_type text NOT NULL DEFAULT '',
    object_id   text NOT NULL DEFAULT '',
    detail      text NOT NULL DEFAULT '',
    ip          text NOT NULL DEFAULT '',
    request_id  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL
);
CREATE INDEX audit_log_created_idx ON audit_log (created_at);
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id, created_at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_type, actor_id, created_at);

CREATE TABLE email_log (
    id          uuid PRIMARY KEY,
    customer_id uuid REFERENCES customer (id) ON DELETE SET NULL,
    recipient   text NOT NULL,
    subject     text NOT NULL DEFAULT '',
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
CREATE INDEX email_log_customer_idx ON email_log (customer_id, created_at);
CREATE INDEX email_log_created_idx ON email_log (created_at);

CREATE TABLE sms_log (
    id          uuid PRIMARY KEY,
    customer_id uuid REFERENCES customer (id) ON DELETE SET NULL,
    recipient   text NOT NULL,
    body        text NOT NULL DEFAULT '',
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
CREATE INDEX sms_log_customer_idx ON sms_log (customer_id, created_at);
CREATE INDEX sms_log_created_idx ON sms_log (created_at);

CREATE TABLE setting (
    id         uuid PRIMARY KEY,
    key        text NOT NULL UNIQUE,
    value      text NOT NULL DEFAULT '',
    updated_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE shortener (
    id         uuid PRIMARY KEY,
    code       text NOT NULL UNIQUE,
    target_url text NOT NULL,
    expires_at timestamptz NOT NULL,
    hits       bigint NOT NULL DEFAULT 0 CHECK (hits >= 0),
    created_at timestamptz NOT NULL
);
CREATE INDEX shortener_expires_idx ON shortener (expires_at);

CREATE TABLE client_error_log (
    id          uuid PRIMARY KEY,
    source      text NOT NULL CHECK (source IN ('css', 'admin', 'app')),
    message     text NOT NULL,
    stack       text NOT NULL DEFAULT '',
    url         text NOT NULL DEFAULT '',
    user_agent  text NOT NULL DEFAULT '',
    customer_id uuid REFERENCES customer (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX client_error_log_created_idx ON client_error_log (created_at);

CREATE TABLE cert (
    id                 uuid PRIMARY KEY,
    name               text NOT NULL,
    subject            text NOT NULL,
    issuer             text NOT NULL,
    serial_number      text NOT NULL,
    fingerprint_sha256 text NOT NULL UNIQUE CHECK (length(fingerprint_sha256) = 64),
    not_before         timestamptz NOT NULL,
    not_after          timestamptz NOT NULL,
    chain_pem          text NOT NULL,
    pkcs12_enc         bytea NOT NULL,
    password_enc       bytea NOT NULL,
    active             boolean NOT NULL DEFAULT FALSE,
    created_by         uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    CHECK (not_after > not_before)
);
CREATE UNIQUE INDEX cert_one_active_idx ON cert (active) WHERE active = TRUE;

CREATE TABLE background_process (
    id          uuid PRIMARY KEY,
    kind        text NOT NULL,
    trigger_kind text NOT NULL DEFAULT '',
    slot        timestamptz,
    node        text NOT NULL DEFAULT '',
    status      text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'canceled')),
    progress    integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    result      text NOT NULL DEFAULT '',
    error       text NOT NULL DEFAULT '',
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    started_at  timestamptz,
    finished_at timestamptz,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX background_process_created_idx ON background_process (created_at);
CREATE INDEX background_process_status_idx ON background_process (status, created_at);
CREATE INDEX background_process_slot_idx ON background_process (kind, slot);

CREATE TABLE background_process_log (
    id         uuid PRIMARY KEY,
    process_id uuid NOT NULL REFERENCES background_process (id) ON DELETE CASCADE,
    level      text NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
    message    text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX background_process_log_process_idx ON background_process_log (process_id, created_at);

CREATE TABLE dev_inbox_message (
    id         uuid PRIMARY KEY,
    channel    text NOT NULL CHECK (channel IN ('sms', 'email', 'push')),
    recipient  text NOT NULL,
    subject    text NOT NULL DEFAULT '',
    body       text NOT NULL DEFAULT '',
    html       text NOT NULL DEFAULT '',
    data       text NOT NULL DEFAULT '',
    msg_key    text UNIQUE,
    created_at timestamptz NOT NULL
);
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
