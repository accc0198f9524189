-- Fails, as it must, when two municipalities hold the same code or username.
DROP INDEX users_username;
DROP INDEX users_municipality_username;
ALTER TABLE users ADD CONSTRAINT users_username_key UNIQUE (username);
ALTER TABLE plans DROP CONSTRAINT plans_municipality_code;
ALTER TABLE plans ADD CONSTRAINT plans_code_key UNIQUE (code);
ALTER TABLE departments DROP CONSTRAINT departments_municipality_code;
ALTER TABLE departments ADD CONSTRAINT departments_code_key UNIQUE (code);
