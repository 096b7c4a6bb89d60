-- Support tickets a partner works for its customer accounts. The history (status moves,
-- comments, ratings) is the ticket's events in the event log; this row holds the current state
-- and the times metrics read (first response, resolution, rating).
-- Times are TIMESTAMPTZ.

CREATE TABLE support_tickets (
    id                 TEXT PRIMARY KEY,
    marketplace_id     TEXT NOT NULL REFERENCES marketplaces (id),
    partner_id         TEXT NOT NULL REFERENCES partners (id),
    customer_id        TEXT NOT NULL REFERENCES companies (id),
    subject            TEXT NOT NULL,
    description        TEXT NOT NULL,
    priority           TEXT NOT NULL,
    category           TEXT NOT NULL,
    status             TEXT NOT NULL,
    created_by         TEXT NOT NULL,
    first_response_at  TIMESTAMPTZ,
    resolved_at        TIMESTAMPTZ,
    closed_at          TIMESTAMPTZ,
    rating             BIGINT,
    rating_comment     TEXT,
    rated_at           TIMESTAMPTZ,
    comment_count      BIGINT NOT NULL DEFAULT 0,
    version            BIGINT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
-- The partner's list, newest first (filters narrow it further).
CREATE INDEX support_tickets_partner ON support_tickets (marketplace_id, partner_id, created_at, id);
CREATE INDEX support_tickets_customer ON support_tickets (marketplace_id, customer_id, created_at);
