//! Webhooks, deliveries and attempts: declarations and the SQL both dialects accept. Fan-out
//! (id generation), claims (PostgreSQL's one-statement `FOR UPDATE SKIP LOCKED`, SQLite's own
//! algorithm on its single writer), subscriptions and batch releases stay per backend.

use crate::StoreResult;
use crate::kit::{Dialect, Query, Table, column_list};
use crate::kit::{Filter, Value, Window};
use crate::{AttemptRecord, ClaimedDelivery, DeliveryRecord, WebhookRecord, record, sql};

record! {
    WebhookRecord in "webhooks" as "" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        partner_id: key "partner_id",
        url: set "url",
        events: set "events",
        secret: fixed "secret",
        active: set "active",
        created_at: fixed "created_at",
        updated_at: set "updated_at",
    }
}

record! {
    DeliveryRecord in "webhook_deliveries" as "" {
        id: key "id",
        marketplace_id: fixed "marketplace_id",
        partner_id: fixed "partner_id",
        webhook_id: fixed "webhook_id",
        event_id: fixed "event_id",
        event_type: fixed "event_type",
        is_test: fixed "is_test",
        status: fixed "status",
        attempts: fixed "attempts",
        next_attempt_at: fixed "next_attempt_at",
        last_status_code: fixed "last_status_code",
        last_error: fixed "last_error",
        redelivery_of: fixed "redelivery_of",
        created_at: fixed "created_at",
        completed_at: fixed "completed_at",
        log: skip _,
    }
}

record! {
    AttemptRecord {
        attempt: fixed "attempt",
        attempted_at: fixed "attempted_at",
        status_code: fixed "status_code",
        latency_ms: fixed "latency_ms",
        error: fixed "error",
        next_retry_at: fixed "next_retry_at",
    }
}

// A claimed delivery, read from deliveries `d`, webhooks `w` and events `e`.
record! {
    ClaimedDelivery {
        id: read "d.id",
        webhook_id: read "d.webhook_id",
        url: read "w.url",
        secret: read "w.secret",
        event_id: read "d.event_id",
        event_type: read "d.event_type",
        occurred_at: read "e.occurred_at",
        data: read "e.payload",
        attempt: read "d.attempts + 1",
    }
}

/// `$1` marketplace, `$2` partner: the partner's webhooks not deleted, oldest first.
pub static LIST_WEBHOOKS: Query = sql!(
    "SELECT {} FROM webhooks WHERE marketplace_id = $1 AND partner_id = $2 AND deleted_at IS NULL ORDER BY created_at, id",
    WebhookRecord::select_list()
);

/// `$1` marketplace, `$2` partner, `$3` id.
pub static GET_WEBHOOK: Query = sql!(
    "SELECT {} FROM webhooks WHERE marketplace_id = $1 AND partner_id = $2 AND id = $3 AND deleted_at IS NULL",
    WebhookRecord::select_list()
);

/// The declaration's update, for webhooks not deleted.
pub static UPDATE_WEBHOOK: Query =
    sql!("{} AND deleted_at IS NULL", WebhookRecord::statements(Dialect::Postgres).update);

/// `$1` marketplace, `$2` partner, `$3` id, `$4` the secret read, `$5` the new secret, `$6` when.
pub static ROTATE_SECRET: Query = sql!(
    "UPDATE webhooks SET secret = $5, updated_at = $6
     WHERE marketplace_id = $1 AND partner_id = $2 AND id = $3 AND secret = $4 AND deleted_at IS NULL"
);

/// `$1` marketplace, `$2` partner: webhooks not deleted, counted against the limit.
pub static COUNT_WEBHOOKS: Query =
    sql!("SELECT COUNT(*) FROM webhooks WHERE marketplace_id = $1 AND partner_id = $2 AND deleted_at IS NULL");

/// Every stored secret, and whether it is encrypted.
pub static STORED_SECRETS: Query = sql!(
    "SELECT w.id, w.secret, u.webhook_id IS NULL FROM webhooks w
     LEFT JOIN webhook_secrets_unencrypted u ON u.webhook_id = w.id ORDER BY w.id"
);

/// `$1` webhook, `$2` secret read, `$3` encrypted secret.
pub static REPLACE_SECRET: Query = sql!("UPDATE webhooks SET secret = $3 WHERE id = $1 AND secret = $2");

/// `$1` webhook: its secret is encrypted now.
pub static MARK_ENCRYPTED: Query = sql!("DELETE FROM webhook_secrets_unencrypted WHERE webhook_id = $1");

