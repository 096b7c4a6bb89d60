-- Marketplace listings, their generated content drafts, and per-status counts (so list totals
-- need no COUNT over a large partner's rows).

CREATE TABLE listings (
    id                 TEXT PRIMARY KEY,
    marketplace_id     TEXT NOT NULL REFERENCES marketplaces (id),
    partner_id         TEXT NOT NULL REFERENCES partners (id),
    title              TEXT NOT NULL,
    short_description  TEXT NOT NULL,
    long_description   TEXT NOT NULL,
    highlights         TEXT NOT NULL,  -- JSON array of strings
    categories         TEXT NOT NULL,
    keywords           TEXT NOT NULL,
    images             TEXT NOT NULL,
    logo_url           TEXT,
    pricing_model      TEXT NOT NULL,
    marketplace        TEXT NOT NULL,
    product_id         TEXT,
    status             TEXT NOT NULL CHECK (status IN ('active', 'draft', 'archived')),
    seo_score          INTEGER NOT NULL,
    version            INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX listings_by_partner ON listings (marketplace_id, partner_id, created_at DESC, id DESC);
CREATE INDEX listings_by_partner_status ON listings (marketplace_id, partner_id, status, created_at DESC, id DESC);

CREATE TABLE listing_counts (
    marketplace_id  TEXT NOT NULL,
    partner_id      TEXT NOT NULL,
    status          TEXT NOT NULL,
    n               INTEGER NOT NULL,
    PRIMARY KEY (marketplace_id, partner_id, status)
);

CREATE TABLE listing_drafts (
    id                 TEXT PRIMARY KEY,
    marketplace_id     TEXT NOT NULL REFERENCES marketplaces (id),
    partner_id         TEXT NOT NULL REFERENCES partners (id),
    listing_id         TEXT NOT NULL REFERENCES listings (id),
    title              TEXT NOT NULL,
    short_description  TEXT NOT NULL,
    long_description   TEXT NOT NULL,
    highlights         TEXT NOT NULL,
    keywords           TEXT NOT NULL,
    seo_score          INTEGER NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    created_at         INTEGER NOT NULL,
    published_at       INTEGER
);
CREATE INDEX listing_drafts_by_listing ON listing_drafts (marketplace_id, partner_id, listing_id, created_at DESC, id DESC);
