-- A 所管課 link can be a reading of the seeds too (issue 22): no seed of 板橋区DX推進計画2025 names
-- the departments owning its measures, so the link says so where it is stored and shown.
ALTER TABLE measure_owners ADD COLUMN reading_note TEXT;