/// `$1` delivery, `$2` claimer, `$3` the attempt in flight, `$4` until.
pub static RENEW_CLAIM: Query = sql!(
    "UPDATE webhook_deliveries SET claimed_until = $4
     WHERE id = $1 AND claimed_by = $2 AND attempts = $3 - 1 AND status = 'pending'"
);

/// `$1` marketplace, `$2` partner, `$3` id, `$4` when.
pub static DELETE_WEBHOOK: Query = sql!(
    "UPDATE webhooks SET deleted_at = $4, active = FALSE, updated_at = $4
     WHERE marketplace_id = $1 AND partner_id = $2 AND id = $3 AND deleted_at IS NULL"
);

/// `$1` webhook, `$2` when: after its endpoint answered 410 Gone.
pub static DISABLE_WEBHOOK: Query = sql!("UPDATE webhooks SET active = FALSE, updated_at = $2 WHERE id = $1");

/// `$1` webhook.
pub static DELETE_SUBSCRIPTIONS: Query = sql!("DELETE FROM webhook_subscriptions WHERE webhook_id = $1");

/// `$1` webhook, `$2` when.
pub static CANCEL_PENDING: Query = sql!(
    "UPDATE webhook_deliveries SET status = 'cancelled', completed_at = $2, claimed_by = NULL, claimed_until = NULL
     WHERE webhook_id = $1 AND status = 'pending'"
);

/// `$1` now. Only deliveries a claim would take: a pending delivery of a deleted or inactive
/// webhook (on PostgreSQL a fan-out that read the webhook before its deletion committed can
/// commit one after the deletion cancelled the rest) would otherwise make every poll claim.
/// Ordered, so that the due-order index is walked from the oldest: left to choose, the planner
/// took a queue's stale statistics (many pending rows) for a sequential scan that finds one
/// at once, and read the whole table when none was due.
pub static DELIVERIES_DUE: Query = sql!(
    "SELECT EXISTS (SELECT 1 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                    WHERE d.status = 'pending' AND d.next_attempt_at <= $1
                      AND (d.claimed_until IS NULL OR d.claimed_until < $1)
                      AND w.active AND w.deleted_at IS NULL
                    ORDER BY d.next_attempt_at, d.id LIMIT 1)"
);

/// `$1` delivery, the attempt's columns, then `$8` claimer.
pub static INSERT_ATTEMPT: Query = sql!(
    "INSERT INTO webhook_attempts (delivery_id, {}, claimed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    column_list::<AttemptRecord>()
);

/// `$1` marketplace, `$2` partner, `$3` webhook.
pub static DELIVERY_COUNT: Query =
    sql!("SELECT COUNT(*) FROM webhook_deliveries WHERE marketplace_id = $1 AND partner_id = $2 AND webhook_id = $3");

/// A page of a webhook's deliveries, newest first, and its filter (read the rows as
/// `Keyed<DeliveryRecord>` and hand them to `Filter::finish`; `DELIVERY_COUNT` binds
/// `f.condition_args()`).
pub fn delivery_page(
    dialect: Dialect,
    marketplace_id: &str,
    partner_id: &str,
    webhook_id: &str,
    window: &Window,
    limit: u32,
) -> StoreResult<(String, Filter)> {
    let text = |s: &str| Value::Text(std::borrow::Cow::Owned(s.to_owned()));
    let mut f = Filter::new(dialect);
    f.eq("marketplace_id", text(marketplace_id)).eq("partner_id", text(partner_id)).eq("webhook_id", text(webhook_id));
    f.order_by(&[], "created_at DESC, id DESC").window(limit, window)?;
    let sql =
        format!("SELECT {}{} FROM webhook_deliveries{}", DeliveryRecord::select_list(), f.key_select(), f.clause());
    Ok((sql, f))
}

/// `$1` marketplace, `$2` partner, `$3` webhook, `$4` id: a delivery that may be sent again.
pub static REDELIVERABLE: Query = sql!(
    "SELECT {} FROM webhook_deliveries
     WHERE marketplace_id = $1 AND partner_id = $2 AND webhook_id = $3 AND id = $4 AND is_test = FALSE",
    DeliveryRecord::select_list()
);

/// The attempt log's columns, in [`AttemptRecord`]'s order.
pub static ATTEMPT_COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(column_list::<AttemptRecord>);

/// The columns of [`ClaimedDelivery`].
pub static CLAIMED_COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(column_list::<ClaimedDelivery>);
