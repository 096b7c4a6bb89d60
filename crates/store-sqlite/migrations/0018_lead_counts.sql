-- The Leads list's totals without a scan: how many leads share each combination of the columns
-- the visibility rule and the status filter read (a missing company is ''). Every lead write
-- moves its rows in the same transaction; a viewer's total is a sum over a few rows per company
-- and status.
CREATE TABLE lead_counts (
    marketplace_id        TEXT NOT NULL,
    lead_type             TEXT NOT NULL,
    status                TEXT NOT NULL,
    owner_company_id      TEXT NOT NULL,
    recipient_company_id  TEXT NOT NULL,
    n                     INTEGER NOT NULL,
    PRIMARY KEY (marketplace_id, lead_type, status, owner_company_id, recipient_company_id)
);
INSERT INTO lead_counts (marketplace_id, lead_type, status, owner_company_id, recipient_company_id, n)
SELECT marketplace_id, lead_type, status, COALESCE(owner_company_id, ''), COALESCE(recipient_company_id, ''), COUNT(*)
FROM leads
GROUP BY marketplace_id, lead_type, status, COALESCE(owner_company_id, ''), COALESCE(recipient_company_id, '');

-- Newest first (the list's default order) with what the visibility rule reads: a page walks
-- this index and stops, instead of sorting every lead of the marketplace.
CREATE INDEX leads_newest ON leads (marketplace_id, created_at, id, lead_type, status, owner_company_id, recipient_company_id);
