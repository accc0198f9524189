-- A municipality's OpenID provider (庁内の認証基盤), and the provider identities linked to accounts.
-- Twin of migrations/sqlite/2026-12-11-000300_identity_providers.

-- One provider per municipality; an issuer serves one municipality, so a token's issuer names it.
-- client_secret is stored for the authorization code flow and never leaves the server.
CREATE TABLE identity_providers (
    id SERIAL PRIMARY KEY,
    municipality_id INTEGER NOT NULL UNIQUE REFERENCES municipalities(id),
    issuer TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    client_secret TEXT NOT NULL DEFAULT '',
    audience TEXT NOT NULL,
    provisioning TEXT NOT NULL CHECK (provisioning IN ('auto', 'pre_created')),
    local_passwords_allowed BOOLEAN NOT NULL,
    -- The claim mappings as a JSON array, in the order they are tried.
    claim_mappings TEXT NOT NULL,
    username_claim TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- The account a provider identity (issuer, subject) stands for.
CREATE TABLE external_identities (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (issuer, subject)
);
CREATE INDEX external_identities_user ON external_identities (user_id);
