-- How many customers (company associations) each partner company has: the customer lists'
-- total without counting the associations on every page. Kept by triggers, so every write
-- path (and a sandbox's removal) keeps it exact within the writing transaction.
CREATE TABLE customer_counts (
    marketplace_id       TEXT NOT NULL,
    reseller_company_id  TEXT NOT NULL,
    n                    INTEGER NOT NULL,
    PRIMARY KEY (marketplace_id, reseller_company_id)
) WITHOUT ROWID;

INSERT INTO customer_counts (marketplace_id, reseller_company_id, n)
SELECT marketplace_id, reseller_company_id, COUNT(*) FROM company_associations GROUP BY marketplace_id, reseller_company_id;

CREATE TRIGGER company_associations_counted AFTER INSERT ON company_associations
BEGIN
    INSERT INTO customer_counts (marketplace_id, reseller_company_id, n)
    VALUES (NEW.marketplace_id, NEW.reseller_company_id, 1)
    ON CONFLICT (marketplace_id, reseller_company_id) DO UPDATE SET n = n + 1;
END;

-- An update, not an upsert: a counter already removed (a sandbox's) is not brought back.
CREATE TRIGGER company_associations_uncounted AFTER DELETE ON company_associations
BEGIN
    UPDATE customer_counts SET n = n - 1
    WHERE marketplace_id = OLD.marketplace_id AND reseller_company_id = OLD.reseller_company_id;
END;
