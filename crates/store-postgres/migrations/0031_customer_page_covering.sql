-- The customer list's page is a deferred join (the page's association ids first, then their
-- rows): with the id in the reseller's index, the ids come from the index alone, and a row
-- skipped by OFFSET costs an index step instead of a row read.
DROP INDEX company_associations_reseller_listed;
CREATE INDEX company_associations_reseller_listed
    ON company_associations (marketplace_id, reseller_company_id, created_at, customer_company_id, id);
