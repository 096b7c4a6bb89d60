-- AppReseller accounts: what a company is to the marketplace (flags), its AppReseller fields,
-- users' names, company associations (customer ↔ reseller) and the sellable catalog.
-- Times are Unix epoch milliseconds (UTC).

ALTER TABLE companies ADD COLUMN external_id TEXT;
ALTER TABLE companies ADD COLUMN phone TEXT;
ALTER TABLE companies ADD COLUMN website TEXT;
ALTER TABLE companies ADD COLUMN company_size TEXT;
ALTER TABLE companies ADD COLUMN is_reseller INTEGER NOT NULL DEFAULT 0;
ALTER TABLE companies ADD COLUMN is_referral INTEGER NOT NULL DEFAULT 0;
ALTER TABLE companies ADD COLUMN is_developer INTEGER NOT NULL DEFAULT 0;
ALTER TABLE companies ADD COLUMN is_channel_admin INTEGER NOT NULL DEFAULT 0;
ALTER TABLE companies ADD COLUMN is_customer INTEGER NOT NULL DEFAULT 0;
ALTER TABLE companies ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE companies ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE companies ADD COLUMN created_by_company_id TEXT;
ALTER TABLE companies ADD COLUMN settings TEXT NOT NULL DEFAULT '[]';
ALTER TABLE companies ADD COLUMN tax_exemptions TEXT NOT NULL DEFAULT '[]';
CREATE UNIQUE INDEX companies_external_id ON companies (marketplace_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX companies_created ON companies (marketplace_id, created_at, id);

-- Existing companies take their flags from their members' roles (and the operator's kind).
UPDATE companies SET
    is_reseller = EXISTS (SELECT 1 FROM memberships m WHERE m.company_id = companies.id
                          AND (',' || m.roles || ',') LIKE '%,reseller,%'),
    is_referral = EXISTS (SELECT 1 FROM memberships m WHERE m.company_id = companies.id
                          AND (',' || m.roles || ',') LIKE '%,referral,%'),
    is_developer = EXISTS (SELECT 1 FROM memberships m WHERE m.company_id = companies.id
                           AND (',' || m.roles || ',') LIKE '%,developer,%'),
    is_channel_admin = kind = 'operator' OR EXISTS (SELECT 1 FROM memberships m WHERE m.company_id = companies.id
                           AND (',' || m.roles || ',') LIKE '%,channel_admin,%'),
    is_customer = kind = 'customer';

ALTER TABLE users ADD COLUMN first_name TEXT;
ALTER TABLE users ADD COLUMN last_name TEXT;
ALTER TABLE users ADD COLUMN external_id TEXT;
ALTER TABLE users ADD COLUMN activated INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX users_external_id ON users (marketplace_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX users_created ON users (marketplace_id, created_at, id);

ALTER TABLE memberships ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
CREATE INDEX memberships_company ON memberships (company_id, user_id);

CREATE TABLE company_associations (
    id                   TEXT PRIMARY KEY,
    marketplace_id       TEXT NOT NULL REFERENCES marketplaces (id),
    customer_company_id  TEXT NOT NULL REFERENCES companies (id),
    reseller_company_id  TEXT NOT NULL REFERENCES companies (id),
    created_at           INTEGER NOT NULL,
    UNIQUE (customer_company_id, reseller_company_id)
);
CREATE INDEX company_associations_reseller ON company_associations (reseller_company_id, customer_company_id);
CREATE INDEX company_associations_listed ON company_associations (marketplace_id, created_at, id);

-- A product with its editions → payment plans → costs as one document (ids inside), so an
-- import replaces a product in one write and readers never see half of one.
CREATE TABLE catalog_products (
    id              TEXT PRIMARY KEY,
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    name            TEXT NOT NULL,
    blurb           TEXT NOT NULL,
    image_url       TEXT,
    provider        TEXT NOT NULL,
    visible         INTEGER NOT NULL DEFAULT 1,
    editions        TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (marketplace_id, name)
);
