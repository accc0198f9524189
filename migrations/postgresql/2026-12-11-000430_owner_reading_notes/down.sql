ALTER TABLE measure_owners DROP COLUMN reading_note;
