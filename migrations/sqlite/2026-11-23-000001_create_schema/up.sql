-- municipal-kpi schema. One file per backend with the same tables; see migrations/postgresql for the twin.
-- Decimal values are stored as canonical decimal text: exact on both backends (SQLite has no exact
-- numeric type), parsed into rust_decimal in the storage layer.

CREATE TABLE municipalities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE departments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    parent_id INTEGER REFERENCES departments(id),
    active BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'hq', 'department', 'viewer')),
    department_id INTEGER REFERENCES departments(id),
    active BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE plans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    code TEXT NOT NULL UNIQUE,
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

CREATE TABLE plan_phases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    name TEXT NOT NULL,
    start_fiscal_year INTEGER NOT NULL,
    end_fiscal_year INTEGER NOT NULL
);
CREATE INDEX plan_phases_plan ON plan_phases(plan_id);

CREATE TABLE goals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    number INTEGER NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (plan_id, number)
);

CREATE TABLE strategies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    number INTEGER NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (plan_id, number)
);

CREATE TABLE measures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    number INTEGER NOT NULL,
    name TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    strategy_id INTEGER REFERENCES strategies(id),
    main_goal_id INTEGER NOT NULL REFERENCES goals(id),
    review_category TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'completed', 'retired')),
    status_fiscal_year INTEGER,
    status_recorded_at TIMESTAMP,
    added_fiscal_year INTEGER,
    owners_and_others BOOLEAN NOT NULL DEFAULT 0,
    change_notes TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (plan_id, number)
);

CREATE TABLE measure_secondary_goals (
    measure_id INTEGER NOT NULL REFERENCES measures(id),
    goal_id INTEGER NOT NULL REFERENCES goals(id),
    PRIMARY KEY (measure_id, goal_id)
);

-- Owning departments over time: a row is never deleted; removal sets until_fiscal_year/removed_at.
CREATE TABLE measure_owners (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    measure_id INTEGER NOT NULL REFERENCES measures(id),
    department_id INTEGER NOT NULL REFERENCES departments(id),
    is_lead BOOLEAN NOT NULL DEFAULT 0,
    position INTEGER NOT NULL DEFAULT 0,
    from_fiscal_year INTEGER,
    until_fiscal_year INTEGER,
    recorded_at TIMESTAMP NOT NULL,
    removed_at TIMESTAMP
);
CREATE INDEX measure_owners_measure ON measure_owners(measure_id);
CREATE INDEX measure_owners_department ON measure_owners(department_id);

CREATE TABLE measure_roadmap (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    measure_id INTEGER NOT NULL REFERENCES measures(id),
    track TEXT NOT NULL DEFAULT '',
    fiscal_year INTEGER NOT NULL,
    activity TEXT NOT NULL
);
CREATE INDEX measure_roadmap_measure ON measure_roadmap(measure_id);

CREATE TABLE indicators (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    measure_id INTEGER NOT NULL REFERENCES measures(id),
    number INTEGER,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL CHECK (kind IN ('count', 'ratio', 'percent', 'milestone')),
    direction TEXT NOT NULL,
    numerator_label TEXT,
    denominator_label TEXT,
    stages TEXT,
    department_id INTEGER REFERENCES departments(id),
    baseline_fiscal_year INTEGER,
    baseline_value TEXT,
    baseline_stage INTEGER,
    baseline_text TEXT,
    grade_basis TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'retired')),
    added_fiscal_year INTEGER,
    retired_fiscal_year INTEGER,
    retired_at TIMESTAMP,
    retirement_reason TEXT,
    replaces_id INTEGER REFERENCES indicators(id),
    reading_note TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX indicators_measure ON indicators(measure_id);

-- Target history: a revision is appended, never updated.
CREATE TABLE target_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    indicator_id INTEGER NOT NULL REFERENCES indicators(id),
    value TEXT,
    stage INTEGER,
    text TEXT,
    target_fiscal_year INTEGER NOT NULL,
    effective_from_fiscal_year INTEGER NOT NULL,
    interim TEXT,
    reason TEXT NOT NULL DEFAULT '',
    recorded_by INTEGER REFERENCES users(id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX target_revisions_indicator ON target_revisions(indicator_id);

-- Definition history (e.g. マイナンバーカード 交付枚数/人口 → 保有枚数/人口 from a given year).
CREATE TABLE indicator_definitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    indicator_id INTEGER NOT NULL REFERENCES indicators(id),
    effective_from_fiscal_year INTEGER NOT NULL,
    name TEXT NOT NULL,
    numerator_label TEXT,
    denominator_label TEXT,
    reason TEXT NOT NULL DEFAULT '',
    recorded_by INTEGER REFERENCES users(id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX indicator_definitions_indicator ON indicator_definitions(indicator_id);

CREATE TABLE collection_windows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    fiscal_year INTEGER NOT NULL,
    deadline DATE,
    opened_by INTEGER REFERENCES users(id),
    opened_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    UNIQUE (plan_id, fiscal_year)
);

-- The current state of one indicator's actual for one fiscal year; every version is in actual_events.
CREATE TABLE actuals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    indicator_id INTEGER NOT NULL REFERENCES indicators(id),
    fiscal_year INTEGER NOT NULL,
    value TEXT,
    numerator TEXT,
    denominator TEXT,
    stage INTEGER,
    note TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('submitted', 'returned', 'approved')),
    is_sample BOOLEAN NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    submitted_by INTEGER REFERENCES users(id),
    submitted_at TIMESTAMP NOT NULL,
    reviewed_by INTEGER REFERENCES users(id),
    reviewed_at TIMESTAMP,
    review_comment TEXT,
    UNIQUE (indicator_id, fiscal_year)
);

CREATE TABLE actual_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actual_id INTEGER NOT NULL REFERENCES actuals(id),
    version INTEGER NOT NULL,
    event TEXT NOT NULL,
    value TEXT,
    numerator TEXT,
    denominator TEXT,
    stage INTEGER,
    note TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    is_sample BOOLEAN NOT NULL DEFAULT 0,
    comment TEXT,
    actor_id INTEGER REFERENCES users(id),
    actor_department_id INTEGER REFERENCES departments(id),
    recorded_at TIMESTAMP NOT NULL,
    UNIQUE (actual_id, version)
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at TIMESTAMP NOT NULL,
    actor_id INTEGER REFERENCES users(id),
    actor_username TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id INTEGER,
    old_value TEXT,
    new_value TEXT,
    reason TEXT
);
CREATE INDEX audit_log_entity ON audit_log(entity_type, entity_id);
CREATE INDEX audit_log_occurred ON audit_log(occurred_at);
