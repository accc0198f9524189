DROP TABLE name_revisions;
DROP TABLE plan_references;
ALTER TABLE indicators DROP COLUMN predecessor_id;
ALTER TABLE measures DROP COLUMN predecessor_id, DROP COLUMN phase_id, ALTER COLUMN main_goal_id SET NOT NULL;
DROP INDEX goals_numbering;
ALTER TABLE goals DROP COLUMN phase_id, DROP COLUMN parent_id, DROP COLUMN symbol, DROP COLUMN kind;
ALTER TABLE goals ADD CONSTRAINT goals_plan_id_number_key UNIQUE (plan_id, number);
