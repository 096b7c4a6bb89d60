-- The partners surface's customer list (`GET /customers`: a partner's associations joined with
-- their accounts, newest first, with the total) walked every account per association: the join
-- on `association_id` had no index, and the associations were found by marketplace only. A
-- profile of the benchmark showed each page costing tens of milliseconds at 1,000 customers.
CREATE INDEX customer_accounts_association ON customer_accounts (association_id);
-- A reseller's associations in the list's order: the count and the page walk only its rows.
CREATE INDEX company_associations_reseller_listed
    ON company_associations (marketplace_id, reseller_company_id, created_at, customer_company_id);
