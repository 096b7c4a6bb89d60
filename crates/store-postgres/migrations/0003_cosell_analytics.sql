-- Co-sell opportunities, stored reports, and what analytics needs to aggregate with indexes.

-- The other party of a shared record (a co-sell partner) may see its events too.
ALTER TABLE events ADD COLUMN related_partner_id TEXT;

CREATE TABLE opportunities (
    id                   TEXT PRIMARY KEY,
    marketplace_id       TEXT NOT NULL REFERENCES marketplaces (id),
    owner_partner_id     TEXT NOT NULL REFERENCES partners (id),
    cosell_partner_id    TEXT NOT NULL REFERENCES partners (id),
    customer_name        TEXT NOT NULL,
    deal_value_cents     BIGINT NOT NULL CHECK (deal_value_cents > 0),
    currency             TEXT NOT NULL,
    description          TEXT NOT NULL,
    expected_close_date  DATE,
    status               TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'won', 'lost')),
    notes                TEXT NOT NULL,
    created_by           TEXT NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    closed_at            TIMESTAMPTZ,
    version              BIGINT NOT NULL,
    CHECK (owner_partner_id <> cosell_partner_id)
);
CREATE INDEX opportunities_owner ON opportunities (marketplace_id, owner_partner_id, created_at DESC, id DESC);
CREATE INDEX opportunities_cosell ON opportunities (marketplace_id, cosell_partner_id, created_at DESC, id DESC);
CREATE INDEX opportunities_owner_status ON opportunities (marketplace_id, owner_partner_id, status, closed_at);
CREATE INDEX opportunities_cosell_status ON opportunities (marketplace_id, cosell_partner_id, status, closed_at);

-- Running score sums: the analytics average needs no pass over a partner's listings.
ALTER TABLE listing_counts ADD COLUMN score_sum BIGINT NOT NULL DEFAULT 0;
UPDATE listing_counts SET score_sum = (
    SELECT COALESCE(SUM(l.seo_score), 0) FROM listings l
    WHERE l.marketplace_id = listing_counts.marketplace_id AND l.partner_id = listing_counts.partner_id
      AND l.status = listing_counts.status);
CREATE INDEX listings_by_score ON listings (marketplace_id, partner_id, seo_score DESC, id);
CREATE INDEX listing_drafts_created ON listing_drafts (marketplace_id, partner_id, created_at);
CREATE INDEX listing_drafts_published ON listing_drafts (marketplace_id, partner_id, published_at);

CREATE TABLE reports (
    id              TEXT PRIMARY KEY,
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    partner_id      TEXT NOT NULL REFERENCES partners (id),
    report_type     TEXT NOT NULL,
    period          TEXT NOT NULL,
    period_start    TIMESTAMPTZ NOT NULL,
    period_end      TIMESTAMPTZ NOT NULL,
    trigger         TEXT NOT NULL CHECK (trigger IN ('on_demand', 'scheduled')),
    data            JSONB NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX reports_by_partner ON reports (marketplace_id, partner_id, created_at DESC, id DESC);
-- One scheduled report per partner, type and period, however many processes run the schedule.
CREATE UNIQUE INDEX reports_one_scheduled ON reports (marketplace_id, partner_id, report_type, period_start)
    WHERE trigger = 'scheduled';
