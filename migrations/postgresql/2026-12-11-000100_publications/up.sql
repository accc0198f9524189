-- 公表 (publication): each publication of a plan's year, its content frozen as published. Rows are
-- never updated nor deleted: a correction is a new version, and the history is the rows.
-- Twin of migrations/sqlite/2026-12-11-000100_publications.
CREATE TABLE publications (
    id SERIAL PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    fiscal_year INTEGER NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    published_at TIMESTAMP NOT NULL,
    -- Internal: never shown by the public endpoints.
    published_by INTEGER REFERENCES users(id),
    licence TEXT NOT NULL,
    -- The dataset's title and publisher as published (taken from the snapshot), for the catalogue.
    title TEXT NOT NULL,
    publisher TEXT NOT NULL,
    -- Why a version after the first was published (public).
    correction_note TEXT,
    -- The published content (JSON text) and the SHA-256 of that text, hex, for the ETag.
    snapshot TEXT NOT NULL,
    snapshot_sha256 TEXT NOT NULL,
    UNIQUE (plan_id, fiscal_year, version),
    CHECK (version = 1 OR correction_note IS NOT NULL)
);
CREATE INDEX publications_by_municipality ON publications (municipality_id, plan_id, fiscal_year);
