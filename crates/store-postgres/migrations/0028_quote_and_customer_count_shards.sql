-- The quote and customer counters are spread over rows (`shard`), as the listing counters are
-- (0027): every quote (association) insert moves its company's counter in a trigger, and the
-- updated row stays locked until COMMIT (WAL flush included), so one company's writers
-- committed one at a time. A transaction's trigger picks the shard of its backend, so two
-- sessions of the pool never queue on one row unless their process ids meet modulo 32.
-- A count is the sum of its rows (the list queries already sum). SQLite's one writer needs no
-- shards, and its tables keep their keys.
ALTER TABLE quote_counts ADD COLUMN shard BIGINT NOT NULL DEFAULT 0;
ALTER TABLE quote_counts DROP CONSTRAINT quote_counts_pkey;
ALTER TABLE quote_counts ADD PRIMARY KEY (marketplace_id, owner_company_id, shard);

ALTER TABLE customer_counts ADD COLUMN shard BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customer_counts DROP CONSTRAINT customer_counts_pkey;
ALTER TABLE customer_counts ADD PRIMARY KEY (marketplace_id, reseller_company_id, shard);

-- A removal moves the remover's shard too (a shard may go below zero; the sum stays exact), but
-- only while the company has a counter at all: a counter already removed (a sandbox's) is not
-- brought back.
CREATE OR REPLACE FUNCTION count_quotes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s BIGINT := pg_backend_pid() % 32;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO quote_counts (marketplace_id, owner_company_id, shard, n)
        VALUES (NEW.marketplace_id, NEW.owner_company_id, s, 1)
        ON CONFLICT (marketplace_id, owner_company_id, shard) DO UPDATE SET n = quote_counts.n + 1;
    ELSIF EXISTS (SELECT 1 FROM quote_counts
                  WHERE marketplace_id = OLD.marketplace_id AND owner_company_id = OLD.owner_company_id) THEN
        INSERT INTO quote_counts (marketplace_id, owner_company_id, shard, n)
        VALUES (OLD.marketplace_id, OLD.owner_company_id, s, -1)
        ON CONFLICT (marketplace_id, owner_company_id, shard) DO UPDATE SET n = quote_counts.n - 1;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION count_customers() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s BIGINT := pg_backend_pid() % 32;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO customer_counts (marketplace_id, reseller_company_id, shard, n)
        VALUES (NEW.marketplace_id, NEW.reseller_company_id, s, 1)
        ON CONFLICT (marketplace_id, reseller_company_id, shard) DO UPDATE SET n = customer_counts.n + 1;
    ELSIF EXISTS (SELECT 1 FROM customer_counts
                  WHERE marketplace_id = OLD.marketplace_id AND reseller_company_id = OLD.reseller_company_id) THEN
        INSERT INTO customer_counts (marketplace_id, reseller_company_id, shard, n)
        VALUES (OLD.marketplace_id, OLD.reseller_company_id, s, -1)
        ON CONFLICT (marketplace_id, reseller_company_id, shard) DO UPDATE SET n = customer_counts.n - 1;
    END IF;
    RETURN NULL;
END $$;
