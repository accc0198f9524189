-- The earlier schema cannot say "not stated": such measures are written back as 継続, the
-- category the earlier demo files gave measures carried over, so that the column can be NOT NULL.
PRAGMA foreign_keys = OFF;
BEGIN;

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
    reading_note TEXT,
    UNIQUE (plan_id, number)
);
INSERT INTO measures_rebuilt (id, plan_id, number, name, summary, strategy_id, main_goal_id, review_category,
    status, status_fiscal_year, status_recorded_at, added_fiscal_year, owners_and_others, change_notes, version,
    created_at, updated_at, phase_id, predecessor_id, reading_note)
SELECT id, plan_id, number, name, summary, strategy_id, main_goal_id, COALESCE(review_category, 'continued'), status,
    status_fiscal_year, status_recorded_at, added_fiscal_year, owners_and_others, change_notes, version,
    created_at, updated_at, phase_id, predecessor_id, reading_note
FROM measures;
DROP TABLE measures;
ALTER TABLE measures_rebuilt RENAME TO measures;

COMMIT;
PRAGMA foreign_keys = ON;
