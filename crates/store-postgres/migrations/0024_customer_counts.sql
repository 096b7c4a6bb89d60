-- How many customers (company associations) each partner company has: the customer lists'
-- total without counting the associations on every page. Kept by a trigger, so every write
-- path (and a sandbox's removal) keeps it exact within the writing transaction.
CREATE TABLE customer_counts (
    marketplace_id       TEXT NOT NULL,
    reseller_company_id  TEXT NOT NULL,
    n                    BIGINT NOT NULL,
    PRIMARY KEY (marketplace_id, reseller_company_id)
);

INSERT INTO customer_counts (marketplace_id, reseller_company_id, n)
SELECT marketplace_id, reseller_company_id, COUNT(*) FROM company_associations GROUP BY marketplace_id, reseller_company_id;

CREATE FUNCTION count_customers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO customer_counts (marketplace_id, reseller_company_id, n)
        VALUES (NEW.marketplace_id, NEW.reseller_company_id, 1)
        ON CONFLICT (marketplace_id, reseller_company_id) DO UPDATE SET n = customer_counts.n + 1;
    ELSE
        -- An update, not an upsert: a counter already removed (a sandbox's) is not brought back.
        UPDATE customer_counts SET n = n - 1
        WHERE marketplace_id = OLD.marketplace_id AND reseller_company_id = OLD.reseller_company_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER company_associations_counted AFTER INSERT OR DELETE ON company_associations
    FOR EACH ROW EXECUTE FUNCTION count_customers();
