-- The admin UI's administration pages: the permission to retry or cancel a
-- background job and to send an event to the bank's callback URLs again,
-- for admins and operators; the audit log page's filter by action.
-- Keep in step with the other engine's 00007.

-- +goose Up
INSERT INTO permission (id, name, description, created_at) VALUES
    ('00000000-0000-7000-8000-000000000116', 'process.manage', 'Retry or cancel background jobs and event deliveries', '2026-01-01T00:00:00.000000Z');
INSERT INTO role_permission (role_id, permission_id) VALUES
    ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-000000000116'),
    ('00000000-0000-7000-8000-000000000002', '00000000-0000-7000-8000-000000000116');
CREATE INDEX audit_log_action_idx ON audit_log (action, created_at);

-- +goose Down
DROP INDEX audit_log_action_idx;
DELETE FROM role_permission WHERE permission_id = '00000000-0000-7000-8000-000000000116';
DELETE FROM permission WHERE id = '00000000-0000-7000-8000-000000000116';
