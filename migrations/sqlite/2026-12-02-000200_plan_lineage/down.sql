PRAGMA foreign_keys = OFF;
BEGIN;
DROP TABLE name_revisions;
DROP TABLE plan_references;
ALTER TABLE indicators DROP COLUMN predecessor_id;

CREATE TABLE measures_rebuilt (
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
INSERT INTO measures_rebuilt SELECT id, plan_id, number, name, summary, strategy_id, main_goal_id, review_category,
    status, status_fiscal_year, status_recorded_at, added_fiscal_year, owners_and_others, change_notes, version,
    created_at, updated_at FROM measures;
DROP TABLE measures;
ALTER TABLE measures_rebuilt RENAME TO measures;

CREATE TABLE goals_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    number INTEGER NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (plan_id, number)
);
INSERT INTO goals_rebuilt SELECT id, plan_id, number, name FROM goals;
DROP TABLE goals;
ALTER TABLE goals_rebuilt RENAME TO goals;
COMMIT;
PRAGMA foreign_keys = ON;
