-- A partner's listing counters are spread over rows (`shard`): every listing write moves its
-- partner's counter, and an updated row stays locked until its transaction's COMMIT (WAL flush
-- included), so with one row per status a partner's writes committed one at a time. A count
-- is the sum of its rows.
ALTER TABLE listing_counts ADD COLUMN shard BIGINT NOT NULL DEFAULT 0;
ALTER TABLE listing_counts DROP CONSTRAINT listing_counts_pkey;
ALTER TABLE listing_counts ADD PRIMARY KEY (marketplace_id, partner_id, status, shard);
