-- Bumped when a password changes or the account is deactivated: tokens carrying an older
-- version stop working at once.
ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
