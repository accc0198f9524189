-- What the seeds say of how a plan is made, kept as records with their sources rather than prose
-- (issue 22): the bodies that examine and decide it, in order (検討・決定体制), the dated steps of its
-- drafting (策定, パブリック・コメント, 議会報告; date as precise as the source: YYYY, YYYY-MM or
-- YYYY-MM-DD; planned when the source gives a schedule) and a phase's purpose.
ALTER TABLE plan_phases ADD COLUMN purpose TEXT;
ALTER TABLE plan_phases ADD COLUMN purpose_source TEXT;
CREATE TABLE plan_governance_bodies (
    id SERIAL PRIMARY KEY,
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    source TEXT,
    reading_note TEXT
);
CREATE INDEX plan_governance_bodies_plan ON plan_governance_bodies(plan_id);
CREATE TABLE plan_milestones (
    id SERIAL PRIMARY KEY,
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    position INTEGER NOT NULL,
    what TEXT NOT NULL,
    date TEXT NOT NULL,
    planned BOOLEAN NOT NULL DEFAULT FALSE,
    body TEXT,
    source TEXT,
    reading_note TEXT
);
CREATE INDEX plan_milestones_plan ON plan_milestones(plan_id);
