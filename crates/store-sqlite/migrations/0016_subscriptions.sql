-- AppReseller subscriptions, their orders and seat assignments. Times are Unix epoch milliseconds (UTC); JSON
-- documents are TEXT. Companies and users are copied by name as they were when bought (the
-- document's `company`/`user` of a subscription), ids reference the rows.

CREATE TABLE subscriptions (
    id                      TEXT PRIMARY KEY,
    marketplace_id          TEXT NOT NULL REFERENCES marketplaces (id),
    reseller_company_id     TEXT NOT NULL REFERENCES companies (id),
    reseller_user_id        TEXT NOT NULL,
    partner_id              TEXT REFERENCES partners (id),
    company_id              TEXT NOT NULL REFERENCES companies (id),
    company_name            TEXT NOT NULL,
    user_id                 TEXT NOT NULL REFERENCES users (id),
    user_first_name         TEXT NOT NULL,
    user_last_name          TEXT NOT NULL,
    product_id              TEXT NOT NULL,
    application_name        TEXT NOT NULL,
    edition_id              TEXT NOT NULL,
    edition_name            TEXT NOT NULL,
    payment_plan_id         TEXT NOT NULL,
    frequency               TEXT NOT NULL,
    parent_subscription_id  TEXT REFERENCES subscriptions (id),
    status                  TEXT NOT NULL,
    active_order_id         TEXT NOT NULL,
    order_lines             TEXT NOT NULL,
    seats                   INTEGER NOT NULL,
    currency                TEXT NOT NULL,
    total_cents             INTEGER NOT NULL,
    period_start            INTEGER,
    period_end              INTEGER,
    search_text             TEXT NOT NULL,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    cancelled_at            INTEGER,
    version                 INTEGER NOT NULL
);
-- One live subscription of an edition per company (the document's 409 "already created").
CREATE UNIQUE INDEX subscriptions_one_per_edition ON subscriptions (marketplace_id, company_id, edition_id)
    WHERE status NOT IN ('CANCELLED', 'FAILED');
CREATE INDEX subscriptions_reseller ON subscriptions (marketplace_id, reseller_company_id, created_at, id);
CREATE INDEX subscriptions_company ON subscriptions (company_id, status);

CREATE TABLE orders (
    id                   TEXT PRIMARY KEY,
    marketplace_id       TEXT NOT NULL REFERENCES marketplaces (id),
    subscription_id      TEXT NOT NULL REFERENCES subscriptions (id),
    reseller_company_id  TEXT NOT NULL,
    reseller_user_id     TEXT NOT NULL,
    company_id           TEXT NOT NULL,
    company_name         TEXT NOT NULL,
    user_id              TEXT NOT NULL,
    application_name     TEXT NOT NULL,
    edition_name         TEXT NOT NULL,
    frequency            TEXT NOT NULL,
    payment_plan_id      TEXT NOT NULL,
    order_lines          TEXT NOT NULL,
    priced_lines         TEXT NOT NULL,
    status               TEXT NOT NULL,
    currency             TEXT NOT NULL,
    total_cents          INTEGER NOT NULL,
    invoice_id           TEXT REFERENCES invoices (id),
    search_text          TEXT NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX orders_reseller ON orders (marketplace_id, reseller_company_id, created_at, id);
CREATE INDEX orders_subscription ON orders (subscription_id, created_at);

CREATE TABLE subscription_assignments (
    id                   TEXT PRIMARY KEY,
    marketplace_id       TEXT NOT NULL REFERENCES marketplaces (id),
    subscription_id      TEXT NOT NULL REFERENCES subscriptions (id),
    reseller_company_id  TEXT NOT NULL,
    user_id              TEXT NOT NULL REFERENCES users (id),
    user_first_name      TEXT NOT NULL,
    user_last_name       TEXT NOT NULL,
    status               TEXT NOT NULL,
    created_at           INTEGER NOT NULL,
    cancelled_at         INTEGER
);
-- A user holds at most one live seat of a subscription.
CREATE UNIQUE INDEX subscription_assignments_one_seat ON subscription_assignments (subscription_id, user_id)
    WHERE status = 'ACTIVE';
CREATE INDEX subscription_assignments_subscription ON subscription_assignments (subscription_id, created_at);

-- Each payment plan of the catalog with what an order copies of its product and edition, kept by
-- every import in its transaction: a purchase reads one small row by the plan's id, not the
-- product's whole editions document.
CREATE TABLE catalog_plans (
    id              TEXT PRIMARY KEY,
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    product_id      TEXT NOT NULL REFERENCES catalog_products (id),
    product_name    TEXT NOT NULL,
    edition_id      TEXT NOT NULL,
    edition_name    TEXT NOT NULL,
    plan            TEXT NOT NULL
);
CREATE INDEX catalog_plans_product ON catalog_plans (product_id);
-- Plans of products imported before this migration.
INSERT INTO catalog_plans (id, marketplace_id, product_id, product_name, edition_id, edition_name, plan)
SELECT json_extract(pl.value, '$.id'), c.marketplace_id, c.id, c.name, json_extract(e.value, '$.id'),
       json_extract(e.value, '$.name'), pl.value
FROM catalog_products c, json_each(c.editions) e, json_each(e.value, '$.paymentPlans') pl;
