-- Pending deliveries by webhook, oldest first: a claim walks the webhooks that have pending
-- rows (a skip scan of this index) and takes each one's oldest due rows, so an endpoint the
-- worker leaves out (it holds as many of its deliveries as it may) costs one index probe
-- instead of a walk past its whole backlog. `webhook_deliveries_due_order` stays for the
-- "anything due?" probe, which reads oldest first across webhooks.
CREATE INDEX webhook_deliveries_pending_by_webhook ON webhook_deliveries (webhook_id, next_attempt_at, id)
    WHERE status = 'pending';
