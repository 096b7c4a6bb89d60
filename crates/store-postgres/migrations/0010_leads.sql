-- Leads API v2. Times are TIMESTAMPTZ; JSON documents are JSONB.

CREATE TABLE leads (
    id                      TEXT PRIMARY KEY,
    marketplace_id          TEXT NOT NULL REFERENCES marketplaces (id),
    lead_type               TEXT NOT NULL,
    status                  TEXT NOT NULL,
    partner                 TEXT NOT NULL,
    customer                JSONB NOT NULL,
    customer_company_name   TEXT NOT NULL,
    search_text             TEXT NOT NULL,
    notes                   TEXT,
    custom_attributes       JSONB NOT NULL,
    owner_company_id        TEXT,
    creator_user_id         TEXT,
    creator_company_id      TEXT,
    creator_company_name    TEXT,
    creator_role            TEXT,
    reseller_user_id        TEXT,
    reseller_company_id     TEXT,
    profile_company_id      TEXT,
    profile_company_name    TEXT,
    profile_product         JSONB,
    profile_edition         JSONB,
    referrer                JSONB NOT NULL,
    recipient_company_id    TEXT,
    recipient_company_name  TEXT,
    converted_company_id    TEXT,
    converted_company_name  TEXT,
    converted_user_id       TEXT,
    created_at              TIMESTAMPTZ NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL,
    version                 BIGINT NOT NULL
);
-- A viewer's leads: those it owns, those assigned to it, and (managers) the profile leads.
CREATE INDEX leads_owner ON leads (marketplace_id, owner_company_id, created_at);
CREATE INDEX leads_recipient ON leads (marketplace_id, recipient_company_id, created_at);
CREATE INDEX leads_type ON leads (marketplace_id, lead_type, created_at);
