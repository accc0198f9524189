DROP TABLE plan_milestones;
DROP TABLE plan_governance_bodies;
ALTER TABLE plan_phases DROP COLUMN purpose_source;
ALTER TABLE plan_phases DROP COLUMN purpose;
