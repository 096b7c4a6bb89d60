-- How many quotes each reseller company owns: the quote lists' total without counting the
-- quotes on every page. Kept by a trigger, like customer_counts (0024).
CREATE TABLE quote_counts (
    marketplace_id    TEXT NOT NULL,
    owner_company_id  TEXT NOT NULL,
    n                 BIGINT NOT NULL,
    PRIMARY KEY (marketplace_id, owner_company_id)
);

INSERT INTO quote_counts (marketplace_id, owner_company_id, n)
SELECT marketplace_id, owner_company_id, COUNT(*) FROM quotes GROUP BY marketplace_id, owner_company_id;

CREATE FUNCTION count_quotes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO quote_counts (marketplace_id, owner_company_id, n) VALUES (NEW.marketplace_id, NEW.owner_company_id, 1)
        ON CONFLICT (marketplace_id, owner_company_id) DO UPDATE SET n = quote_counts.n + 1;
    ELSE
        -- An update, not an upsert: a counter already removed (a sandbox's) is not brought back.
        UPDATE quote_counts SET n = n - 1 WHERE marketplace_id = OLD.marketplace_id AND owner_company_id = OLD.owner_company_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER quotes_counted AFTER INSERT OR DELETE ON quotes FOR EACH ROW EXECUTE FUNCTION count_quotes();
