-- Recurring subscriptions are invoiced again when their period ends: the renewal task reads the
-- active ones whose period is over, oldest first.
CREATE INDEX subscriptions_due ON subscriptions (period_end) WHERE status = 'ACTIVE';
