-- Signing secrets are encrypted at rest from this version on. SQL cannot encrypt (the key is
-- configuration, not data), so this lists the webhooks whose secret is still plain text; the
-- first start with a key encrypts each of them and removes it from the list in one
-- transaction. New secrets are written encrypted and never listed.
CREATE TABLE webhook_secrets_unencrypted (
    webhook_id  TEXT PRIMARY KEY REFERENCES webhooks (id)
);
INSERT INTO webhook_secrets_unencrypted (webhook_id) SELECT id FROM webhooks;

-- Leases are short and renewed by their holder every few seconds: the renewal finds the
-- holder's rows by claimer.
CREATE INDEX webhook_deliveries_by_claimer ON webhook_deliveries (claimed_by) WHERE claimed_by IS NOT NULL;
