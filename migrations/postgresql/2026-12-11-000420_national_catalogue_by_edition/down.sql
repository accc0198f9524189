ALTER TABLE national_indicators DROP COLUMN edition_id;
DROP TABLE national_edition_items;
DROP TABLE national_editions;
