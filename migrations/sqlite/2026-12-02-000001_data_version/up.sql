-- One row whose counter every committed write transaction raises (src/db/mod.rs, write_call):
-- a server process reuses a cached evaluation only while the counter it reads is unchanged,
-- so a write made through any process invalidates every process's cache.
CREATE TABLE data_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    counter BIGINT NOT NULL
);
INSERT INTO data_version (id, counter) VALUES (1, 0);
