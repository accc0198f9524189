-- Codes and usernames belong to a municipality: another municipality's `family-registry` or `hq`
-- neither collides with nor reveals one's own. Accounts of no municipality (system_admin, analyst)
-- share one namespace, keyed as municipality 0. SQLite cannot drop a column's UNIQUE: the three
-- tables are rebuilt with their ids (the documented 12-step procedure, foreign keys off; see
-- metadata.toml), so every reference to them still holds.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE departments_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    parent_id INTEGER REFERENCES departments(id),
    active BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO departments_new SELECT * FROM departments;
DROP TABLE departments;
ALTER TABLE departments_new RENAME TO departments;
CREATE INDEX departments_municipality ON departments(municipality_id);
CREATE UNIQUE INDEX departments_municipality_code ON departments(municipality_id, code);

CREATE TABLE plans_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    start_fiscal_year INTEGER NOT NULL,
    end_fiscal_year INTEGER NOT NULL,
    baseline_fiscal_year INTEGER,
    status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'closed')),
    predecessor_id INTEGER REFERENCES plans(id),
    grade_basis TEXT NOT NULL DEFAULT 'progress',
    grade_a_min TEXT NOT NULL DEFAULT '100',
    grade_b_min TEXT NOT NULL DEFAULT '80',
    grade_c_min TEXT NOT NULL DEFAULT '50',
    on_track_min_ratio TEXT NOT NULL DEFAULT '0.95',
    behind_min_ratio TEXT NOT NULL DEFAULT '0.6',
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (start_fiscal_year <= end_fiscal_year)
);
INSERT INTO plans_new SELECT * FROM plans;
DROP TABLE plans;
ALTER TABLE plans_new RENAME TO plans;
CREATE INDEX plans_municipality ON plans(municipality_id);
CREATE UNIQUE INDEX plans_municipality_code ON plans(municipality_id, code);

CREATE TABLE users_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('system_admin', 'analyst', 'admin', 'hq', 'department', 'viewer')),
    department_id INTEGER REFERENCES departments(id),
    active BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    token_version INTEGER NOT NULL DEFAULT 0,
    municipality_id INTEGER REFERENCES municipalities(id),
    CHECK (role NOT IN ('system_admin', 'analyst') OR municipality_id IS NULL)
);
INSERT INTO users_new SELECT * FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_municipality ON users(municipality_id);
CREATE UNIQUE INDEX users_municipality_username ON users(COALESCE(municipality_id, 0), username);
-- A login that names no municipality looks the username up across municipalities.
CREATE INDEX users_username ON users(username);

COMMIT;
PRAGMA foreign_keys = ON;
