-- AppReseller payment methods: what may be shown of a card (last four digits, brand, holder,
-- expiry) and its billing address, stored by a seller company (the caller's) for a user of a
-- customer company. A card's number and security code are never stored.
-- Times are TIMESTAMPTZ.

CREATE TABLE payment_methods (
    id                 TEXT PRIMARY KEY,
    marketplace_id     TEXT NOT NULL REFERENCES marketplaces (id),
    seller_company_id  TEXT NOT NULL REFERENCES companies (id),
    company_id         TEXT NOT NULL REFERENCES companies (id),
    owner_user_id      TEXT NOT NULL REFERENCES users (id),
    method_type        TEXT NOT NULL,
    account_display    TEXT NOT NULL,
    brand              TEXT NOT NULL,
    card_holder_name   TEXT NOT NULL,
    expiration_month   BIGINT NOT NULL,
    expiration_year    BIGINT NOT NULL,
    billing_address    JSONB NOT NULL,
    is_default         BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         TIMESTAMPTZ NOT NULL
);
-- The owner's list (newest first) and the newest remaining one promoted on a delete.
CREATE INDEX payment_methods_owner
    ON payment_methods (marketplace_id, seller_company_id, owner_user_id, created_at, id);
-- One default per owner and seller.
CREATE UNIQUE INDEX payment_methods_one_default
    ON payment_methods (marketplace_id, seller_company_id, owner_user_id) WHERE is_default;
