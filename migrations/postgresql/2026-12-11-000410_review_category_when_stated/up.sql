-- A measure's 見直し区分 is recorded only when a source states it (issue 22): 板橋区DX推進計画2025's
-- seeds give none, and 文京区's draft names none. NULL: not stated.
ALTER TABLE measures ALTER COLUMN review_category DROP NOT NULL;
