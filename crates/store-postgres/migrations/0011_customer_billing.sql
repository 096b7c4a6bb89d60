-- Reseller customer accounts and their billing. A customer account is a customer company
-- (companies, is_customer) associated with the partner's company (company_associations); this
-- table holds only what the account adds: contact, plan, billing cycle, status and period.
-- Times are TIMESTAMPTZ; money is integer cents.

CREATE TABLE customer_accounts (
    customer_id           TEXT PRIMARY KEY REFERENCES companies (id),
    marketplace_id        TEXT NOT NULL REFERENCES marketplaces (id),
    partner_id            TEXT NOT NULL REFERENCES partners (id),
    association_id        TEXT NOT NULL REFERENCES company_associations (id),
    contact_email         TEXT NOT NULL,
    contact_name          TEXT NOT NULL,
    phone                 TEXT,
    plan                  TEXT NOT NULL,
    billing_cycle         TEXT NOT NULL,
    status                TEXT NOT NULL,
    currency              TEXT NOT NULL,
    billing_anchor        TIMESTAMPTZ NOT NULL,
    period_number         BIGINT NOT NULL,
    current_period_start  TIMESTAMPTZ NOT NULL,
    current_period_end    TIMESTAMPTZ NOT NULL,
    balance_cents         BIGINT NOT NULL DEFAULT 0,
    cancelled_at          TIMESTAMPTZ,
    version               BIGINT NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX customer_accounts_partner ON customer_accounts (marketplace_id, partner_id, created_at, customer_id);
-- The scheduler's read: billed accounts whose period is over.
CREATE INDEX customer_accounts_due ON customer_accounts (current_period_end) WHERE status <> 'cancelled';

-- One row per marketplace: the last invoice number issued. Incremented in the issuing
-- transaction, so a rollback gives the number back and concurrent issuers queue on the row.
CREATE TABLE invoice_counters (
    marketplace_id  TEXT PRIMARY KEY REFERENCES marketplaces (id),
    last_number     BIGINT NOT NULL
);

CREATE TABLE invoices (
    id                     TEXT PRIMARY KEY,
    marketplace_id         TEXT NOT NULL REFERENCES marketplaces (id),
    partner_id             TEXT NOT NULL REFERENCES partners (id),
    customer_id            TEXT NOT NULL REFERENCES companies (id),
    number                 TEXT NOT NULL,
    billing_reason         TEXT NOT NULL,
    period_start           TIMESTAMPTZ NOT NULL,
    period_end             TIMESTAMPTZ NOT NULL,
    issued_at              TIMESTAMPTZ NOT NULL,
    due_at                 TIMESTAMPTZ NOT NULL,
    currency               TEXT NOT NULL,
    line_items             JSONB NOT NULL,
    subtotal_cents         BIGINT NOT NULL,
    total_cents            BIGINT NOT NULL,
    status                 TEXT NOT NULL,
    commission_rate_bps    BIGINT NOT NULL,
    commission_base_cents  BIGINT NOT NULL,
    commission_cents       BIGINT NOT NULL,
    status_changed_at      TIMESTAMPTZ,
    UNIQUE (marketplace_id, number)
);
CREATE INDEX invoices_partner ON invoices (marketplace_id, partner_id, issued_at, id);
CREATE INDEX invoices_customer ON invoices (customer_id, issued_at, id);
-- A period's renewal invoice is issued once, whatever the scheduler's races.
CREATE UNIQUE INDEX invoices_one_cycle ON invoices (customer_id, period_start) WHERE billing_reason = 'subscription_cycle';

CREATE TABLE commissions (
    id              TEXT PRIMARY KEY,
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    partner_id      TEXT NOT NULL REFERENCES partners (id),
    customer_id     TEXT NOT NULL REFERENCES companies (id),
    invoice_id      TEXT NOT NULL UNIQUE REFERENCES invoices (id),
    invoice_number  TEXT NOT NULL,
    base_cents      BIGINT NOT NULL,
    rate_bps        BIGINT NOT NULL,
    amount_cents    BIGINT NOT NULL,
    currency        TEXT NOT NULL,
    status          TEXT NOT NULL,
    earned_at       TIMESTAMPTZ NOT NULL,
    reversed_at     TIMESTAMPTZ
);
CREATE INDEX commissions_partner ON commissions (marketplace_id, partner_id, earned_at, id);

-- The operator's per-partner override of the plan's default commission rate.
CREATE TABLE partner_commission_rates (
    partner_id      TEXT PRIMARY KEY REFERENCES partners (id),
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    rate_bps        BIGINT NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
