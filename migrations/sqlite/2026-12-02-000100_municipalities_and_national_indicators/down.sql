PRAGMA foreign_keys = OFF;
BEGIN;
DROP INDEX indicators_national;
ALTER TABLE indicators DROP COLUMN national_indicator_code;
DROP TABLE national_indicators;
DROP INDEX plans_municipality;
DROP INDEX departments_municipality;
DROP INDEX audit_log_municipality;
ALTER TABLE audit_log DROP COLUMN municipality_id;
-- The two new roles have no earlier equivalent: a system_admin becomes an admin, analysts go.
DELETE FROM users WHERE role = 'analyst';
CREATE TABLE users_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'hq', 'department', 'viewer')),
    department_id INTEGER REFERENCES departments(id),
    active BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    token_version INTEGER NOT NULL DEFAULT 0
);
INSERT INTO users_old
SELECT id, username, display_name, password_hash, CASE role WHEN 'system_admin' THEN 'admin' ELSE role END,
       department_id, active, created_at, updated_at, token_version
FROM users;
DROP TABLE users;
ALTER TABLE users_old RENAME TO users;
COMMIT;
PRAGMA foreign_keys = ON;
