-- The web view's login through a municipality's OpenID provider (authorization code flow).
-- Twin of migrations/postgresql/2026-12-11-000310_oidc_logins.

-- A login begun at GET /auth/oidc/login and not yet finished: kept in the database, not in the
-- process, so that the provider's redirect may reach any server process, also after a restart.
-- Only a hash of the state is kept; the PKCE verifier and nonce never leave the server.
CREATE TABLE oidc_login_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    state_hash TEXT NOT NULL UNIQUE,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    pkce_verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used BOOLEAN NOT NULL DEFAULT FALSE
);

-- A one-time ticket the callback hands the web view in its address, exchanged once for a token
-- (the token itself never appears in an address). Only its hash is kept.
CREATE TABLE oidc_login_tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id),
    issuer TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used BOOLEAN NOT NULL DEFAULT FALSE
);
