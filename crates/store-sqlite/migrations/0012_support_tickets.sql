-- Support tickets a partner works for its customer accounts. The history (status moves,
-- comments, ratings) is the ticket's events in the event log; this row holds the current state
-- and the times metrics read (first response, resolution, rating).
-- Times are Unix epoch milliseconds (UTC).

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
    first_response_at  INTEGER,
    resolved_at        INTEGER,
    closed_at          INTEGER,
    rating             INTEGER,
    rating_comment     TEXT,
    rated_at           INTEGER,
    comment_count      INTEGER NOT NULL DEFAULT 0,
    version            INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
-- The partner's list, newest first (filters narrow it further).
CREATE INDEX support_tickets_partner ON support_tickets (marketplace_id, partner_id, created_at, id);
CREATE INDEX support_tickets_customer ON support_tickets (marketplace_id, customer_id, created_at);
