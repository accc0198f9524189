-- A second counter per municipality (src/db/data_version.rs): raised by every write of the
-- municipality except those of its actuals (submissions and their reviews). A plan's records
-- besides its actuals (goals, measures, indicators, targets, names, collections, 施策評価,
-- departments) are read again only when it moves, so an evaluation asked for right after a
-- department's actual was written reads the actuals, not the whole plan again.
ALTER TABLE municipality_data_versions ADD COLUMN non_actual_counter BIGINT NOT NULL DEFAULT 0;
