-- Idempotency-Key: the first request with a key claims it (response_status NULL, locked until
-- locked_until), then stores its response for replays until expires_at.
CREATE TABLE idempotency_keys (
    scope            TEXT        NOT NULL,
    idem_key         TEXT        NOT NULL,
    fingerprint      TEXT        NOT NULL,
    claim_token      TEXT        NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    locked_until     TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    response_status  INTEGER,
    response_headers TEXT[],
    response_body    BYTEA,
    PRIMARY KEY (scope, idem_key)
);
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);
