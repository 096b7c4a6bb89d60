-- The counters gain `shard`, as on PostgreSQL (where concurrent writers spread a partner's
-- counter over rows); SQLite's one writer always moves shard 0. A count is the sum of its rows.
-- SQLite cannot change a primary key in place: the table is rebuilt.
CREATE TABLE listing_counts_sharded (
    marketplace_id  TEXT NOT NULL,
    partner_id      TEXT NOT NULL,
    status          TEXT NOT NULL,
    shard           INTEGER NOT NULL DEFAULT 0,
    n               INTEGER NOT NULL,
    score_sum       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (marketplace_id, partner_id, status, shard)
);
INSERT INTO listing_counts_sharded (marketplace_id, partner_id, status, shard, n, score_sum)
SELECT marketplace_id, partner_id, status, 0, n, score_sum FROM listing_counts;
DROP TABLE listing_counts;
ALTER TABLE listing_counts_sharded RENAME TO listing_counts;
