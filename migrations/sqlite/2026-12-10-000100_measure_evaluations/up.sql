-- 施策評価 (measure evaluations): each owning department's report on a measure's fiscal year, going
-- through the same review as actuals; the 本部's assessment of the measure's year (本部評価, 方向性)
-- with the plan revisions it led to (計画への反映); and the 方向性 a plan offers.
-- Twin of migrations/postgresql/2026-12-10-000100_measure_evaluations.

-- The current state of one department's evaluation of one measure and year; its content is in
-- measure_evaluation_events, one row per version.
CREATE TABLE measure_evaluations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    measure_id INTEGER NOT NULL REFERENCES measures(id),
    fiscal_year INTEGER NOT NULL,
    department_id INTEGER NOT NULL REFERENCES departments(id),
    status TEXT NOT NULL CHECK (status IN ('submitted', 'returned', 'approved')),
    is_sample BOOLEAN NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    UNIQUE (measure_id, fiscal_year, department_id)
);

CREATE TABLE measure_evaluation_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    evaluation_id INTEGER NOT NULL REFERENCES measure_evaluations(id),
    version INTEGER NOT NULL,
    event TEXT NOT NULL,
    work_done TEXT NOT NULL,
    roadmap_progress TEXT NOT NULL CHECK (roadmap_progress IN ('on_schedule', 'ahead', 'delayed', 'not_started', 'completed')),
    progress_reason TEXT NOT NULL DEFAULT '',
    self_grade TEXT NOT NULL CHECK (self_grade IN ('A', 'B', 'C', 'D')),
    issues TEXT NOT NULL DEFAULT '',
    next_steps TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('submitted', 'returned', 'approved')),
    is_sample BOOLEAN NOT NULL DEFAULT 0,
    comment TEXT,
    actor_id INTEGER REFERENCES users(id),
    actor_department_id INTEGER REFERENCES departments(id),
    recorded_at TIMESTAMP NOT NULL,
    UNIQUE (evaluation_id, version)
);

-- The 本部's assessment of one measure and year; its content is in measure_assessment_events.
CREATE TABLE measure_assessments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    measure_id INTEGER NOT NULL REFERENCES measures(id),
    fiscal_year INTEGER NOT NULL,
    is_sample BOOLEAN NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    UNIQUE (measure_id, fiscal_year)
);

CREATE TABLE measure_assessment_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    assessment_id INTEGER NOT NULL REFERENCES measure_assessments(id),
    version INTEGER NOT NULL,
    hq_grade TEXT NOT NULL CHECK (hq_grade IN ('A', 'B', 'C', 'D')),
    hq_comment TEXT NOT NULL DEFAULT '',
    direction TEXT NOT NULL,
    direction_reason TEXT NOT NULL,
    -- The plan revisions it led to, as recorded in this version: a JSON array of {kind, id}.
    plan_links TEXT NOT NULL DEFAULT '[]',
    is_sample BOOLEAN NOT NULL DEFAULT 0,
    actor_id INTEGER REFERENCES users(id),
    recorded_at TIMESTAMP NOT NULL,
    UNIQUE (assessment_id, version)
);

-- The current assessments' plan revisions, one row each, to find from a measure or an indicator
-- the evaluations that led to its revisions.
CREATE TABLE measure_assessment_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    assessment_id INTEGER NOT NULL REFERENCES measure_assessments(id),
    kind TEXT NOT NULL CHECK (kind IN ('target_revision', 'indicator_added', 'measure_completed', 'measure_retired')),
    target_id INTEGER NOT NULL,
    measure_id INTEGER NOT NULL REFERENCES measures(id),
    indicator_id INTEGER REFERENCES indicators(id),
    UNIQUE (assessment_id, kind, target_id)
);
CREATE INDEX measure_assessment_links_measure ON measure_assessment_links(measure_id);
CREATE INDEX measure_assessment_links_indicator ON measure_assessment_links(indicator_id);

-- The 方向性 a plan's assessments choose from, in order; none: the defaults.
CREATE TABLE plan_evaluation_directions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (plan_id, position),
    UNIQUE (plan_id, name)
);
