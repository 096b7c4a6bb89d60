-- Leads API v2. Times are Unix epoch milliseconds (UTC); JSON documents are TEXT.

CREATE TABLE leads (
    id                      TEXT PRIMARY KEY,
    marketplace_id          TEXT NOT NULL REFERENCES marketplaces (id),
    lead_type               TEXT NOT NULL,
    status                  TEXT NOT NULL,
    partner                 TEXT NOT NULL,
    customer                TEXT NOT NULL,
    customer_company_name   TEXT NOT NULL,
    search_text             TEXT NOT NULL,
    notes                   TEXT,
    custom_attributes       TEXT NOT NULL,
    owner_company_id        TEXT,
    creator_user_id         TEXT,
    creator_company_id      TEXT,
    creator_company_name    TEXT,
    creator_role            TEXT,
    reseller_user_id        TEXT,
    reseller_company_id     TEXT,
    profile_company_id      TEXT,
    profile_company_name    TEXT,
    profile_product         TEXT,
    profile_edition         TEXT,
    referrer                TEXT NOT NULL,
    recipient_company_id    TEXT,
    recipient_company_name  TEXT,
    converted_company_id    TEXT,
    converted_company_name  TEXT,
    converted_user_id       TEXT,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    version                 INTEGER NOT NULL
);
-- A viewer's leads: those it owns, those assigned to it, and (managers) the profile leads.
CREATE INDEX leads_owner ON leads (marketplace_id, owner_company_id, created_at);
CREATE INDEX leads_recipient ON leads (marketplace_id, recipient_company_id, created_at);
CREATE INDEX leads_type ON leads (marketplace_id, lead_type, created_at);
