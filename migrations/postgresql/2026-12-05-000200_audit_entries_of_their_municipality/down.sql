-- Nothing to undo: which entries had no municipality before is not kept, and every one now names
-- the municipality it concerns.
SELECT 1;
