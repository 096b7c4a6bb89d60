-- Metered usage from the operator's platform. Raw records are unique per marketplace and
-- record id (a retried batch counts once); usage_daily holds one row per customer, UTC day,
-- metric and channel ('' for metrics without one), updated in the transaction that inserts the
-- raw records, so a report is one range of its primary key. Times are TIMESTAMPTZ, days DATE
-- (UTC).

CREATE TABLE usage_records (
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    id              TEXT NOT NULL,
    customer_id     TEXT NOT NULL REFERENCES customer_accounts (customer_id),
    metric          TEXT NOT NULL,
    channel         TEXT NOT NULL,
    quantity        BIGINT NOT NULL,
    errors          BIGINT NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL,
    day             DATE NOT NULL,
    ingested_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (marketplace_id, id)
);

CREATE TABLE usage_daily (
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    customer_id     TEXT NOT NULL REFERENCES customer_accounts (customer_id),
    day             DATE NOT NULL,
    metric          TEXT NOT NULL,
    channel         TEXT NOT NULL,
    -- Counters: the day's sum. storage_bytes: the day's last sample (latest occurred_at).
    quantity        BIGINT NOT NULL,
    errors          BIGINT NOT NULL,
    -- storage_bytes: the day's largest sample.
    peak            BIGINT NOT NULL,
    last_at         TIMESTAMPTZ NOT NULL,
    records         BIGINT NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (marketplace_id, customer_id, day, metric, channel)
);
