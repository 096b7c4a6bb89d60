-- Foundation: marketplaces, companies, users, memberships, partner enrolment, API keys and the
-- append-only event log. Times are Unix epoch milliseconds (UTC).

CREATE TABLE marketplaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    is_default  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);
-- At most one default marketplace, even when two processes bootstrap at once.
CREATE UNIQUE INDEX marketplaces_one_default ON marketplaces (is_default) WHERE is_default = 1;

CREATE TABLE companies (
    id              TEXT PRIMARY KEY,
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('operator', 'partner', 'customer')),
    created_at      INTEGER NOT NULL
);
CREATE INDEX companies_marketplace ON companies (marketplace_id);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    email           TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    UNIQUE (marketplace_id, email)
);

CREATE TABLE memberships (
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    company_id      TEXT NOT NULL REFERENCES companies (id),
    roles           TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, company_id)
);

CREATE TABLE partners (
    id                     TEXT PRIMARY KEY,
    marketplace_id         TEXT NOT NULL REFERENCES marketplaces (id),
    company_id             TEXT NOT NULL UNIQUE REFERENCES companies (id),
    contact_email          TEXT NOT NULL,
    plan                   TEXT NOT NULL,
    aws_account_connected  INTEGER NOT NULL DEFAULT 0,
    created_at             INTEGER NOT NULL
);
CREATE INDEX partners_marketplace ON partners (marketplace_id, created_at, id);

CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    user_id         TEXT NOT NULL,
    company_id      TEXT NOT NULL,
    name            TEXT NOT NULL,
    display_prefix  TEXT NOT NULL,
    secret_hash     BLOB NOT NULL,
    allowed_ips     TEXT NOT NULL DEFAULT '',
    expires_at      INTEGER,
    revoked_at      INTEGER,
    created_at      INTEGER NOT NULL,
    FOREIGN KEY (user_id, company_id) REFERENCES memberships (user_id, company_id)
);
CREATE INDEX api_keys_user ON api_keys (marketplace_id, user_id, created_at, id);

CREATE TABLE events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    event_type      TEXT NOT NULL,
    subject_type    TEXT NOT NULL,
    subject_id      TEXT NOT NULL,
    partner_id      TEXT,
    actor_user_id   TEXT,
    payload         TEXT NOT NULL,
    occurred_at     INTEGER NOT NULL,
    recorded_at     INTEGER NOT NULL
);
CREATE INDEX events_subject ON events (marketplace_id, subject_id, seq);
CREATE INDEX events_type_recorded ON events (event_type, recorded_at);
