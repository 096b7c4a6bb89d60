-- Idempotency-Key: the first request with a key claims it (response_status NULL, locked until
-- locked_until), then stores its response for replays until expires_at. Times are epoch
-- milliseconds, headers a JSON list.
CREATE TABLE idempotency_keys (
    scope            TEXT    NOT NULL,
    idem_key         TEXT    NOT NULL,
    fingerprint      TEXT    NOT NULL,
    claim_token      TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    locked_until     INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    response_status  INTEGER,
    response_headers TEXT,
    response_body    BLOB,
    PRIMARY KEY (scope, idem_key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);
