-- Where a certificate's private key lives (docs/key-custody.md): p12 (the
-- encrypted .p12 in pkcs12_enc and password_enc, as before this column),
-- pkcs11 (a PKCS#11 token; key_ref "token=LABEL;key=LABEL" or
-- "slot=N;key=LABEL", pkcs12_enc and password_enc empty) or csc (a Cloud
-- Signature Consortium API v2 credential; key_ref its credentialID).
-- Keep in step with ../postgres/00019_cert_key_source.sql.

-- +goose Up
ALTER TABLE cert ADD COLUMN key_source TEXT NOT NULL DEFAULT 'p12';
ALTER TABLE cert ADD COLUMN key_ref TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE cert DROP COLUMN key_ref;
ALTER TABLE cert DROP COLUMN key_source;
