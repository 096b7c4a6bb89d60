-- The web dashboard: passwords, one-time invitation and reset links, server-side sessions and
-- failed sign-ins (for the per-account and per-address limit); and partner suspension.
-- Secrets are never stored: a link's token and a session's id are kept as their SHA-256 (hex),
-- so a copy of the database opens no account. Times are Unix epoch milliseconds (UTC).

ALTER TABLE partners ADD COLUMN suspended_at INTEGER;

-- An Argon2id PHC string per user who has set a password.
CREATE TABLE user_passwords (
    user_id         TEXT PRIMARY KEY REFERENCES users (id),
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    password_hash   TEXT NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- An invitation (sets a first password) or a reset link; used once, before it expires.
CREATE TABLE user_tokens (
    token_hash      TEXT PRIMARY KEY,
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    purpose         TEXT NOT NULL CHECK (purpose IN ('invitation', 'reset')),
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER
);
CREATE INDEX user_tokens_user ON user_tokens (user_id);

-- A signed-in browser: the user acting in one company (one membership), with the session's
-- CSRF token. Deleting the row signs the browser out in every process at once.
CREATE TABLE web_sessions (
    id_hash         TEXT PRIMARY KEY,
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    user_id         TEXT NOT NULL,
    company_id      TEXT NOT NULL,
    csrf_token      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    FOREIGN KEY (user_id, company_id) REFERENCES memberships (user_id, company_id)
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

-- One row per failed sign-in, under `email:<address>` and `ip:<address>`; counted over a
-- sliding window, purged when older than it.
CREATE TABLE sign_in_failures (
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    subject         TEXT NOT NULL,
    at              INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_subject ON sign_in_failures (marketplace_id, subject, at);
CREATE INDEX sign_in_failures_at ON sign_in_failures (at);
