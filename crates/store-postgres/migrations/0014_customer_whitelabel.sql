-- White-label branding, customised e-mail templates and configuration deployments of customer
-- accounts. Times are TIMESTAMPTZ; JSON is JSONB.

CREATE TABLE customer_branding (
    customer_id      TEXT PRIMARY KEY REFERENCES companies (id),
    marketplace_id   TEXT NOT NULL REFERENCES marketplaces (id),
    logo_url         TEXT,
    primary_color    TEXT NOT NULL,
    secondary_color  TEXT NOT NULL,
    custom_domain    TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
-- A custom domain serves one customer of the marketplace (NULLs do not collide).
CREATE UNIQUE INDEX customer_branding_domain ON customer_branding (marketplace_id, custom_domain);

-- Only customised templates have a row; the others are the system's.
CREATE TABLE customer_email_templates (
    customer_id     TEXT NOT NULL REFERENCES companies (id),
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    name            TEXT NOT NULL,
    subject         TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (customer_id, name)
);

CREATE TABLE customer_deployments (
    id              TEXT PRIMARY KEY,
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    customer_id     TEXT NOT NULL REFERENCES companies (id),
    version         BIGINT NOT NULL,
    status          TEXT NOT NULL,
    config_hash     TEXT NOT NULL,
    configuration   JSONB NOT NULL,
    changes         JSONB NOT NULL,
    deployed_by     TEXT,
    deployed_at     TIMESTAMPTZ NOT NULL,
    superseded_at   TIMESTAMPTZ,
    -- Concurrent deploys can never both take a version number; the index also serves the
    -- history, newest first.
    UNIQUE (customer_id, version)
);
-- One current version per customer.
CREATE UNIQUE INDEX customer_deployments_current ON customer_deployments (customer_id) WHERE status = 'deployed';
