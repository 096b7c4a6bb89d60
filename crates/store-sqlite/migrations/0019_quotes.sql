-- AppReseller opportunities ("quotes", kept apart from co-sell `opportunities`). Times are Unix
-- epoch milliseconds (UTC); JSON documents are TEXT. The owner (sales agent) and customer are
-- copied by name as they were when the quote was made; ids reference the rows. Items are a
-- document of the quote: every item change is one versioned write of the row.

CREATE TABLE quotes (
    id                          TEXT PRIMARY KEY,
    marketplace_id              TEXT NOT NULL REFERENCES marketplaces (id),
    friendly_id                 TEXT NOT NULL,
    owner_company_id            TEXT NOT NULL REFERENCES companies (id),
    owner_company_name          TEXT NOT NULL,
    owner_partner_id            TEXT REFERENCES partners (id),
    owner_user_id               TEXT NOT NULL REFERENCES users (id),
    owner_first_name            TEXT NOT NULL,
    owner_last_name             TEXT NOT NULL,
    owner_email                 TEXT NOT NULL,
    customer_company_id         TEXT NOT NULL REFERENCES companies (id),
    customer_company_name       TEXT NOT NULL,
    customer_user_id            TEXT NOT NULL REFERENCES users (id),
    customer_first_name         TEXT NOT NULL,
    customer_last_name          TEXT NOT NULL,
    customer_email              TEXT NOT NULL,
    name                        TEXT,
    currency                    TEXT NOT NULL,
    status                      TEXT NOT NULL,
    items                       TEXT NOT NULL,
    total_cents                 INTEGER NOT NULL,
    purchase_effective_at       INTEGER,
    purchase_custom_attributes  TEXT NOT NULL,
    purchase_id                 TEXT,
    search_text                 TEXT NOT NULL,
    created_at                  INTEGER NOT NULL,
    updated_at                  INTEGER NOT NULL,
    closed_at                   INTEGER,
    version                     INTEGER NOT NULL
);
-- A seller's list, newest first; the marketplace manager's list.
CREATE INDEX quotes_owner ON quotes (marketplace_id, owner_company_id, created_at, id);
CREATE INDEX quotes_marketplace ON quotes (marketplace_id, created_at, id);
-- A lead's customer company finds its leads when a quote is made for it.
CREATE INDEX leads_converted_company ON leads (marketplace_id, converted_company_id);
