-- A reading of the seeds travels with the data it concerns (issue 22): plans, their phases, goals,
-- measures and references carry a note as indicators already do. A reference also says which
-- source names it and when the referenced law or plan was issued (YYYY, YYYY-MM or YYYY-MM-DD, as
-- precisely as the source dates it).
ALTER TABLE plans ADD COLUMN reading_note TEXT;
ALTER TABLE plan_phases ADD COLUMN reading_note TEXT;
ALTER TABLE goals ADD COLUMN reading_note TEXT;
ALTER TABLE measures ADD COLUMN reading_note TEXT;
ALTER TABLE plan_references ADD COLUMN reading_note TEXT;
ALTER TABLE plan_references ADD COLUMN source TEXT;
ALTER TABLE plan_references ADD COLUMN issued TEXT;
