-- Plan lineage: layers of goals (基本目標, ICT活用ビジョン, 基本方針, 計画の目的) with a kind, a parent and a
-- phase; measures without a main goal and placed in a phase; links to predecessor measures and
-- indicators; references to plans above and national policies; name revisions with the fiscal
-- year they take effect. Twin of migrations/sqlite/2026-12-02-000200_plan_lineage.

ALTER TABLE goals
    ADD COLUMN kind TEXT NOT NULL DEFAULT '基本目標',
    ADD COLUMN symbol TEXT,
    ADD COLUMN parent_id INTEGER REFERENCES goals(id),
    ADD COLUMN phase_id INTEGER REFERENCES plan_phases(id);
ALTER TABLE goals DROP CONSTRAINT goals_plan_id_number_key;
-- Numbers are unique per plan, kind and phase (前期 and 後期 each number their 基本方針 from 1).
CREATE UNIQUE INDEX goals_numbering ON goals(plan_id, kind, COALESCE(phase_id, 0), number);

ALTER TABLE measures
    ALTER COLUMN main_goal_id DROP NOT NULL,
    ADD COLUMN phase_id INTEGER REFERENCES plan_phases(id),
    ADD COLUMN predecessor_id INTEGER REFERENCES measures(id);

ALTER TABLE indicators ADD COLUMN predecessor_id INTEGER REFERENCES indicators(id);

-- Plans above this one (基本計画, 実現プラン) and national policies it follows, as references.
CREATE TABLE plan_references (
    id SERIAL PRIMARY KEY,
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
    id SERIAL PRIMARY KEY,
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
SELECT a.entity_type, a.entity_id, a.old_value::jsonb ->> 'name', NULL, '', NULL,
    (SELECT MIN(b.occurred_at) FROM audit_log b WHERE b.entity_type = a.entity_type AND b.entity_id = a.entity_id)
FROM audit_log a
WHERE a.id IN (
    SELECT MIN(c.id) FROM audit_log c
    WHERE c.entity_type IN ('plan', 'measure', 'indicator') AND c.entity_id IS NOT NULL
      AND c.old_value IS NOT NULL AND c.new_value IS NOT NULL
      AND (c.old_value::jsonb ->> 'name') <> (c.new_value::jsonb ->> 'name')
    GROUP BY c.entity_type, c.entity_id
);
INSERT INTO name_revisions (entity_type, entity_id, name, effective_from_fiscal_year, reason, recorded_by, recorded_at)
SELECT entity_type, entity_id, new_value::jsonb ->> 'name', NULL, COALESCE(reason, ''), actor_id, occurred_at
FROM audit_log
WHERE entity_type IN ('plan', 'measure', 'indicator') AND entity_id IS NOT NULL
  AND old_value IS NOT NULL AND new_value IS NOT NULL
  AND (old_value::jsonb ->> 'name') <> (new_value::jsonb ->> 'name')
ORDER BY id;
