-- Webhooks: the registry, subscriptions (indexed for fan-out), durable deliveries created in the
-- same transaction as their event, and the attempt log.

CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    marketplace_id  TEXT NOT NULL REFERENCES marketplaces (id),
    partner_id      TEXT NOT NULL REFERENCES partners (id),
    url             TEXT NOT NULL,
    events          JSONB NOT NULL,
    secret          TEXT NOT NULL,
    active          BOOLEAN NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    deleted_at      TIMESTAMPTZ
);
CREATE INDEX webhooks_by_partner ON webhooks (marketplace_id, partner_id, created_at, id);

CREATE TABLE webhook_subscriptions (
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id),
    marketplace_id  TEXT NOT NULL,
    partner_id      TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    PRIMARY KEY (webhook_id, event_type)
);
CREATE INDEX webhook_subscriptions_fanout ON webhook_subscriptions (marketplace_id, event_type, partner_id);

CREATE TABLE webhook_deliveries (
    id                TEXT PRIMARY KEY,
    marketplace_id    TEXT NOT NULL,
    partner_id        TEXT NOT NULL,
    webhook_id        TEXT NOT NULL REFERENCES webhooks (id),
    event_id          TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    is_test           BOOLEAN NOT NULL DEFAULT FALSE,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TIMESTAMPTZ,
    claimed_by        TEXT,
    claimed_until     TIMESTAMPTZ,
    last_status_code  INTEGER,
    last_error        TEXT,
    redelivery_of     TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    completed_at      TIMESTAMPTZ
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (marketplace_id, webhook_id, created_at DESC, id DESC);

-- One row per attempt; the key makes "each attempt at most once" a database guarantee.
CREATE TABLE webhook_attempts (
    delivery_id    TEXT NOT NULL REFERENCES webhook_deliveries (id),
    attempt        INTEGER NOT NULL,
    attempted_at   TIMESTAMPTZ NOT NULL,
    status_code    INTEGER,
    latency_ms     BIGINT NOT NULL,
    error          TEXT,
    next_retry_at  TIMESTAMPTZ,
    claimed_by     TEXT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
