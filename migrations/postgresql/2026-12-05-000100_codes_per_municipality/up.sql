-- Codes and usernames belong to a municipality: another municipality's `family-registry` or `hq`
-- neither collides with nor reveals one's own. Accounts of no municipality (system_admin, analyst)
-- share one namespace, keyed as municipality 0.
ALTER TABLE departments DROP CONSTRAINT departments_code_key;
ALTER TABLE departments ADD CONSTRAINT departments_municipality_code UNIQUE (municipality_id, code);
ALTER TABLE plans DROP CONSTRAINT plans_code_key;
ALTER TABLE plans ADD CONSTRAINT plans_municipality_code UNIQUE (municipality_id, code);
ALTER TABLE users DROP CONSTRAINT users_username_key;
CREATE UNIQUE INDEX users_municipality_username ON users (COALESCE(municipality_id, 0), username);
-- A login that names no municipality looks the username up across municipalities.
CREATE INDEX users_username ON users (username);
