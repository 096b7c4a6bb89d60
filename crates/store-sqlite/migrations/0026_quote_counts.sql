-- How many quotes each reseller company owns: the quote lists' total without counting the
-- quotes on every page. Kept by a trigger, like customer_counts (0024).
CREATE TABLE quote_counts (
    marketplace_id    TEXT NOT NULL,
    owner_company_id  TEXT NOT NULL,
    n                 INTEGER NOT NULL,
    PRIMARY KEY (marketplace_id, owner_company_id)
) WITHOUT ROWID;

INSERT INTO quote_counts (marketplace_id, owner_company_id, n)
SELECT marketplace_id, owner_company_id, COUNT(*) FROM quotes GROUP BY marketplace_id, owner_company_id;

CREATE TRIGGER quotes_counted AFTER INSERT ON quotes
BEGIN
    INSERT INTO quote_counts (marketplace_id, owner_company_id, n) VALUES (NEW.marketplace_id, NEW.owner_company_id, 1)
    ON CONFLICT (marketplace_id, owner_company_id) DO UPDATE SET n = n + 1;
END;

-- An update, not an upsert: a counter already removed (a sandbox's) is not brought back.
CREATE TRIGGER quotes_uncounted AFTER DELETE ON quotes
BEGIN
    UPDATE quote_counts SET n = n - 1 WHERE marketplace_id = OLD.marketplace_id AND owner_company_id = OLD.owner_company_id;
END;
