-- A data version per municipality (src/db/data_version.rs): a write transaction raises the row of
-- the municipality whose data it changes, so a write in one municipality leaves every other
-- municipality's cached answers valid, and writes of different municipalities never wait for one
-- shared row. A municipality gets its row at its first write (an absent row reads as 0).
-- The single data_version row stays, raised only by writes that belong to no one municipality
-- (registering a municipality, the national catalogue, a system administrator's changes).
CREATE TABLE municipality_data_versions (
    municipality_id INTEGER PRIMARY KEY NOT NULL,
    counter BIGINT NOT NULL
);
