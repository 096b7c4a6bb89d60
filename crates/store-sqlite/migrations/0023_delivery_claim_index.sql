-- Claims take due deliveries oldest first, `ORDER BY next_attempt_at, id`: an index in that
-- order lets a claim read only the rows it looks at, instead of every due row and a sort.
CREATE INDEX webhook_deliveries_due_order ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';
DROP INDEX webhook_deliveries_due;
-- Nothing looks deliveries up by claimer any more (renewals, releases and attempts name their
-- ids); without this index a claim's update touches no indexed column, so PostgreSQL makes it
-- a heap-only update.
DROP INDEX webhook_deliveries_by_claimer;
