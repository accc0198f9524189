ALTER TABLE plan_references DROP COLUMN issued;
ALTER TABLE plan_references DROP COLUMN source;
ALTER TABLE plan_references DROP COLUMN reading_note;
ALTER TABLE measures DROP COLUMN reading_note;
ALTER TABLE goals DROP COLUMN reading_note;
ALTER TABLE plan_phases DROP COLUMN reading_note;
ALTER TABLE plans DROP COLUMN reading_note;
