-- Plan lineage: layers of goals (基本目標, ICT活用ビジョン, 基本方針, 計画の目的) with a kind, a parent and a
-- phase; measures without a main goal and placed in a phase; links to predecessor measures and
-- indicators; references to plans above and national policies; name revisions with the fiscal
-- year they take effect. Twin of migrations/postgresql/2026-12-02-000200_plan_lineage.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE goals_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    number INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT '基本目標',
    symbol TEXT,
    parent_id INTEGER REFERENCES goals(id),
    phase_id INTEGER REFERENCES plan_phases(id)
);
INSERT INTO goals_rebuilt (id, plan_id, number, name) SELECT id, plan_id, number, name FROM goals;
DROP TABLE goals;
ALTER TABLE goals_rebuilt RENAME TO goals;
-- Numbers are unique per plan, kind and phase (前期 and 後期 each number their 基本方針 from 1).
CREATE UNIQUE INDEX goals_numbering ON goals(plan_id, kind, COALESCE(phase_id, 0), number);

CREATE TABLE measures_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    number INTEGER NOT NULL,
    name TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    strategy_id INTEGER REFERENCES strategies(id),
    main_goal_id INTEGER REFERENCES goals(id),
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
    phase_id INTEGER REFERENCES plan_phases(id),
    predecessor_id INTEGER REFERENCES measures(id),
    UNIQUE (plan_id, number)
);
INSERT INTO measures_rebuilt (id, plan_id, number, name, summary, strategy_id, main_goal_id, review_category,
    status, status_fiscal_year, status_recorded_at, added_fiscal_year, owners_and_others, change_notes, version,
    created_at, updated_at)
SELECT id, plan_id, number, name, summary, strategy_id, main_goal_id, review_category, status,
    status_fiscal_year, status_recorded_at, added_fiscal_year, owners_and_others, change_notes, version,
    created_at, updated_at
FROM measures;
DROP TABLE measures;
ALTER TABLE measures_rebuilt RENAME TO measures;

ALTER TABLE indicators ADD COLUMN predecessor_id INTEGER REFERENCES indicators(id);

-- Plans above this one (基本計画, 実現プラン) and national policies it follows, as references.
CREATE TABLE plan_references (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    kind TEXT NOT NULL CHECK (kind IN ('higher_plan', 'national_policy', 'related_plan')),
    title TEXT NOT NULL,
    referenced_plan_id INTEGER REFERENCES plans(id),
    url TEXT,
    notes TEXT,
    recorded_by INTEGER REFERENCES users(id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX plan_references_plan ON plan_references(plan_id);

-- Names over time of plans, measures and indicators: a row is the name from its effective fiscal
-- year (NULL: every year) as recorded at recorded_at. Appended, never updated.
CREATE TABLE name_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_type TEXT NOT NULL CHECK (entity_type IN ('plan', 'measure', 'indicator')),
    entity_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    effective_from_fiscal_year INTEGER,
    reason TEXT NOT NULL DEFAULT '',
    recorded_by INTEGER REFERENCES users(id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX name_revisions_entity ON name_revisions(entity_type, entity_id);

-- Renames made before this migration are in the audit log only: carry them over, the name each
-- entity was created with first.
INSERT INTO name_revisions (entity_type, entity_id, name, effective_from_fiscal_year, reason, recorded_by, recorded_at)
SELECT a.entity_type, a.entity_id, json_extract(a.old_value, '$.name'), NULL, '', NULL,
    (SELECT MIN(b.occurred_at) FROM audit_log b WHERE b.entity_type = a.entity_type AND b.entity_id = a.entity_id)
FROM audit_log a
WHERE a.id IN (
    SELECT MIN(c.id) FROM audit_log c
    WHERE c.entity_type IN ('plan', 'measure', 'indicator') AND c.entity_id IS NOT NULL
      AND json_valid(c.old_value) AND json_valid(c.new_value)
      AND json_extract(c.old_value, '$.name') <> json_extract(c.new_value, '$.name')
    GROUP BY c.entity_type, c.entity_id
);
INSERT INTO name_revisions (entity_type, entity_id, name, effective_from_fiscal_year, reason, recorded_by, recorded_at)
SELECT entity_type, entity_id, json_extract(new_value, '$.name'), NULL, COALESCE(reason, ''), actor_id, occurred_at
FROM audit_log
WHERE entity_type IN ('plan', 'measure', 'indicator') AND entity_id IS NOT NULL
  AND json_valid(old_value) AND json_valid(new_value)
  AND json_extract(old_value, '$.name') <> json_extract(new_value, '$.name')
ORDER BY id;

COMMIT;
PRAGMA foreign_keys = ON;
