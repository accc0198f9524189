-- The earlier schema cannot say "not stated": such measures are written back as 継続.
UPDATE measures SET review_category = 'continued' WHERE review_category IS NULL;
ALTER TABLE measures ALTER COLUMN review_category SET NOT NULL;
